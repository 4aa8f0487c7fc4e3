"""The evidence store."""

from agent.store.db import FindingChange, RunRecord, SnapshotWrite, Store, redact_url

__all__ = ["FindingChange", "RunRecord", "SnapshotWrite", "Store", "redact_url"]
