"""Evidence records in one neutral, JSON-shaped form, whether read from the store or from a bundle.

The form and its helpers are the standalone verifier's (posture_verify.records); ``norm`` turns a
database row into it. Rows are normalised through canonical JSON: timestamps become ``...Z`` strings.
"""

from __future__ import annotations

import json
from typing import Any

from posture_verify.records import (
    AUDITED_COLUMNS,
    STARVED_MESSAGE,
    Records,
    Unreadable,
    cycle_snapshot_ids,
    kept_row_hash,
)

from agent.models import canonical_json

__all__ = ["AUDITED_COLUMNS", "Records", "STARVED_MESSAGE", "Unreadable", "cycle_snapshot_ids", "kept_row_hash", "norm"]


def norm(row: Any) -> dict[str, Any]:
    """A database row (or mapping) as the JSON a bundle stores."""
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    out: dict[str, Any] = json.loads(canonical_json(data))
    return out
