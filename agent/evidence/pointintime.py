"""The state of a control as the agent knew it at a moment: the findings of its checks replayed up
to that time, and the snapshot each came from (the auditor's sample)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from agent.mappings import Mappings
from agent.models import isoformat
from agent.store import Store
from agent.store import schema as t

__all__ = ["state_at"]


def state_at(store: Store, mappings: Mappings, at: datetime, control: str) -> dict[str, Any]:
    """``control``: a control id (IAM-USER-MFA) or a requirement ref (SOC2:CC6.1)."""
    if control in mappings.controls:
        controls = [control]
        checks = sorted(mappings.controls[control].checks)
    else:
        prefix, _, rid = control.partition(":")
        reqs = [
            r
            for fw in mappings.frameworks.values()
            for r in fw.requirements
            if r.ref.lower() == control.lower() or (r.prefix.lower() == prefix.lower() and r.id == rid)
        ]
        if not reqs:
            from agent.errors import UsageError

            raise UsageError(f"unknown control or requirement {control!r} (e.g. SOC2:CC6.1 or IAM-USER-MFA)")
        controls = [c for r in reqs for c in r.controls if c in mappings.controls]
        checks = sorted({c for r in reqs for c in mappings.requirement_checks(r)})
    fe = t.finding_events.c
    state: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for e in conn.execute(select(t.finding_events).where(fe.check_id.in_(checks), fe.at <= at).order_by(fe.id)):
            if e.status == "gone":
                state.pop(e.uid, None)
            else:
                state[e.uid] = {
                    "check_id": e.check_id,
                    "resource_id": e.resource_id,
                    "status": e.status,
                    "message": e.message,
                    "since": isoformat(e.at),
                    "snapshot_id": e.snapshot_id,
                }
        sids = {v["snapshot_id"] for v in state.values()}
        snaps: dict[int, dict[str, Any]] = {}
        latest: dict[Any, Any] = {}
        for s in conn.execute(
            select(t.snapshots).where(t.snapshots.c.finished_at <= at).order_by(t.snapshots.c.id.desc()).limit(200)
        ):
            latest.setdefault((s.source, s.account), s)
        for s in latest.values():
            snaps[s.id] = {
                "snapshot_id": s.id,
                "source": s.source,
                "account": s.account,
                "finished_at": isoformat(s.finished_at),
                "manifest_hash": s.manifest_hash,
                "results_hash": s.results_hash,
                "status": s.status,
            }
        entry = {}
        el = t.evidence_log.c
        for s in latest.values():
            # the cycle entry of the snapshot's run (a legacy store: the snapshot's own entry)
            row = conn.execute(
                select(el.seq, el.entry_hash).where(
                    ((el.kind == "cycle") & (el.ref == s.run_id)) | (el.ref == f"snapshot:{s.id}")
                )
            ).first()
            if row:
                entry[s.id] = {"seq": row.seq, "entry_hash": row.entry_hash}
    findings = sorted(state.values(), key=lambda v: (v["check_id"], v["resource_id"]))
    status = (
        "fail"
        if any(f["status"] == "fail" for f in findings)
        else "error"
        if any(f["status"] == "error" for f in findings)
        else "pass"
        if findings
        else "no_data"
    )
    return {
        "at": isoformat(at),
        "control": control,
        "controls": controls,
        "status": status,
        "findings": findings,
        "changed_in_snapshots": sorted(sids),
        "latest_snapshots": [v | {"chain_entry": entry.get(k)} for k, v in snaps.items()],
    }
