"""AWS Systems Manager -> ``endpoint.device`` resources for servers (kind ``ssm``).

Reuses the AWS collector's sessions, account reach and read-only guard: an AwsSource is derived
from the ``ssm:`` options. Per account and region:

- ``DescribeInstanceInformation`` (paged): every managed instance, its platform and last ping;
- ``DescribeInstancePatchStates`` (50 instances a call): Patch Manager's missing, failed and
  installed-pending-reboot counts and when its last scan or install ended;
- per instance ``ListInventoryEntries`` for ``AWS:Application`` (antivirus and EDR products by
  name), and on Windows ``AWS:Service`` (whether their services run: WinDefend, CSFalconService,
  SentinelAgent, Sense...) and ``AWS:WindowsUpdate`` (latest hotfix date).

Installed software says a product is present, not that it protects: without a service state its
protection is unknown (``None``). Servers are headless: no screen lock, no MDM.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from agent.models import CollectionError, Resource, Snapshot, isoformat, utcnow
from collectors import CollectContext
from collectors.aws.accounts import Unreachable, base_account, reach, targets
from collectors.aws.config import AwsSource
from collectors.aws.permissions import SSM_ENDPOINTS, operations_of
from collectors.aws.session import AccountSession, ClientFactory
from collectors.aws.unit import error_text
from collectors.endpoints.config import EndpointSource
from collectors.endpoints.device import DEVICE_TYPE, Antivirus, Edr, PatchState, device_resource
from collectors.endpoints.products import ANTIVIRUS, EDR, EDR_SERVICES, match

__all__ = ["collect_ssm", "server_device"]

DEFENDER = "Microsoft Defender Antivirus"
#: Every AWS operation this collector sends besides account discovery, declared with the rest in
#: collectors/aws/permissions.py (the allowlist and IAM policy are generated from there).
OPERATIONS: frozenset[tuple[str, str]] = operations_of(SSM_ENDPOINTS)
PATCH_BATCH = 50  # DescribeInstancePatchStates takes at most 50 instance ids
_NO_PATCH_STATE = (
    "NoPatchState: Patch Manager has no scan or install result for this instance "
    "(associate AWS-RunPatchBaseline with Operation=Scan)"
)


def _aws_source(source: EndpointSource) -> AwsSource:
    opts = source.ssm
    assert opts is not None
    return AwsSource(
        provider="aws",
        name=source.name,
        regions=list(opts.regions),
        accounts=list(opts.accounts),
        organization=opts.organization,
        role_name=opts.role_name,
        external_id=opts.external_id,
        profile=opts.profile,
        endpoint_url=opts.endpoint_url,
        max_workers=opts.max_workers,
        services=["ssm"],
    )


def _entries(client: Any, instance_id: str, type_name: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = None
    while True:
        kwargs: dict[str, Any] = {"InstanceId": instance_id, "TypeName": type_name, "MaxResults": 50}
        if token:
            kwargs["NextToken"] = token
        page = client.list_inventory_entries(**kwargs)
        out.extend(page.get("Entries") or [])
        token = page.get("NextToken")
        if not token:
            return out


def _iso(value: Any) -> str | None:
    if not value:
        return None
    return isoformat(value) if hasattr(value, "astimezone") else str(value)


def _protection(
    apps: list[dict[str, Any]] | None, services: list[dict[str, Any]] | None
) -> tuple[list[Antivirus] | None, list[Edr] | None]:
    """Antivirus products and EDR sensors from installed software and (Windows) service states."""
    running: dict[str, bool] = {}
    defender: bool | None = None
    for svc in services or []:
        name = str(svc.get("Name") or "")
        up = str(svc.get("Status") or "").lower() == "running"
        if name.lower() == "windefend":
            defender = up
        product = EDR_SERVICES.get(name.lower())
        if product:
            running[product] = up
    antivirus: list[Antivirus] | None = None
    if apps is not None:
        antivirus = []
        for app in apps:
            name = str(app.get("Name", ""))
            product = match(name, ANTIVIRUS)
            if product:
                antivirus.append(Antivirus(product=name, enabled=running.get(product)))
        if defender is not None:
            # WinDefend runs even in passive mode: running says nothing about real-time protection.
            antivirus.append(Antivirus(product=DEFENDER, enabled=None if defender else False))
    edr: list[Edr] | None = None
    if apps is not None or services is not None:
        found = {product: Edr(product=product, running=up) for product, up in running.items()}
        for app in apps or []:
            product = match(str(app.get("Name", "")), EDR)
            if product and product not in found:
                found[product] = Edr(product=product, running=None)
        edr = list(found.values())
    return antivirus, edr


def server_device(
    account: str,
    region: str,
    info: dict[str, Any],
    *,
    apps: list[dict[str, Any]] | None,
    services: list[dict[str, Any]] | None,
    updates: list[dict[str, Any]] | None,
    patch: dict[str, Any] | None,
    errors: dict[str, str],
) -> Resource:
    antivirus, edr = _protection(apps, services)
    installed = [str(u.get("InstalledTime")) for u in updates or [] if u.get("InstalledTime")]
    patch_end = _iso((patch or {}).get("OperationEndTime"))
    if patch_end and str((patch or {}).get("Operation", "")).lower() == "install":
        installed.append(patch_end)
    patches = None
    observed: dict[str, str | None] = {}
    if patch is not None:
        patches = PatchState(
            missing=patch.get("MissingCount"),
            failed=patch.get("FailedCount"),
            pending_reboot=patch.get("InstalledPendingRebootCount"),
        )
        observed["patches"] = patch_end
    elif "patches" not in errors:
        errors = {**errors, "patches": _NO_PATCH_STATE}
    seen = info.get("LastPingDateTime")
    platform = {"Windows": "windows", "Linux": "linux", "MacOS": "macos"}.get(str(info.get("PlatformType")), "other")
    return device_resource(
        source_kind="ssm",
        account=account,
        device_id=str(info["InstanceId"]),
        hostname=str(info.get("ComputerName") or info["InstanceId"]),
        platform=platform,
        os_version=" ".join(filter(None, [info.get("PlatformName"), info.get("PlatformVersion")])) or None,
        last_seen=_iso(seen),
        antivirus=antivirus,
        edr=edr,
        os_updated_at=max(installed) if installed else None,
        patches=patches,
        observed_at=observed,
        extra={
            "headless": True,
            "region": region,
            "ping_status": info.get("PingStatus"),
            "agent_version": info.get("AgentVersion"),
            "patch_operation": (patch or {}).get("Operation"),
            "patch_baseline": (patch or {}).get("BaselineId"),
        },
        errors=errors,
    )


def _patch_states(client: Any, ids: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Patch state per instance id, and for ids whose batch failed, why."""
    states: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    for start in range(0, len(ids), PATCH_BATCH):
        batch = ids[start : start + PATCH_BATCH]
        try:
            for page in client.get_paginator("describe_instance_patch_states").paginate(InstanceIds=batch):
                for state in page.get("InstancePatchStates") or []:
                    states[str(state.get("InstanceId"))] = state
        except (ClientError, BotoCoreError) as exc:
            why = "DescribeInstancePatchStates: " + ": ".join(error_text(exc))
            failed.update({i: why for i in batch})
    return states, failed


