"""The Azure collector: one Entra ID snapshot for the tenant, one ARM snapshot per subscription."""

from __future__ import annotations

import logging
from datetime import datetime

from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.azure.arm import SUBSCRIPTION_TYPE, collect_subscription, list_subscriptions
from collectors.azure.config import AzureSource
from collectors.azure.credential import make_credential
from collectors.azure.entra import collect_entra
from collectors.azure.http import ApiError, AzureHttp

__all__ = ["collect"]

log = logging.getLogger(__name__)


def _wanted(sub: dict[str, object], filters: list[str] | None) -> bool:
    if not filters:
        return True
    keys = {str(sub.get("subscriptionId", "")).lower(), str(sub.get("displayName", "")).lower()}
    return any(f.lower() in keys for f in filters)


def _snapshot(
    source: AzureSource,
    account: str,
    started: datetime,
    resources: list[Resource],
    errors: list[CollectionError],
) -> Snapshot:
    return Snapshot(
        source=source.name,
        provider="azure",
        account=account,
        started_at=started,
        finished_at=utcnow(),
        resources=tuple(resources),
        errors=tuple(errors),
    )


def collect(source: AzureSource, ctx: CollectContext) -> list[Snapshot]:
    """Read-only collection of one Azure tenant. Raises AuthError if no token can be obtained."""
    creds = source.credentials()
    credential = make_credential(creds)
    snapshots: list[Snapshot] = []
    with AzureHttp(credential, creds, ctx, max_retries=source.max_retries) as http:
        if source.entra:
            started = utcnow()
            ctx.progress.add_total(1)
            resources, errors = collect_entra(http, creds.tenant_id, per_user_mfa_state=source.per_user_mfa)
            ctx.progress.advance(1, f"entra {creds.tenant_id}")
            snapshots.append(_snapshot(source, creds.tenant_id, started, resources, errors))
        if source.arm:
            started = utcnow()
            try:
                subs = [s for s in list_subscriptions(http) if _wanted(s, source.subscriptions)]
            except ApiError as exc:
                err = CollectionError(
                    service="arm",
                    operation="ListSubscriptions",
                    region="",
                    code=exc.code,
                    message=exc.message,
                    resource_type=SUBSCRIPTION_TYPE,
                )
                snapshots.append(_snapshot(source, creds.tenant_id, started, [], [err]))
                subs = []
            found = {str(s.get("subscriptionId", "")).lower() for s in subs}
            missing = [
                f
                for f in source.subscriptions or []
                if f.lower() not in found and not any(f.lower() == str(s.get("displayName", "")).lower() for s in subs)
            ]
            if missing:
                log.warning("azure subscriptions not visible to the agent: %s", ", ".join(missing))
            ctx.progress.add_total(len(subs))
            for sub in subs:
                ctx.check_cancelled()
                started = utcnow()
                resources, errors = collect_subscription(http, sub)
                snapshots.append(_snapshot(source, str(sub.get("subscriptionId")), started, resources, errors))
                ctx.progress.advance(1, f"subscription {sub.get('displayName') or sub.get('subscriptionId')}")
    return snapshots


def parts(source: AzureSource, ctx: CollectContext) -> list[str]:
    """What a scheduler splits this source into, one task each (agent/scale/): the tenant id for the
    tenant's directory (Entra, whose snapshots carry that account), then each subscription to read,
    by id (the listed ones the agent cannot see are kept by name, so their task records that they
    are missing). Raises ApiError or AuthError when the subscriptions cannot be listed: the caller
    then keeps the source whole."""
    out = [source.tenant_id] if source.entra else []
    if not source.arm:
        return out
    creds = source.credentials()
    with AzureHttp(make_credential(creds), creds, ctx, max_retries=source.max_retries) as http:
        subs = [s for s in list_subscriptions(http) if _wanted(s, source.subscriptions)]
    seen = {str(s.get("subscriptionId", "")) for s in subs}
    names = {str(s.get("displayName", "")).lower() for s in subs} | {i.lower() for i in seen}
    out += sorted(seen)
    out += [f for f in source.subscriptions or [] if f.lower() not in names]
    return out


def part_of(source: AzureSource, part: str) -> AzureSource:
    """``source`` narrowed to one of its ``parts``: its directory, or one subscription."""
    if part.lower() == source.tenant_id.lower():
        return source.model_copy(update={"entra": True, "arm": False})
    return source.model_copy(update={"entra": False, "arm": True, "subscriptions": [part]})
