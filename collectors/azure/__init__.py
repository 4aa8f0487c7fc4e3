"""Azure collector: Entra ID via Graph, resources via ARM, read-only (see docs/azure-resources.md).

``collect`` and the allowlist are imported on first use: validating an ``azure`` source
(collectors/azure/config.py, a module of this package) must not load azure-identity into a daemon
that collects in child processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors import lazy_attributes

if TYPE_CHECKING:
    from collectors.azure.collection import collect
    from collectors.azure.http import ALLOWED, ReadOnlyViolation

__all__ = ["ALLOWED", "ReadOnlyViolation", "collect"]

_LAZY = {
    "ALLOWED": "collectors.azure.http",
    "ReadOnlyViolation": "collectors.azure.http",
    "collect": "collectors.azure.collection",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
