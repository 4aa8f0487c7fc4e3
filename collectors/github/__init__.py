"""GitHub collector: one organisation through the REST API v3, read-only (see docs/github-permissions.md).

``collect`` and the allowlist are imported on first use: validating a ``github`` source
(collectors/github/config.py, a module of this package) must not import httpx's client machinery
into a daemon that collects in child processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors import lazy_attributes

if TYPE_CHECKING:
    from collectors.github.collection import collect
    from collectors.github.http import ALLOWED, ReadOnlyViolation

__all__ = ["ALLOWED", "ReadOnlyViolation", "collect"]

_LAZY = {
    "ALLOWED": "collectors.github.http",
    "ReadOnlyViolation": "collectors.github.http",
    "collect": "collectors.github.collection",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
