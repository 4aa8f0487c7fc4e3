"""Migration 0012 (the console's indexes, #20): after every migration the indexes of each table are
the ones the code's metadata (agent/store/schema.py, agent/store/alerting.py ...) declares, on SQLite
and PostgreSQL; the downgrade to 0011 drops the four again and the upgrade brings them back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from agent.store import Store
from agent.store.db import MIGRATIONS
from agent.store.schema import metadata

CONSOLE = {
    ("drift_events", "ix_drift_events_resource", ("resource_id", "at")),
    ("finding_current", "ix_finding_current_resource", ("resource_id",)),
    ("finding_current", "ix_finding_current_order", ("check_id", "resource_id", "uid")),
    ("finding_events", "ix_finding_events_resource", ("resource_id", "at")),
}


def _migrate(store: Store, revision: str, *, down: bool = False) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _indexes(store: Store) -> set[tuple[str, str, tuple[str, ...]]]:
    inspector = sa.inspect(store.engine)
    return {
        (table, str(ix["name"]), tuple(str(c) for c in ix["column_names"]))
        for table in inspector.get_table_names()
        if table in metadata.tables
        for ix in inspector.get_indexes(table)
        if not ix.get("unique")  # unique constraints SQLite reports as indexes are compared by Alembic elsewhere
    }


def _declared() -> set[tuple[str, str, tuple[str, ...]]]:
    # every module declaring tables on the shared metadata
    import agent.store.alerting  # noqa: F401
    import agent.store.devices  # noqa: F401
    import agent.store.evidence_tables  # noqa: F401
    import agent.store.leases  # noqa: F401
    import agent.store.manual  # noqa: F401
    import agent.store.sweep_rows  # noqa: F401

    return {
        (table.name, str(ix.name), tuple(c.name for c in ix.columns))
        for table in metadata.tables.values()
        for ix in table.indexes
        if not ix.unique
    }


def test_migrated_indexes_are_the_declared_ones(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.upgrade()
        declared = _declared()
        assert declared >= CONSOLE
        assert _indexes(store) == declared
    finally:
        store.close()


def test_0012_downgrades_and_upgrades(db_url: str) -> None:
    store = Store(db_url)
    try:
        store.upgrade()
        _migrate(store, "0011", down=True)
        assert not CONSOLE & _indexes(store)
        assert store.revision() == "0011"
        _migrate(store, "head")
        assert _indexes(store) >= CONSOLE
    finally:
        store.close()
