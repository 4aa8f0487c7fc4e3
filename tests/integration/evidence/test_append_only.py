"""Migration 0004: evidence tables refuse UPDATE and DELETE on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from agent.store import Store
from tests.integration.evidence.helpers import T0, seed

STATEMENTS = [
    "UPDATE runs SET status = 'complete'",
    "DELETE FROM runs",
    "UPDATE snapshots SET results_hash = 'x'",
    "DELETE FROM snapshots",
    "UPDATE blobs SET size = 1",
    "DELETE FROM blobs",
    "UPDATE finding_events SET status = 'pass'",
    "DELETE FROM finding_events",
    "UPDATE evidence_log SET kind = 'x'",
    "DELETE FROM evidence_log",
    "UPDATE drift_events SET kind = 'x'",
    "DELETE FROM drift_events",
    "UPDATE manual_evidence SET owner = 'x'",
    "UPDATE exceptions SET reason = 'x'",
    "DELETE FROM exceptions",
]


@pytest.mark.parametrize("sql", STATEMENTS)
def test_evidence_tables_refuse_changes(store: Store, sql: str) -> None:
    seed(store)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text(sql))


def test_mutable_state_stays_mutable(store: Store) -> None:
    seed(store)
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(  # seed() delivers no alert: one pending outbox row to update
                "INSERT INTO alerts_outbox (dedup_key, channel, kind, payload, state, attempts, created_at, "
                "next_attempt_at, last_error) VALUES ('k', 'slack', 'failure', '{}', 'pending', 0, :t, :t, '')"
            ),
            {"t": T0},
        )
        assert conn.execute(sa.text("UPDATE finding_current SET message = 'cache'")).rowcount > 0
        assert conn.execute(sa.text("UPDATE exceptions SET warned_at = expires_at")).rowcount > 0
        assert conn.execute(sa.text("UPDATE alerts_outbox SET attempts = attempts + 1")).rowcount == 1


def test_truncate_refused_on_postgres(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL only")
    seed(store)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE evidence_log"))
