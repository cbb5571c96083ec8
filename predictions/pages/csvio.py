"""CSV in and out for batch predictions: read an upload into feature rows, write scored rows back out.

Reading streams the file line by line (Django keeps large uploads in a temporary file); writing yields one line at a
time so a 100,000-row result never sits in memory as one string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from ml import FeatureSchema
from predictions.http.display import csv_lines, error_text


class CsvProblem(ValueError):
    """The file as a whole cannot be used (not text, not CSV, wrong header, too many rows); the message says why."""


def template_rows(schema: FeatureSchema) -> list[list[Any]]:
    example = schema.example()
    return [list(example), list(example.values())]


def read_rows(binary: Any, schema: FeatureSchema, *, max_rows: int) -> list[dict[str, str]]:
    """Rows of the upload as {feature: text}, in file order. Raises CsvProblem for a file that is not usable."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise CsvProblem("The file is empty. The first line must name the columns, e.g. "
                             f"{','.join(schema.example())}.")
        columns = _columns(header, schema)
        rows: list[dict[str, str]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, e.g. a trailing newline saved by a spreadsheet
            if len(rows) == max_rows:
                raise CsvProblem(f"The file has more than {max_rows:,} rows; split it into smaller files.")
            row = dict(zip(columns, cells, strict=False))  # fewer cells: those features are missing
            if len(cells) > len(columns):
                row["extra cells"] = ",".join(cells[len(columns):])  # refused by validation as an unknown field
            rows.append(row)
    except UnicodeDecodeError as exc:
        raise CsvProblem("The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again.") from exc
    except csv.Error as exc:
        raise CsvProblem(f"The file is not valid CSV (line {reader.line_num}): {exc}.") from exc
    finally:
        text.detach()
    if not rows:
        raise CsvProblem("The file has a header but no rows to score.")
    return rows


def _columns(header: list[str], schema: FeatureSchema) -> list[str]:
    # Header cells name features whatever their case ("Carat" is carat), as people type them in spreadsheets.
    by_lower = {name.lower(): name for name in schema.accepted_names}
    columns = [by_lower.get(name.strip().lower(), name.strip()) for name in header]
    accepted = set(schema.accepted_names)
    unknown = [name for name in columns if name not in accepted]
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise CsvProblem(f"Unknown column(s) {shown}. The header must name features from: "
                         f"{', '.join(schema.accepted_names)}.")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise CsvProblem(f"Column(s) named twice: {', '.join(repeated)}.")
    missing = []
    for feature in schema.features:
        derivation = schema.derivation_for(feature.name)
        if feature.name in columns:
            continue
        if derivation is not None and all(source in columns for source in derivation.source_names):
            continue
        missing.append(feature.name if derivation is None
                       else f"{feature.name} (or all of {', '.join(derivation.source_names)})")
    if missing:
        raise CsvProblem(f"Missing column(s): {', '.join(missing)}.")
    return columns


def result_header(schema: FeatureSchema, labels: tuple[str, ...]) -> list[str]:
    header = ["row", *schema.accepted_names, "status", "prediction"]
    if labels:
        header += ["label", *[f"probability_{label}" for label in labels]]
    return [*header, "error"]


def result_lines(schema: FeatureSchema, labels: tuple[str, ...], records: Iterable[Any]) -> Iterator[str]:
    """The scored CSV, one line per yield: the inputs as recorded, then status, prediction (and label and class
    probabilities for classifiers) or the reasons a row was refused."""

    def rows() -> Iterator[list[Any]]:
        yield result_header(schema, labels)
        for number, record in enumerate(records, start=1):
            inputs = record.inputs if isinstance(record.inputs, dict) else {}
            outputs = record.outputs if isinstance(record.outputs, dict) else {}
            cells: list[Any] = [number, *[inputs.get(name, "") for name in schema.accepted_names], record.status,
                                outputs.get("prediction", "")]
            if labels:
                probabilities = outputs.get("probabilities") or {}
                cells += [outputs.get("label", ""), *[probabilities.get(label, "") for label in labels]]
            cells.append(error_text(record.error))
            yield cells

    return csv_lines(rows(), bom=True)
