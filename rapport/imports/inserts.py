"""Insert many rows of a model with one prepared statement, bypassing model instances.

The bulk import writes millions of rows (milestones, tasks, answers) per 100,000
accounts; building a model instance per row costs more than the database spends storing
it. Here a caller names the columns it sets and passes rows of values already adapted
for the database; every other column gets the value Django would give it (its default,
or now for `auto_now` fields), computed once per statement rather than once per row.
"""

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models import NOT_PROVIDED, Field, Model


def value_adapt(model: type[Model], name: str, value: Any) -> Any:
    """Return *value* as the database takes it for the field *name* of *model*."""
    field: Field[Any, Any] = model._meta.get_field(name)  # type: ignore[assignment]
    return field.get_db_prep_save(value, connection)


class RowsInsert:
    """A prepared INSERT into *model*'s table for the fields *names*, the rest defaulted."""

    def __init__(self, model: type[Model], names: Sequence[str], *, now: datetime.datetime) -> None:
        meta = model._meta
        given = set(names)
        columns = [str(getattr(meta.get_field(name), "column", name)) for name in names]
        rest: list[Any] = []
        for field in meta.concrete_fields:
            if field.name in given or field.attname in given or field.primary_key:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value: Any = now
            elif field.has_default() or field.db_default is NOT_PROVIDED:
                value = field.get_default()
            else:
                continue  # the database's own default fills it
            columns.append(str(field.column))
            rest.append(field.get_db_prep_save(value, connection))
        self.rest = tuple(rest)
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model
            quote(meta.db_table),
            ", ".join(quote(column) for column in columns),
            ", ".join(["%s"] * len(columns)),
        )

    def run(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert *rows* (tuples of the named fields' values, in order)."""
        rest = self.rest
        with connection.cursor() as cursor:
            cursor.executemany(self.sql, [row + rest for row in rows])


def ids_reserve(model: type[Model], count: int) -> list[int]:
    """Return *count* primary keys for rows of *model* that the caller inserts itself.

    On SQLite the write transaction holds the database's only write lock, so the keys
    after the largest ever handed out (AUTOINCREMENT never reuses one) stay free until it
    commits. PostgreSQL hands them out from the table's own sequence.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            if not connection.in_atomic_block:
                raise RuntimeError("Reserve SQLite keys inside the transaction that uses them.")
            # Only the model's table name goes into the text; the value is a parameter.
            sequence = "SELECT seq FROM sqlite_sequence WHERE name = %s"
            largest = f"SELECT MAX(id) FROM {quote(table)}"  # noqa: S608
            sql = f"SELECT MAX(COALESCE(({sequence}), 0), COALESCE(({largest}), 0))"  # noqa: S608
            cursor.execute(sql, [table])
            (last,) = cursor.fetchone()
            return list(range(last + 1, last + count + 1))
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
    raise NotImplementedError(f"No key reservation for {connection.vendor}.")
