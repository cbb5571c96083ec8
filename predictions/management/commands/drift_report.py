"""manage.py drift_report --model diamonds --since 7d — the dashboard's input drift table, for cron and alerts.

Exit status: 0 when no feature reaches --fail-on (default: significant, PSI ≥ 0.25), 1 when one does, 2 when the
report cannot be made (unknown model, bad duration, no training distribution in the manifest). A window without
scored rows is "no data" and exits 0: silence is not drift, and /metrics shows the traffic.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

import ml
from predictions.domain import selectors, stats
from predictions.management.durations import parse_duration

LEVELS = ("stable", "moderate", "significant")


class Command(BaseCommand):
    help = "Print the PSI of each input feature over a recent window against the training data; exit 1 on drift."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", required=True, help="a model of the catalogue (manage.py models)")
        parser.add_argument("--since", default="7d", metavar="DURATION", help="window up to now: 24h, 7d, 2w …")
        parser.add_argument("--fail-on", choices=["moderate", "significant", "never"], default="significant",
                            help="lowest drift level that makes the exit status 1 (default: significant)")
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")

    def handle(self, *args, model: str, since: str, fail_on: str, as_json: bool, **options) -> None:
        if model not in selectors.model_names():
            raise CommandError(f"Unknown model {model!r}; the catalogue has: {', '.join(selectors.model_names())}.",
                               returncode=2)
        try:
            span = parse_duration(since)
            end = timezone.now()
            start = end - span
        except (ValueError, OverflowError) as exc:
            raise CommandError(f"--since: {exc}", returncode=2) from None
        report = stats.input_drift(model=model, start=start, end=end)
        if report.problem:
            raise CommandError(report.problem, returncode=2)
        self.stdout.write(_as_json(report, start, end) if as_json else _as_table(report, start, end))
        if fail_on != "never" and any(f.level in LEVELS[LEVELS.index(fail_on):] for f in report.features):
            raise CommandError(f"{model}: input drift at or above {fail_on} "
                               f"({', '.join(f.name for f in report.features if f.level == report.worst)})",
                               returncode=1)


def _as_table(report: stats.DriftReport, start, end) -> str:
    lines = [f"{report.model} input drift {start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC against the training "
             f"data of v{report.reference_version} (PSI: < {ml.PSI_MODERATE} stable, "
             f"≥ {ml.PSI_SIGNIFICANT} significant)",
             f"{'feature':14} {'PSI':>8}  {'level':12} {'rows':>8}"]
    for f in report.features:
        value = f"{f.psi:.4f}" if f.psi is not None else "-"
        lines.append(f"{f.name:14} {value:>8}  {f.level:12} {f.rows:>8}")
    if report.sampled < report.rows:
        lines.append(f"(on {report.sampled} rows spread evenly over the window's {report.rows})")
    return "\n".join(lines)


def _as_json(report: stats.DriftReport, start, end) -> str:
    return json.dumps({
        "model": report.model, "reference_version": report.reference_version, "start": start.isoformat(),
        "end": end.isoformat(), "rows": report.rows, "sampled": report.sampled, "worst": report.worst,
        "features": [{"name": f.name, "psi": f.psi, "level": f.level, "rows": f.rows} for f in report.features],
    }, indent=2)
