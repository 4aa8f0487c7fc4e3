"""The identity sources' latest stored collections, as the people ledger joins them.

Read from the agent's own store (agent/store/latest.py), never from the clouds. Each source is judged
before it is joined: never collected, latest run failed, latest snapshot older than
``max_identity_age``, or its identity listing incomplete (a collection error on its identity type, an
account it could not reach) makes it a problem the checks report as error, never as pass. What it
did collect is still joined, so a leaver's account seen active is still a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from agent.identity import IDENTITY_TYPES, IdentityView, identity_of
from agent.models import isoformat

__all__ = ["SourceState", "read_source"]

# account-level failures an AWS source records without a resource type: an account not reached
_ACCOUNT_OPERATIONS = frozenset({"AssumeRole", "GetCallerIdentity", "ListAccounts"})
_ENTRA_TENANT = "azure.entra.tenant"


@dataclass
class SourceState:
    name: str
    provider: str = ""
    status: str = "ok"  # ok | missing | failed | stale | incomplete
    why: str = ""  # for every status but ok: one line a reader can act on
    collected_at: datetime | None = None  # the oldest of the joined snapshots' ends
    run_id: str = ""
    manifests: dict[str, str] = field(default_factory=dict)  # account -> manifest hash of the joined snapshot
    identities: list[IdentityView] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        """The ledger's entry for this source (collected_at and run_id are observations)."""
        return {
            "name": self.name,
            "provider": self.provider,
            "status": self.status,
            "why": self.why,
            "collected_at": isoformat(self.collected_at) if self.collected_at else None,
            "run_id": self.run_id,
            "accounts": sorted(self.manifests),
            "manifests": dict(sorted(self.manifests.items())),
            "identities": len(self.identities),
        }


def _fmt(ts: datetime) -> str:
    return str(isoformat(ts))


def read_source(store: Any, name: str, now: datetime, max_age: timedelta) -> SourceState:
    from agent.store.latest import latest_collection

    state = SourceState(name=name)
    latest = latest_collection(store, name)
    if latest is None:
        state.status, state.why = "missing", f"identity source {name} has never been collected (no run in the store)"
        return state
    state.provider = latest.provider
    problems: list[str] = []
    if latest.run_status == "failed":
        state.status = "failed"
        problems.append(
            f"the latest run of identity source {name} ({_fmt(latest.run_finished_at)}) failed: "
            f"{latest.run_error or 'no reason recorded'}"
        )
    if not latest.snapshots:
        state.status = "failed" if state.status == "failed" else "missing"
        problems.append(f"identity source {name} has no stored snapshot")
        state.why = "; ".join(problems)
        return state
    state.run_id = latest.snapshots[0].run_id
    incomplete: list[str] = []
    for ref in latest.snapshots:
        snap = ref.snapshot
        state.manifests[snap.account] = ref.manifest_hash
        state.collected_at = (
            snap.finished_at if state.collected_at is None else min(state.collected_at, snap.finished_at)
        )
        for err in snap.errors:
            if err.resource_type in IDENTITY_TYPES or (not err.resource_type and err.operation in _ACCOUNT_OPERATIONS):
                incomplete.append(f"account {snap.account}: {err.summary()}")
        tenants = snap.of_type(_ENTRA_TENANT)
        tenant = tenants[0] if tenants else None
        for resource in snap.resources:
            if resource.type in IDENTITY_TYPES:
                view = identity_of(resource, tenant=tenant)
                if view is not None:
                    state.identities.append(view)
    if state.collected_at is not None and now - state.collected_at > max_age:
        if state.status == "ok":
            state.status = "stale"
        problems.append(
            f"the latest snapshot of identity source {name} was collected at {_fmt(state.collected_at)}, "
            f"longer ago than max_identity_age ({_days(max_age)})"
        )
    if incomplete:
        if state.status == "ok":
            state.status = "incomplete"
        shown = "; ".join(incomplete[:3]) + (f"; and {len(incomplete) - 3} more" if len(incomplete) > 3 else "")
        problems.append(f"identity source {name} could not list every identity: {shown}")
    state.why = "; ".join(problems)
    return state


def _days(td: timedelta) -> str:
    seconds = int(td.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
