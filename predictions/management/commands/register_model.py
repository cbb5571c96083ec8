"""manage.py register_model CARD MODEL [--reference SAMPLE.csv] [--trust-pickle] — serve your own model.

CARD is a model card (YAML or JSON, see /api/model-card.schema.json); MODEL a scikit-learn estimator saved with
skops (``skops.io.dump(model, "model.skops")``). The model becomes version N+1 of the card's name, served by every
worker within seconds. A joblib/pickle file runs code when loaded: it is accepted only with --trust-pickle, which says
you, the operator, trust the file; it is then converted to skops and never loaded as a pickle again.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from predictions.domain import catalogue
from predictions.domain.errors import RegistrationRefused
from predictions.models import ModelVersion


class Command(BaseCommand):
    help = "Register a model card and a skops model file as the next version of that model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("card", type=Path, help="the model card, YAML or JSON")
        parser.add_argument("model", type=Path, help="the model file, saved with skops.io.dump")
        parser.add_argument("--reference", type=Path, metavar="SAMPLE.csv",
                            help="a sample of typical inputs (the card's feature columns, optionally the target): "
                                 "the reference the dashboard measures input drift against")
        parser.add_argument("--trust-pickle", action="store_true",
                            help="MODEL is a joblib/pickle file that you trust: load it once and store it as skops")

    def handle(self, *args, card: Path, model: Path, reference: Path | None, trust_pickle: bool, **options) -> None:
        try:
            row = catalogue.model_register(
                card=_read(card, text=True), artifact=_read(model), source=ModelVersion.Source.REGISTERED,
                reference_csv=_read(reference) if reference else None, trust_pickle=trust_pickle)
        except RegistrationRefused as exc:
            raise CommandError("not registered:\n  " + "\n  ".join(exc.problems)) from None
        self.stdout.write(self.style.SUCCESS(f"{row.model.name} v{row.version} registered ({row.estimator}, "
                                             f"sha256 {row.sha256[:16]}…); served at /models/{row.model.name}/ and "
                                             f"/api/models/{row.model.name}/predict"))


def _read(path: Path, *, text: bool = False) -> str | bytes:
    try:
        return path.read_text() if text else path.read_bytes()
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
