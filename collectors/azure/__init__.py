"""Azure collector: Entra ID via Graph, resources via ARM, read-only (see docs/azure-resources.md).

``collect`` and the allowlist are imported on first use: validating an ``azure`` source
(collectors/azure/config.py, a module of this package) must not load azure-identity into a daemon
that collects in child processes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collectors.azure.collection import collect
    from collectors.azure.http import ALLOWED, ReadOnlyViolation

__all__ = ["ALLOWED", "ReadOnlyViolation", "collect"]

_LAZY = {
    "ALLOWED": "collectors.azure.http",
    "ReadOnlyViolation": "collectors.azure.http",
    "collect": "collectors.azure.collection",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
