"""External witnesses of checkpoints: RFC 3161 timestamp tokens and receipts of copies in an S3
Object Lock bucket (agent/evidence/anchoring.py). Append-only like the other evidence tables
(migration 0004): UPDATE is refused always, DELETE unless a retention prune is running.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "evidence_anchors"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("checkpoint_seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # rfc3161, rfc3161-certs, s3
        sa.Column("witness", sa.String(512), nullable=False),  # the TSA's URL, or s3://bucket/prefix
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),  # genTime, or the copy's Last-Modified
        sa.Column("detail", sa.Text, nullable=False),  # JSON
        sa.Column("data", sa.LargeBinary, nullable=True),  # the DER TimeStampResp
    )
    if op.get_bind().dialect.name == "postgresql":
        # posture_refuse_change() comes from migration 0004
        op.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION posture_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION posture_refuse_change()"
        )
        return
    guard = "(SELECT active FROM evidence_prune_guard WHERE id = 1) = 1"
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} BEGIN "
        f"SELECT RAISE(ABORT, 'posture-agent evidence is append-only: UPDATE on {TABLE} refused'); END"
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} WHEN NOT ({guard}) BEGIN "
        f"SELECT RAISE(ABORT, 'posture-agent evidence is append-only: DELETE on {TABLE} refused'); END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
    op.drop_table(TABLE)
