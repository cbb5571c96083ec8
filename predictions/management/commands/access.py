"""manage.py access reviewer USER | access client NAME — the two kinds of account most sites need.

- ``reviewer USER``: USER (who must exist, e.g. from createsuperuser or the admin) joins the "reviewers" group, which
  may read the history and record feedback (predictions.view_prediction, change_prediction), and becomes staff so
  that the admin, /history/ and /dashboard/ open. The group is created on first use and can be edited in the admin.
- ``client NAME``: a predict-only API client: a user without password, staff flag or permission, and its API token
  (printed). The token predicts on every channel and is refused (403) on the history and feedback APIs.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

REVIEWERS = "reviewers"
REVIEWER_PERMISSIONS = ("view_prediction", "change_prediction", "view_predictionbatch")


def reviewers_group() -> Group:
    group, _ = Group.objects.get_or_create(name=REVIEWERS)
    group.permissions.add(*Permission.objects.filter(content_type__app_label="predictions",
                                                     codename__in=REVIEWER_PERMISSIONS))
    return group


class Command(BaseCommand):
    help = "Make USER a reviewer (history and feedback), or create a predict-only API client and print its token."

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=["reviewer", "client"])
        parser.add_argument("name", help="user name")

    def handle(self, *args, kind: str, name: str, **options) -> None:
        users = get_user_model()
        if kind == "reviewer":
            try:
                user = users.objects.get(username=name)
            except users.DoesNotExist:
                raise CommandError(f"No user {name!r}; create one first (manage.py createsuperuser, or the "
                                   "admin).") from None
            user.groups.add(reviewers_group())
            if not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            self.stdout.write(self.style.SUCCESS(f"{name} is a reviewer: history, dashboard and feedback."))
            return
        user, created = users.objects.get_or_create(username=name)
        if created:
            user.set_unusable_password()  # an API client never signs in to the pages
            user.save(update_fields=["password"])
        elif user.is_staff or user.is_superuser or user.user_permissions.exists() or user.groups.exists():
            raise CommandError(f"{name!r} is an existing account with more rights than predicting; "
                               "choose a new name for the client.")
        token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
