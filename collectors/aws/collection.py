"""The AWS collector: accounts x regions x services, in a bounded thread pool, one snapshot per account."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.aws.accounts import Unreachable, base_account, reach, targets
from collectors.aws.config import AwsSource
from collectors.aws.session import AccountSession, ClientFactory
from collectors.aws.table import TABLE
from collectors.aws.unit import GLOBAL, ResourceType, Unit, error_text

__all__ = ["collect", "rows_for"]

log = logging.getLogger(__name__)


def rows_for(services: Sequence[str] | None) -> list[ResourceType]:
    """Table rows selected by ``source.services`` (a boto3 client name or a type family)."""
    if not services:
        return list(TABLE)
    wanted = set(services)
    family = {"aws.account": "iam"}
    return [rt for rt in TABLE if rt.service in wanted or family.get(rt.type, rt.type.split(".")[1]) in wanted]


def _regions(source: AwsSource, first: AccountSession) -> tuple[list[str], list[CollectionError]]:
    if source.regions:
        return list(source.regions), []
    region = first.session.region_name or "us-east-1"
    try:
        answer = first.client("ec2", region).describe_regions(AllRegions=False)
        return sorted(r["RegionName"] for r in answer["Regions"]), []
    except (ClientError, BotoCoreError) as exc:
        code, message = error_text(exc)
        return [region], [
            CollectionError(
                service="ec2",
                operation="DescribeRegions",
                region=region,
                code=code,
                message=f"{message}; scanning {region} only",
            )
        ]


def _units(
    accounts: list[AccountSession], regions: list[str], rows: list[ResourceType], ctx: CollectContext
) -> list[Unit]:
    groups: dict[tuple[str, bool], list[ResourceType]] = {}
    for rt in rows:
        groups.setdefault((rt.service, rt.global_), []).append(rt)
    units = []
    for account in accounts:
        for (service, is_global), group in groups.items():
            for region in [GLOBAL] if is_global else regions:
                units.append(Unit(account, service, region, ctx, group))
    # the global units (IAM's reports, S3's per-bucket calls) are the longest: started first, they
    # run beside the many short regional ones instead of after them
    units.sort(key=lambda u: u.region != GLOBAL)
    return units


def _run(units: list[Unit], ctx: CollectContext, workers: int) -> None:
    """Run every unit; results stay on the units. Cancellation and allowlist violations propagate."""
    ctx.progress.add_total(len(units))

    def one(unit: Unit) -> None:
        ctx.check_cancelled()
        try:
            unit.run()
        finally:
            ctx.progress.advance(1, f"{unit.account.account_id} {unit.region} {unit.service}")

    with (
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aws-collect") as pool,
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aws-detail") as details,
    ):
        for u in units:
            u.detail_pool = details
        futures: list[Future[None]] = [pool.submit(one, u) for u in units]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:  # after a Cancelled or ReadOnlyViolation: start nothing new
            f.cancel()
        for f in done:
            f.result()  # re-raises the first failure


def collect(source: AwsSource, ctx: CollectContext) -> list[Snapshot]:
    """One Snapshot per account of ``source``; only missing credentials raise (AgentError)."""
    started = utcnow()
    factory = ClientFactory(source, ctx.on_api_call)
    base = base_account(source, factory)
    wanted, discovery_errors = targets(source, base)
    with ThreadPoolExecutor(max_workers=source.max_workers) as pool:
        reached = list(pool.map(lambda t: reach(t, base, factory), wanted))
    accounts = [a for a in reached if isinstance(a, AccountSession)]
    extra: dict[str, list[CollectionError]] = {base.account_id: list(discovery_errors)}
    regions: list[str] = list(source.regions or [])
    if accounts:
        regions, region_errors = _regions(source, accounts[0])
        extra.setdefault(accounts[0].account_id, []).extend(region_errors)
    ctx.check_cancelled()
    units = _units(accounts, regions, rows_for(source.services), ctx)
    _run(units, ctx, source.max_workers)
    return _snapshots(source, reached, units, extra, started)


def _snapshots(
    source: AwsSource,
    reached: list[AccountSession | Unreachable],
    units: list[Unit],
    extra: dict[str, list[CollectionError]],
    started: datetime,
) -> list[Snapshot]:
    finished = utcnow()
    resources: dict[str, list[Resource]] = {}
    errors: dict[str, list[CollectionError]] = {}
    for unit in units:
        resources.setdefault(unit.account.account_id, []).extend(unit.resources)
        errors.setdefault(unit.account.account_id, []).extend(unit.errors)
    out = []
    for acct in reached:
        account_id = acct.account_id
        errs = list(extra.get(account_id, [])) + errors.get(account_id, [])
        if isinstance(acct, Unreachable):
            errs.append(acct.error)
        out.append(
            Snapshot(
                source=source.name,
                provider="aws",
                account=account_id,
                started_at=started,
                finished_at=finished,
                resources=tuple(sorted(resources.get(account_id, []), key=lambda r: (r.type, r.region, r.id))),
                errors=tuple(sorted(errs, key=lambda e: (e.resource_type, e.region, e.operation))),
            )
        )
    return out
