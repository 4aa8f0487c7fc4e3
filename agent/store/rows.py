"""A database row in the neutral, JSON-shaped form evidence records take (posture_verify.records).

Rows are normalised through canonical JSON: timestamps become ``...Z`` strings, so a row read from
the store and the same record read from a bundle compare equal.
"""

from __future__ import annotations

import json
from typing import Any

from agent.models import canonical_json

__all__ = ["norm"]


def norm(row: Any) -> dict[str, Any]:
    """A database row (or mapping) as the JSON a bundle stores."""
    data = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    out: dict[str, Any] = json.loads(canonical_json(data))
    return out
