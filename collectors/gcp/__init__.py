"""The GCP collector: Cloud Asset Inventory over an organisation, folder or project scope.

``collect`` is imported on first use: validating a ``gcp`` source (collectors/gcp/config.py, a
module of this package) must not load the Google client libraries into a daemon that collects in
child processes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collectors.gcp.collection import collect

__all__ = ["collect"]


def __getattr__(name: str) -> Any:
    if name != "collect":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from collectors.gcp.collection import collect

    globals()["collect"] = collect
    return collect