def _collect_account(
    acct: AccountSession, regions: list[str], ctx: CollectContext
) -> tuple[list[Resource], list[CollectionError]]:
    resources: list[Resource] = []
    errors: list[CollectionError] = []
    for region in regions:
        ctx.check_cancelled()
        client = acct.client("ssm", region)
        try:
            infos = [
                i
                for page in client.get_paginator("describe_instance_information").paginate()
                for i in page.get("InstanceInformationList", [])
            ]
        except (ClientError, BotoCoreError) as exc:
            code, message = error_text(exc)
            errors.append(
                CollectionError(
                    service="ssm",
                    operation="DescribeInstanceInformation",
                    region=region,
                    code=code,
                    message=message,
                    resource_type=DEVICE_TYPE,
                )
            )
            continue
        patch_states, patch_errors = _patch_states(client, [str(i["InstanceId"]) for i in infos])
        for info in infos:
            ident = str(info["InstanceId"])
            per: dict[str, str] = {}
            if ident in patch_errors:
                per["patches"] = patch_errors[ident]
            found: dict[str, list[dict[str, Any]] | None] = {"apps": None, "services": None, "updates": None}
            wanted: list[tuple[str, str, tuple[str, ...]]] = [("apps", "AWS:Application", ("antivirus", "edr"))]
            if info.get("PlatformType") == "Windows":
                wanted += [
                    ("services", "AWS:Service", ("antivirus", "edr")),
                    ("updates", "AWS:WindowsUpdate", ("os_updated_at",)),
                ]
            for key, type_name, attrs in wanted:
                try:
                    found[key] = _entries(client, ident, type_name)
                except (ClientError, BotoCoreError) as exc:
                    per.update({a: f"{type_name}: " + ": ".join(error_text(exc)) for a in attrs})
            resources.append(
                server_device(
                    acct.account_id,
                    region,
                    info,
                    apps=found["apps"],
                    services=found["services"],
                    updates=found["updates"],
                    patch=patch_states.get(ident),
                    errors=per,
                )
            )
    return resources, errors


def collect_ssm(source: EndpointSource, ctx: CollectContext) -> list[Snapshot]:
    aws = _aws_source(source)
    started = utcnow()
    factory = ClientFactory(aws, ctx.on_api_call)
    base = base_account(aws, factory)
    wanted, discovery_errors = targets(aws, base)
    out: list[Snapshot] = []
    for target in wanted:
        acct = reach(target, base, factory)
        errs = list(discovery_errors) if target.account_id == base.account_id else []
        if isinstance(acct, Unreachable):
            resources: list[Resource] = []
            more = [acct.error]
        else:
            resources, more = _collect_account(acct, list(aws.regions or []), ctx)
        out.append(
            Snapshot(
                source=source.name,
                provider="endpoints",
                account=target.account_id,
                started_at=started,
                finished_at=utcnow(),
                resources=tuple(sorted(resources, key=lambda r: r.id)),
                errors=tuple(errs + more),
            )
        )
    return out
