"""Append-only evidence: triggers refusing UPDATE/DELETE on evidence tables, signed checkpoints,
and one audited pruning path.

PostgreSQL: a trigger function refuses UPDATE, DELETE (and TRUNCATE) unless the transaction-local
setting ``posture.pruning`` is ``on``, which only ``posture_prune(cutoff)`` sets (and it only lets
DELETE through, never UPDATE). SQLite: triggers refuse the same unless the one-row
``evidence_prune_guard`` says a pruning transaction is running (BEGIN IMMEDIATE makes the flip
invisible to other writers; the pruning code flips it back before committing).

``exceptions`` is locked except ``warned_at``/``expired_at`` (notice bookkeeping); ``finding_current``
(a derived cache) and ``alerts_outbox`` (delivery state) stay mutable by design.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

LOCKED = (
    "runs",
    "snapshots",
    "blobs",
    "finding_events",
    "evidence_log",
    "manual_evidence",
    "drift_events",
    "evidence_checkpoints",
)
EXCEPTION_COLUMNS = ("id", "check_id", "resource_pattern", "reason", "owner", "created_at", "expires_at")

PG_FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION posture_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('posture.pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'posture-agent evidence is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE OR REPLACE FUNCTION posture_prune(cutoff timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- the only way to delete evidence: transaction-local, so it ends with the pruning transaction
    PERFORM set_config('posture.pruning', 'on', true);
    RAISE NOTICE 'posture-agent retention pruning of evidence before %', cutoff;
END $$;
"""


def _checkpoints() -> None:
    op.create_table(
        "evidence_checkpoints",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("head_seq", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("pruned_through", sa.BigInteger, nullable=False),  # 0: nothing pruned
        sa.Column("pruned_hash", sa.String(64), nullable=False),  # entry hash of the last pruned entry
        sa.Column("prev_hash", sa.String(64), nullable=False),  # checkpoint_hash of the previous one
        sa.Column("checkpoint_hash", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("signature", sa.Text, nullable=True),  # base64 Ed25519 over the canonical body
    )
    op.create_table(
        "evidence_prune_guard",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("active", sa.Integer, nullable=False),
    )
    op.execute("INSERT INTO evidence_prune_guard (id, active) VALUES (1, 0)")


def upgrade() -> None:
    _checkpoints()
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for table in LOCKED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION posture_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION posture_refuse_change()"
            )
        op.execute(
            f"CREATE TRIGGER exceptions_append_only BEFORE UPDATE OF {', '.join(EXCEPTION_COLUMNS)} "
            "OR DELETE ON exceptions FOR EACH ROW EXECUTE FUNCTION posture_refuse_change()"
        )
        op.execute(
            "CREATE TRIGGER evidence_prune_guard_locked BEFORE UPDATE OR DELETE ON "
            "evidence_prune_guard FOR EACH ROW EXECUTE FUNCTION posture_refuse_change()"
        )
        return
    guard = "(SELECT active FROM evidence_prune_guard WHERE id = 1) = 1"
    for table in LOCKED:
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'posture-agent evidence is append-only: UPDATE on {table} refused'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} WHEN NOT ({guard}) BEGIN "
            f"SELECT RAISE(ABORT, 'posture-agent evidence is append-only: DELETE on {table} refused'); END"
        )
    op.execute(
        f"CREATE TRIGGER exceptions_no_update BEFORE UPDATE OF {', '.join(EXCEPTION_COLUMNS)} "
        "ON exceptions BEGIN SELECT RAISE(ABORT, "
        "'posture-agent evidence is append-only: UPDATE on exceptions refused'); END"
    )
    op.execute(
        "CREATE TRIGGER exceptions_no_delete BEFORE DELETE ON exceptions BEGIN SELECT RAISE(ABORT, "
        "'posture-agent evidence is append-only: DELETE on exceptions refused'); END"
    )
    op.execute(
        "CREATE TRIGGER evidence_prune_guard_no_delete BEFORE DELETE ON evidence_prune_guard BEGIN "
        "SELECT RAISE(ABORT, 'the pruning guard row cannot be deleted'); END"
    )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in LOCKED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP TRIGGER IF EXISTS exceptions_append_only ON exceptions")
        op.execute("DROP TRIGGER IF EXISTS evidence_prune_guard_locked ON evidence_prune_guard")
        op.execute("DROP FUNCTION IF EXISTS posture_prune(timestamptz)")
        op.execute("DROP FUNCTION IF EXISTS posture_refuse_change()")
    else:
        for table in LOCKED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        for name in ("exceptions_no_update", "exceptions_no_delete", "evidence_prune_guard_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("evidence_prune_guard")
    op.drop_table("evidence_checkpoints")
