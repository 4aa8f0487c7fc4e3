"""Evidence records in one neutral, JSON-shaped form, whether read from the store or from a bundle.

The form and its helpers are the standalone verifier's (posture_verify.records); the store turns a
database row into it (agent.store.rows.norm: canonical JSON, timestamps as ``...Z`` strings).
"""

from __future__ import annotations

from posture_verify.records import (
    AUDITED_COLUMNS,
    STARVED_MESSAGE,
    Records,
    Unreadable,
    cycle_snapshot_ids,
    kept_row_hash,
)

__all__ = ["AUDITED_COLUMNS", "Records", "STARVED_MESSAGE", "Unreadable", "cycle_snapshot_ids", "kept_row_hash"]
