"""The push source: the latest report of each device, read from the store, as one snapshot.

Reports arrive through ``POST /v1/devices`` (agent/push.py) and are kept in ``device_reports``;
this collector only reads them (``ctx.store``, set by the Pipeline). Devices silent for longer than
``push.forget_after`` drop out; ones silent for a week stay in: ``checked_in`` fails for them, and
their other checks report what the last report showed (a failure stays a failure, a pass becomes
``error``, see checks/endpoints/_util.py).
"""

from __future__ import annotations

from typing import Any

from agent.errors import AgentError
from agent.models import CollectionError, Resource, Snapshot, isoformat, utcnow
from collectors import CollectContext
from collectors.endpoints.config import EndpointSource
from collectors.endpoints.device import DEVICE_TYPE, Antivirus, Edr, PatchState, device_resource

__all__ = ["collect_push", "report_to_resource"]


def report_to_resource(account: str, body: dict[str, Any], reported_at: str) -> Resource:
    """One validated report (agent/device-report.schema.json) as an ``endpoint.device``."""
    os_info = body.get("os") or {}
    av = body.get("antivirus")
    antivirus = (
        None
        if av is None
        else [
            Antivirus(
                product=str(a["product"]),
                enabled=a.get("enabled"),
                up_to_date=a.get("up_to_date"),
                definitions_updated=a.get("definitions_updated"),
                passive=a.get("passive"),
            )
            for a in av
        ]
    )
    edr = body.get("edr")
    pending = os_info.get("pending_updates")
    mdm = body.get("mdm") or {}
    password = body.get("password") or {}
    return device_resource(
        source_kind="push",
        account=account,
        device_id=str(body["device_id"]),
        hostname=str(body["hostname"]),
        platform=str(body["platform"]),
        owner=body.get("owner"),
        os_version=os_info.get("version"),
        os_build=os_info.get("build"),
        serial=body.get("serial"),
        last_seen=reported_at,
        antivirus=antivirus,
        disk_encryption=body.get("disk_encryption"),
        firewall=body.get("firewall"),
        screen_lock_seconds=body.get("screen_lock_seconds"),
        os_updated_at=os_info.get("last_update"),
        os_supported=os_info.get("supported"),
        mdm_enrolled=mdm.get("enrolled"),
        password_required=password.get("required"),
        password_min_length=password.get("min_length"),
        tamper_protection=body.get("tamper_protection"),
        edr=None
        if edr is None
        else [
            Edr(product=str(e["product"]), running=e.get("running"), last_connected=e.get("last_connected"))
            for e in edr
        ],
        # The OS update tool's list of pending updates: a count of missing ones, no failures known.
        patches=None if pending is None else PatchState(missing=pending, compliant=pending == 0),
        extra={
            "os_name": os_info.get("name"),
            "collected_at": body.get("collected_at"),
            "reporter": body.get("agent"),
            "mdm_provider": mdm.get("provider"),
        },
    )


def collect_push(source: EndpointSource, ctx: CollectContext) -> list[Snapshot]:
    from agent.store.devices import latest_reports

    opts = source.push
    assert opts is not None
    if ctx.store is None:
        raise AgentError(f"source {source.name}: push sources need the agent's store (database)")
    started = utcnow()
    account = opts.realm or source.name
    errors: list[CollectionError] = []
    resources: list[Resource] = []
    if not ctx.store.has_table("device_reports"):
        errors.append(
            CollectionError(
                service="push",
                operation="ReadReports",
                region="global",
                code="NoTable",
                message="device_reports table missing: run `posture-agent db upgrade`",
                resource_type=DEVICE_TYPE,
            )
        )
    else:
        for report in latest_reports(ctx.store, source.name, started - opts.forget_after):
            resources.append(report_to_resource(account, report.body, isoformat(report.reported_at)))
    ctx.progress.add_total(1)
    ctx.progress.advance(1, f"{source.name}: {len(resources)} devices")
    return [
        Snapshot(
            source=source.name,
            provider="endpoints",
            account=account,
            started_at=started,
            finished_at=utcnow(),
            resources=tuple(sorted(resources, key=lambda r: r.id)),
            errors=tuple(errors),
        )
    ]
