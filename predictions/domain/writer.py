"""Writing history rows with as little overhead as the database allows.

The ORM is right for everything else; on the prediction path its per-call SQL compilation is a large share of a
request (one row) or of a batch (10,000 rows). Both writers here derive their statements from the model's fields once
and pass every value through its field's own get_db_prep_save, exactly as the ORM would send it.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connection, connections

from predictions.models import Prediction

FIELDS = [field for field in Prediction._meta.concrete_fields if not field.primary_key]
_statements: dict[tuple[str, str], str] = {}


def _statement(kind: str) -> str:
    key = (connection.alias, kind)
    if key not in _statements:
        quote = connection.ops.quote_name
        table = quote(Prediction._meta.db_table)
        pk = quote(Prediction._meta.pk.column)
        columns = ", ".join(quote(field.column) for field in FIELDS)
        _statements[key] = {
            "insert": f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(FIELDS))}) RETURNING {pk}",
            "ids": f"SELECT nextval(pg_get_serial_sequence('{Prediction._meta.db_table}', "
                   f"'{Prediction._meta.pk.column}')) FROM generate_series(1, %s)",
            "copy": f"COPY {table} ({pk}, {columns}) FROM STDIN",
        }[kind]
    return _statements[key]


def _values(row: Prediction, wrapper) -> list:
    # ``wrapper`` is the real connection object: the ``connection`` proxy costs a lookup on every attribute access,
    # 16 fields x 10,000 rows of them.
    return [field.get_db_prep_save(field.pre_save(row, True), wrapper) for field in FIELDS]


def _mark_saved(row: Prediction) -> None:
    row._state.adding = False
    row._state.db = connection.alias


def insert_one(row: Prediction) -> None:
    """``row.save(force_insert=True)`` as one INSERT ... RETURNING, without the ORM's SQL compilation."""
    if not connection.features.can_return_columns_from_insert:
        row.save(force_insert=True)
        return
    with connection.cursor() as cursor:
        cursor.execute(_statement("insert"), _values(row, connections[DEFAULT_DB_ALIAS]))
        row.pk = cursor.fetchone()[0]
    _mark_saved(row)


def insert_many(rows: list[Prediction]) -> None:
    """Insert ``rows`` inside the caller's transaction. On PostgreSQL: primary keys drawn from the sequence in one
    query, then one COPY — several times faster than multi-row INSERTs for thousands of rows. Elsewhere
    bulk_create."""
    if connection.vendor != "postgresql" or not rows:
        Prediction.objects.bulk_create(rows, batch_size=2000)
        return
    wrapper = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute(_statement("ids"), [len(rows)])
        ids = [pk for (pk,) in cursor.fetchall()]
        with cursor.cursor.copy(_statement("copy")) as copy:
            for pk, row in zip(ids, rows, strict=True):
                row.pk = pk
                copy.write_row([pk, *_values(row, wrapper)])
    for row in rows:
        _mark_saved(row)
