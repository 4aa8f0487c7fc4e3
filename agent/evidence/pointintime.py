"""The state of a control as the agent knew it at a moment: the findings of its checks replayed up
to that time, and the snapshot each came from (the auditor's sample)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agent.mappings import Mappings
from agent.models import isoformat
from agent.store import Store, history

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
    seen = history.state_at(store, checks, at)
    findings = sorted(seen.findings.values(), key=lambda v: (v["check_id"], v["resource_id"]))
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
        "changed_in_snapshots": sorted({v["snapshot_id"] for v in seen.findings.values()}),
        "latest_snapshots": [v | {"chain_entry": seen.entries.get(k)} for k, v in seen.snapshots.items()],
    }
