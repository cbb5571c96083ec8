"""manage.py purge_predictions --older-than 90d — retention: delete old history in bounded batches."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from predictions.management.durations import parse_duration
from predictions.models import Prediction, PredictionBatch


class Command(BaseCommand):
    help = ("Delete predictions (and emptied batches) older than a duration, in small transactions so the table "
            "stays writable while it runs.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", required=True, metavar="DURATION", help="e.g. 90d, 12h, 2w")
        parser.add_argument("--batch-size", type=int, default=5000, help="rows deleted per transaction")
        parser.add_argument("--dry-run", action="store_true", help="only count what would be deleted")

    def handle(self, *args, older_than: str, batch_size: int, dry_run: bool, **options) -> None:
        try:
            age = parse_duration(older_than)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = timezone.now() - age
        old = Prediction.objects.filter(created_at__lt=cutoff)
        if dry_run:
            self.stdout.write(f"would delete {old.count()} predictions created before {cutoff:%Y-%m-%d %H:%M} UTC")
            return
        started = time.monotonic()
        deleted = 0
        while True:
            # Primary keys first, then a delete by key: each transaction touches at most batch_size rows.
            ids = list(old.order_by("created_at").values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            with transaction.atomic():
                deleted += Prediction.objects.filter(pk__in=ids).delete()[0]
        emptied = PredictionBatch.objects.filter(created_at__lt=cutoff).exclude(
            Exists(Prediction.objects.filter(batch=OuterRef("pk"))))
        batches = emptied.delete()[0]
        self.stdout.write(self.style.SUCCESS(
            f"deleted {deleted} predictions and {batches} batches created before {cutoff:%Y-%m-%d %H:%M} UTC "
            f"in {time.monotonic() - started:.1f}s"))
