"""Who may read and change the prediction history: Django's model permissions, grantable to a group in the admin.

- Reading the history (REST history API, /history/, the dashboard's figures, any result page): a staff account, or
  the ``predictions.view_prediction`` permission (a service account that exports the history).
- Changing it, that is recording feedback (REST feedback API, the admin's feedback form and bulk review):
  ``predictions.change_prediction``. Superusers hold every permission.
An API token identifies its user and carries exactly that user's permissions: a token alone opens nothing beyond
predicting. README "Security" shows how to make a "reviewers" group and a predict-only client.
"""

from __future__ import annotations

from typing import Any

VIEW_HISTORY = "predictions.view_prediction"
REVIEW = "predictions.change_prediction"


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_read_history(user: Any) -> bool:
    return _active(user) and (user.is_staff or user.has_perm(VIEW_HISTORY))


def can_review(user: Any) -> bool:
    return _active(user) and user.has_perm(REVIEW)
