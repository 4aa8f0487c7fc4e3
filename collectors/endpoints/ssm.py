"""AWS Systems Manager inventory -> ``endpoint.device`` resources for servers (kind ``ssm``).

Reuses the AWS collector's sessions, account reach and read-only guard: an AwsSource is derived
from the ``ssm:`` options. Per account and region: ``DescribeInstanceInformation`` (paged), then
per instance ``ListInventoryEntries`` for ``AWS:Application`` (antivirus products by name) and
``AWS:WindowsUpdate`` (latest hotfix date on Windows). Servers are headless: no screen lock.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from agent.config import AwsSource, EndpointSource
from agent.models import CollectionError, Resource, Snapshot, isoformat, utcnow
from collectors import CollectContext
from collectors.aws.accounts import Unreachable, base_account, reach, targets
from collectors.aws.session import AccountSession, ClientFactory
from collectors.aws.unit import error_text
from collectors.endpoints.device import DEVICE_TYPE, Antivirus, device_resource

__all__ = ["collect_ssm"]

AV_PRODUCTS = ("Microsoft Defender", "Windows Defender", "CrowdStrike", "Falcon", "SentinelOne", "ClamAV",
               "Sophos", "Trend Micro", "Deep Security", "Carbon Black", "Cortex XDR", "ESET", "mdatp")


def _aws_source(source: EndpointSource) -> AwsSource:
    opts = source.ssm
    assert opts is not None
    return AwsSource(provider="aws", name=source.name, regions=list(opts.regions), accounts=list(opts.accounts),
                     organization=opts.organization, role_name=opts.role_name, external_id=opts.external_id,
                     profile=opts.profile, endpoint_url=opts.endpoint_url, max_workers=opts.max_workers,
                     services=["ssm"])


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


def _device(account: str, region: str, info: dict[str, Any], apps: list[dict[str, Any]] | None,
            updates: list[dict[str, Any]] | None, errors: dict[str, str]) -> Resource:
    names = [str(a.get("Name", "")) for a in apps or []]
    antivirus = None if apps is None else [
        Antivirus(product=n, enabled=None, up_to_date=None) for n in names
        if any(p.lower() in n.lower() for p in AV_PRODUCTS)]
    installed = sorted(str(u.get("InstalledTime", "")) for u in updates or [] if u.get("InstalledTime"))
    seen = info.get("LastPingDateTime")
    platform = {"Windows": "windows", "Linux": "linux", "MacOS": "macos"}.get(str(info.get("PlatformType")), "other")
    return device_resource(
        source_kind="ssm", account=account, device_id=str(info["InstanceId"]),
        hostname=str(info.get("ComputerName") or info["InstanceId"]), platform=platform,
        os_version=" ".join(filter(None, [info.get("PlatformName"), info.get("PlatformVersion")])) or None,
        last_seen=isoformat(seen) if seen else None, antivirus=antivirus,
        os_updated_at=installed[-1] if installed else None,
        extra={"headless": True, "region": region, "ping_status": info.get("PingStatus"),
               "agent_version": info.get("AgentVersion")},
        errors=errors)


def _collect_account(acct: AccountSession, regions: list[str], ctx: CollectContext
                     ) -> tuple[list[Resource], list[CollectionError]]:
    resources: list[Resource] = []
    errors: list[CollectionError] = []
    for region in regions:
        ctx.check_cancelled()
        client = acct.client("ssm", region)
        try:
            infos = [i for page in client.get_paginator("describe_instance_information").paginate()
                     for i in page.get("InstanceInformationList", [])]
        except (ClientError, BotoCoreError) as exc:
            code, message = error_text(exc)
            errors.append(CollectionError(service="ssm", operation="DescribeInstanceInformation", region=region,
                                          code=code, message=message, resource_type=DEVICE_TYPE))
            continue
        for info in infos:
            per: dict[str, str] = {}
            apps = updates = None
            try:
                apps = _entries(client, info["InstanceId"], "AWS:Application")
            except (ClientError, BotoCoreError) as exc:
                per["antivirus"] = ": ".join(error_text(exc))
            if info.get("PlatformType") == "Windows":
                try:
                    updates = _entries(client, info["InstanceId"], "AWS:WindowsUpdate")
                except (ClientError, BotoCoreError) as exc:
                    per["os_updated_at"] = ": ".join(error_text(exc))
            resources.append(_device(acct.account_id, region, info, apps, updates, per))
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
        out.append(Snapshot(source=source.name, provider="endpoints", account=target.account_id,
                            started_at=started, finished_at=utcnow(),
                            resources=tuple(sorted(resources, key=lambda r: r.id)), errors=tuple(errs + more)))
    return out
