"""AWS collector: read-only, table-driven, one Snapshot per account (see docs/aws-resources.md)."""

from __future__ import annotations

from collectors.aws.allowlist import ALLOWED_ACTIONS, ReadOnlyViolation
from collectors.aws.collect import collect

__all__ = ["ALLOWED_ACTIONS", "ReadOnlyViolation", "collect"]
