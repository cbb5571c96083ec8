"""manage.py models [--pin NAME=VERSION] [--unpin NAME] [--remove NAME=VERSION] [--adopt] — the model catalogue:
every model and version, which one is served by default, and the changes an operator makes to it. Every worker and
replica follows a change within MODEL_CATALOGUE_REFRESH seconds, without a restart."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

import ml
from predictions.domain import catalogue, serving
from predictions.domain.errors import RegistrationRefused


class Command(BaseCommand):
    help = "List the served models and versions; pin, unpin or remove a version; adopt artifacts in MODEL_DIR."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--pin", metavar="NAME=VERSION", help="serve VERSION of NAME by default")
        parser.add_argument("--unpin", metavar="NAME", help="serve the newest version of NAME again")
        parser.add_argument("--remove", metavar="NAME=VERSION", help="stop serving VERSION of NAME and retire it")
        parser.add_argument("--adopt", action="store_true",
                            help="add every version found in MODEL_DIR that the catalogue lacks (after a restore)")

    def handle(self, *args, pin: str | None, unpin: str | None, remove: str | None, adopt: bool, **options) -> None:
        try:
            if pin:
                name, _, version = pin.partition("=")
                catalogue.model_pin(name=name, version=version)
                self.stdout.write(self.style.SUCCESS(f"{name}: v{version} pinned as the default"))
            if unpin:
                catalogue.model_pin(name=unpin, version=None)
                self.stdout.write(self.style.SUCCESS(f"{unpin}: unpinned; the newest version is the default"))
            if remove:
                name, _, version = remove.partition("=")
                catalogue.version_remove(name=name, version=version)
                self.stdout.write(self.style.SUCCESS(f"{name}: v{version} removed"))
            if adopt:
                for row in catalogue.models_adopt_all():
                    self.stdout.write(self.style.SUCCESS(f"{row}: adopted from MODEL_DIR"))
        except (ml.ModelNotFound, RegistrationRefused) as exc:
            raise CommandError(str(exc)) from None
        registry = serving.get_registry()
        serving.refresh(registry, force=True)
        self.stdout.write(f"MODEL_DIR {settings.MODEL_DIR}")
        self.stdout.write(f"{'model':16} {'version':>7}  {'default':8} {'algorithm':28} {'created':22} "
                          "status / metrics")
        if not registry.names():
            self.stdout.write("(no model yet: `manage.py train` trains iris and diamonds; `manage.py register_model` "
                              "registers your own)")
        for status in registry.status():
            for version in reversed(status.versions):
                mark = "default" if version == status.default_version else ""
                try:
                    registry.get(status.name, version)
                    manifest = ml.read_manifest(settings.MODEL_DIR, status.name, version)
                    metrics = ", ".join(f"{k}={v}" for k, v in (manifest.get("metrics") or {}).items()
                                        if not isinstance(v, list))
                    line = f"{manifest.get('algorithm', ''):28} {manifest['created_at']:22} ok  {metrics}"
                except (ml.ModelUnavailable, ml.ArtifactRefused, ml.ModelNotFound) as exc:
                    line = f"{'':28} {'':22} " + self.style.ERROR(f"REFUSED: {exc}")
                self.stdout.write(f"{status.name:16} {version:>7}  {mark:8} {line}")
