"""manage.py train [name ...] [--algorithm NAME] [--missing] — train the shipped models (iris, diamonds: the ones
with a training recipe), evaluate them, store each as a new version and add it to the catalogue. Any other model is
registered (register_model, import_mlflow, or the admin)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import ml
from predictions.domain import catalogue
from predictions.domain.errors import RegistrationRefused
from predictions.models import ModelVersion


class Command(BaseCommand):
    help = "Train models on their data sets, evaluate on a held-out split and write version N+1 to MODEL_DIR."

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", metavar="name", help=f"models to train (default: all of "
                                                                     f"{', '.join(ml.RECIPES)})")
        parser.add_argument("--algorithm", help="algorithm to use instead of the model's default")
        parser.add_argument("--missing", action="store_true", help="only train models that have no version yet")
        parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same metrics)")

    def handle(self, *args, names: list[str], algorithm: str | None, missing: bool, seed: int, **options) -> None:
        names = names or list(ml.RECIPES)
        for name in names:
            if name not in ml.RECIPES:
                raise CommandError(f"No training recipe for {name!r}; mlsite trains {', '.join(ml.RECIPES)}. "
                                   "Register any other model with manage.py register_model.")
        for name in names:
            served = ModelVersion.objects.filter(model__name=name).order_by("-version").first()
            if missing and served is not None:
                self.stdout.write(f"{name}: version {served.version} in the catalogue, not retraining")
                continue
            try:
                result = ml.train(name, settings.MODEL_DIR, algorithm=algorithm, seed=seed,
                                  at_least=catalogue.next_version(name))
                catalogue.model_adopt(name=name, version=result.version, source=ModelVersion.Source.TRAINED)
            except (ml.ModelNotFound, RegistrationRefused) as exc:
                raise CommandError(str(exc)) from None
            self._report(result)

    def _report(self, result: ml.TrainResult) -> None:
        manifest = result.manifest
        data = manifest["data"]
        self.stdout.write(self.style.SUCCESS(
            f"{result.name} v{result.version} ({manifest['algorithm']}) → {result.path}"))
        self.stdout.write(f"  rows: {data['rows_raw']} read, {data['rows_clean']} after cleaning, "
                          f"{data['rows_train']} train / {data['rows_test']} test")
        dropped = {rule: n for rule, n in data.get("cleaning_dropped", {}).items() if n}
        if dropped:
            self.stdout.write("  dropped: " + ", ".join(f"{n} × {rule}" for rule, n in dropped.items()))
        width = max(len(key) for key in manifest["metrics"])
        self.stdout.write(f"  {'metric'.ljust(width)}  value")
        for key, value in manifest["metrics"].items():
            if not isinstance(value, list):
                self.stdout.write(f"  {key.ljust(width)}  {value}")
        self.stdout.write(f"  artifact: {manifest['size_bytes'] / 1e6:.2f} MB, sha256 {manifest['sha256'][:16]}…, "
                          f"fit {manifest['training']['fit_seconds']} s")
