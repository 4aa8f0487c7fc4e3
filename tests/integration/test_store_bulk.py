"""agent/store/bulk.py writes what SQLAlchemy's own executemany writes: the same stored values (UTC
datetimes included) on SQLite, where it bypasses SQLAlchemy's per-row work, and on PostgreSQL, where
it hands the rows to SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from agent.store.bulk import execute_many
from agent.store.schema import UTCDateTime

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))])
ROW = st.fixed_dictionaries(
    {
        "message": st.text(
            st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=40
        ),  # PostgreSQL text holds no NUL
        "status": st.sampled_from(["pass", "fail", "error"]),
        "previous": st.none() | st.sampled_from(["pass", "fail"]),
        "at": st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=ZONES),
    }
)


def _tables() -> tuple[sa.MetaData, sa.Table, sa.Table]:
    meta = sa.MetaData()
    cols = lambda: [  # noqa: E731
        sa.Column("uid", sa.String(32), primary_key=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("previous", sa.String(16), nullable=True),
        sa.Column("at", UTCDateTime, nullable=False),
    ]
    return meta, sa.Table("bulk_mine", meta, *cols()), sa.Table("bulk_theirs", meta, *cols())


def _upsert(conn: sa.Connection, table: sa.Table) -> Any:
    stmt = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_update(
        index_elements=["uid"], set_={c: stmt.excluded[c] for c in ("message", "status", "at")}
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.lists(ROW, max_size=30), again=st.lists(ROW, max_size=30))
def test_rows_are_stored_as_sqlalchemy_stores_them(db_url: str, first: list[dict], again: list[dict]) -> None:
    engine = sa.create_engine(db_url)
    meta, mine, theirs = _tables()
    try:
        meta.create_all(engine)
        with engine.begin() as conn:
            for batch in (first, again):  # the second batch updates the first one's rows on conflict
                rows = [{"uid": f"u{i}", **r} for i, r in enumerate(batch)]
                execute_many(conn, sa.insert(mine) if batch is first else _upsert(conn, mine), mine, rows)
                if rows:
                    conn.execute(sa.insert(theirs) if batch is first else _upsert(conn, theirs), rows)
            ours = conn.execute(sa.select(mine).order_by(mine.c.uid)).all()
            raw = conn.execute(sa.text("SELECT * FROM bulk_mine ORDER BY uid")).all()
            assert ours == conn.execute(sa.select(theirs).order_by(theirs.c.uid)).all()
            assert raw == conn.execute(sa.text("SELECT * FROM bulk_theirs ORDER BY uid")).all()
    finally:
        meta.drop_all(engine)
        engine.dispose()
