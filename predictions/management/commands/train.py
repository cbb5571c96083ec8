"""manage.py train [name ...] [--algorithm NAME] [--missing] — train, evaluate and save new model versions."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import ml


class Command(BaseCommand):
    help = "Train models on their data sets, evaluate on a held-out split and write version N+1 to MODEL_DIR."

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", metavar="name", help=f"models to train (default: all of "
                                                                     f"{', '.join(ml.SPECS)})")
        parser.add_argument("--algorithm", help="algorithm to use instead of the model's default")
        parser.add_argument("--missing", action="store_true", help="only train models that have no version yet")
        parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same metrics)")

    def handle(self, *args, names: list[str], algorithm: str | None, missing: bool, seed: int, **options) -> None:
        names = names or list(ml.SPECS)
        for name in names:
            if name not in ml.SPECS:
                raise CommandError(f"Unknown model {name!r}; choose from: {', '.join(ml.SPECS)}.")
        registry = ml.Registry(settings.MODEL_DIR)
        for name in names:
            if missing and registry.versions(name):
                self.stdout.write(f"{name}: version {registry.versions(name)[-1]} present, not retraining")
                continue
            try:
                result = ml.train(name, settings.MODEL_DIR, algorithm=algorithm, seed=seed)
            except ml.ModelNotFound as exc:
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
