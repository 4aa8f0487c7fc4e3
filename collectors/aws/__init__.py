"""AWS collector: read-only, table-driven, one Snapshot per account (see docs/aws-resources.md).

``collect`` and the allowlist are imported on first use: validating an ``aws`` source
(collectors/aws/config.py, a module of this package) must not load boto3 into a daemon that
collects in child processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors import lazy_attributes

if TYPE_CHECKING:
    from collectors.aws.allowlist import ALLOWED_ACTIONS, ReadOnlyViolation
    from collectors.aws.collection import collect

__all__ = ["ALLOWED_ACTIONS", "ReadOnlyViolation", "collect"]

_LAZY = {
    "ALLOWED_ACTIONS": "collectors.aws.allowlist",
    "ReadOnlyViolation": "collectors.aws.allowlist",
    "collect": "collectors.aws.collection",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
