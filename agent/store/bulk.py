"""Many rows of one statement through the driver's executemany, without SQLAlchemy's per-row work.

A cycle of a large account writes thousands of finding rows; SQLAlchemy's executemany prepares each
row's parameters one by one through every bind processor of the statement (py-spy: most of the time
of the finding writes). Here the statement is compiled once, only the columns whose type has a bind
processor (our UTC datetimes) are converted, and the driver gets plain tuples. The stored values are
those SQLAlchemy would store: the same statement, the same processors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.sql.dml import Insert

__all__ = ["execute_many"]


def execute_many(conn: Connection, stmt: Insert, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Execute the insert ``stmt`` on ``table`` once per row of ``rows`` (dicts with the same keys,
    one per column written). Only for a driver with positional parameters (SQLite's qmark); any
    other runs through SQLAlchemy's own executemany."""
    if not rows:
        return
    keys = list(rows[0])
    compiled = stmt.compile(dialect=conn.dialect, column_keys=keys)
    if not compiled.positional or compiled.positiontup is None or sorted(compiled.positiontup) != sorted(keys):
        conn.execute(stmt, list(rows))
        return
    order = list(compiled.positiontup)
    processors: list[tuple[int, Callable[[Any], Any]]] = []
    for i, key in enumerate(order):
        processor = table.c[key].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        if processor is not None:
            processors.append((i, processor))
    params: list[tuple[Any, ...]] = []
    for row in rows:
        values = [row[k] for k in order]
        for i, process in processors:
            values[i] = process(values[i])
        params.append(tuple(values))
    conn.exec_driver_sql(compiled.string, params)
