"""Every evidence record of the store as ``Records`` (for `evidence verify` without a bundle): the
store reads them (agent.store.evidence_records); this name is kept for the commands and tests."""

from __future__ import annotations

from agent.store.evidence_records import load_store_records

__all__ = ["load_store_records"]
