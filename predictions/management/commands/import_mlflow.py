"""manage.py import_mlflow PATH [--name NAME] [--card OVERRIDES.yaml] [--reference SAMPLE.csv] [--trust-pickle] —
serve a model saved by MLflow (``mlflow.sklearn.save_model`` / ``log_model``), without MLflow installed.

The MLmodel file's sklearn flavor gives the model file, its signature the features (double/float → number,
long/integer → integer, boolean, string → category), its input example the features' examples, and the estimator
the task and classes. OVERRIDES is a partial card that completes or corrects that (title, description, units, ranges,
categories of string columns …), features matched by name.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

import ml
from predictions.domain import catalogue
from predictions.domain.errors import RegistrationRefused
from predictions.models import ModelVersion


class Command(BaseCommand):
    help = "Register the scikit-learn model of an MLflow model directory as the next version of a model."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="the MLflow model directory (it holds the MLmodel file)")
        parser.add_argument("--name", help="the model's name at mlsite (default: the directory's name)")
        parser.add_argument("--card", type=Path, metavar="OVERRIDES.yaml", help="a partial card merged over the "
                                                                                  "one read from MLflow")
        parser.add_argument("--reference", type=Path, metavar="SAMPLE.csv", help="a sample of typical inputs")
        parser.add_argument("--trust-pickle", action="store_true",
                            help="the model was saved as pickle/cloudpickle and you trust it (it runs code when "
                                 "loaded); it is converted to skops")

    def handle(self, *args, path: Path, name: str | None, card: Path | None, reference: Path | None,
               trust_pickle: bool, **options) -> None:
        try:
            found = ml.read_mlflow_model(path, name=name)
            if found.serialization == "skops":
                payload = found.model_bytes
                estimator = ml.deserialize(payload)
            elif trust_pickle:
                estimator = ml.load_pickle(found.model_bytes)
                payload = ml.serialize(estimator)
            else:
                raise CommandError(f"{path}: the model is saved as {found.serialization}, which runs code when it is "
                                   "loaded. Pass --trust-pickle if you trust this file, or save it with "
                                   "serialization_format='skops'.")
            draft = ml.complete_mlflow_card(found.card, estimator)
            if card is not None:
                overrides = yaml.safe_load(card.read_text())
                if not isinstance(overrides, dict):
                    raise CommandError(f"{card}: a card (a mapping) was expected.")
                draft = ml.merge_card(draft, overrides)
            row = catalogue.model_register(card=draft, artifact=payload, source=ModelVersion.Source.MLFLOW,
                                           reference_csv=reference.read_bytes() if reference else None)
        except (ml.MLError, RegistrationRefused) as exc:
            problems = getattr(exc, "problems", None) or [str(exc)]
            raise CommandError("not imported:\n  " + "\n  ".join(problems)) from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{row.model.name} v{row.version} imported from MLflow "
                                             f"{found.mlflow_version} ({row.estimator}); served at "
                                             f"/models/{row.model.name}/"))
