"""manage.py models [--pin NAME=VERSION] [--unpin NAME] — list model versions and choose the served default."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import ml


class Command(BaseCommand):
    help = "List trained model versions, which one is served by default, and pin or unpin a default."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pin", metavar="NAME=VERSION", help="serve VERSION of NAME by default")
        parser.add_argument("--unpin", metavar="NAME", help="serve the newest version of NAME again")

    def handle(self, *args, pin: str | None, unpin: str | None, **options) -> None:
        model_dir = settings.MODEL_DIR
        try:
            if pin:
                name, _, version = pin.partition("=")
                ml.get_spec(name)
                ml.pin_version(model_dir, name, version)
                self.stdout.write(self.style.SUCCESS(f"{name}: v{version} pinned as the default; "
                                                     "restart or reload (kill -HUP) the server to serve it"))
            if unpin:
                ml.get_spec(unpin)
                ml.pin_version(model_dir, unpin, None)
                self.stdout.write(self.style.SUCCESS(f"{unpin}: unpinned; the newest version is the default"))
        except ml.ModelNotFound as exc:
            raise CommandError(str(exc)) from None
        registry = ml.Registry(model_dir)
        self.stdout.write(f"MODEL_DIR {model_dir}")
        header = f"{'model':10} {'version':>7}  {'default':8} {'algorithm':24} {'created':22} status / metrics"
        self.stdout.write(header)
        for status in registry.status():
            if not status.versions:
                self.stdout.write(f"{status.name:10} {'-':>7}  {'':8} {'':24} {'':22} "
                                  f"not trained: run `manage.py train {status.name}`")
            for version in reversed(status.versions):
                is_default = version == status.default_version
                mark = ("pinned" if status.pinned else "newest") if is_default else ""
                try:
                    registry.get(status.name, version)
                    manifest = ml.read_manifest(model_dir, status.name, version)
                    metrics = ", ".join(f"{k}={v}" for k, v in manifest["metrics"].items() if not isinstance(v, list))
                    line = f"{manifest['algorithm']:24} {manifest['created_at']:22} ok  {metrics}"
                except (ml.ModelUnavailable, ml.ArtifactRefused) as exc:
                    line = f"{'':24} {'':22} " + self.style.ERROR(f"REFUSED: {exc}")
                self.stdout.write(f"{status.name:10} {version:>7}  {mark:8} {line}")
