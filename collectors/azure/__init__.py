"""Azure collector: Entra ID via Graph, resources via ARM, read-only (see docs/azure-resources.md)."""

from __future__ import annotations

from collectors.azure.collect import collect
from collectors.azure.http import ALLOWED, ReadOnlyViolation

__all__ = ["ALLOWED", "ReadOnlyViolation", "collect"]
