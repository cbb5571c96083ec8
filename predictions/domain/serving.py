"""The Django side's only door to the model layer: the registry of the configured MODEL_DIR.

Registries are kept per directory, so changing MODEL_DIR (tests do) simply selects another registry.
"""

from __future__ import annotations

from django.conf import settings

import ml


def get_registry() -> ml.Registry:
    return ml.registry_for(settings.MODEL_DIR)
