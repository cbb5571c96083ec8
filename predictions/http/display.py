"""How records look to people, wherever they are shown: one CSV writer for every download, an error as one line of
text, money. Used by the pages, the admin and the templates alike."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any


def csv_lines(rows: Iterable[list[Any]], *, bom: bool = False) -> Iterator[str]:
    """The one CSV writer of every download (scored batches, the admin's export): one line per yield, so a file of
    millions of rows never sits in memory, and every text cell a spreadsheet would run as a formula (=, +, -, @, tab,
    carriage return first) written as text. With ``bom`` the first line starts with a UTF-8 byte-order mark, which
    makes Excel read the file as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    prefix = codecs.BOM_UTF8.decode() if bom else ""
    for cells in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_safe(cell) for cell in cells])
        yield prefix + buffer.getvalue()
        prefix = ""


def error_text(error: Any) -> str:
    """A recorded error body as one readable line: "carat: Must be a number.; cut: Unknown cut ..."."""
    if not isinstance(error, dict) or not error:
        return ""
    fields = error.get("fields")
    if isinstance(fields, dict) and fields:
        return "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in fields.items())
    return str(error.get("message", ""))


def _safe(cell: Any) -> Any:
    # Spreadsheet formula injection: a text cell starting with =, +, - or @ is shown as text, not evaluated.
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def money(value: Any) -> str:
    """12345.678 → "$12,345.68"; anything that is not a number is shown as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return f"${value:,.2f}"
