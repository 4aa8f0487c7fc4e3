"""The GCP collector: Cloud Asset Inventory over an organisation, folder or project scope.

``collect`` is imported on first use: validating a ``gcp`` source (collectors/gcp/config.py, a
module of this package) must not load the Google client libraries into a daemon that collects in
child processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors import lazy_attributes

if TYPE_CHECKING:
    from collectors.gcp.collection import collect

__all__ = ["collect"]


__getattr__ = lazy_attributes(__name__, {"collect": "collectors.gcp.collection"})
