"""Indexes for the web console's reads on a year of history (issue #20, bench/console_pages.py): a
resource's page looks up its drift events (newest first), its current findings and, for an auditor
whose period has ended, its finding events; each scanned the whole table before. The findings and
posture pages read current findings in the order of (check, resource, uid), which sorted every
finding of the checks asked for before the first row (all of them for the posture page). None is on
a table an unchanged cycle writes to (drift events and finding changes are written only when
something changed), so the bytes of an unchanged cycle stay as they were.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CREATED = (
    ("ix_drift_events_resource", "drift_events", ["resource_id", "at"]),
    ("ix_finding_current_resource", "finding_current", ["resource_id"]),
    ("ix_finding_current_order", "finding_current", ["check_id", "resource_id", "uid"]),
    ("ix_finding_events_resource", "finding_events", ["resource_id", "at"]),
)


def upgrade() -> None:
    for name, table, columns in CREATED:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in CREATED:
        op.drop_index(name, table_name=table)
