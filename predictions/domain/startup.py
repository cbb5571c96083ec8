"""Start-up work of a serving process: read the catalogue, load and verify every default version, loudly."""

from __future__ import annotations

import logging

from predictions.domain import metrics
from predictions.domain.serving import get_registry, refresh

log = logging.getLogger("mlsite.startup")


def load_models() -> dict[str, str | None]:
    """Load each default model; log a clear error for any that is refused or missing. Returns name → error."""
    registry = get_registry()
    refresh(registry, force=True)
    outcome = registry.load_defaults()
    for name, error in outcome.items():
        if error:
            log.error("model %s is NOT served: %s", name, error)
    metrics.record_loaded_models(registry.loaded_models())
    for model in registry.loaded_models():
        log.info("serving %s v%s (%s)", model.name, model.version, model.manifest.get("algorithm"))
    return outcome
