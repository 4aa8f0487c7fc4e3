"""The Okta collector: one snapshot per org, ``okta.user`` resources and one ``okta.org``."""

from __future__ import annotations

from typing import Any

from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.okta.config import OktaSource
from collectors.okta.http import OktaHttp
from collectors.okta.policies import collect_policies
from collectors.okta.users import USER_TYPE, collect_users

__all__ = ["ORG_TYPE", "collect", "org_id_of"]

ORG_TYPE = "okta.org"


def org_id_of(org: str) -> str:
    return f"okta:{org}:org"


def _code(why: str) -> str:
    """The errorCode of an ApiError's text ("HTTP 500 E0000009: ...")."""
    head = why.split(":", 1)[0].split()
    return head[-1] if head and ":" in why else "Error"


def _partial(resources: list[Resource]) -> list[CollectionError]:
    """One snapshot error per detail that some users lack (403, 5xx...), so the run says partial; the
    users themselves carry the reason and their checks report error."""
    out: list[CollectionError] = []
    for key, operation in (("Factors", "ListFactors"), ("Roles", "ListAssignedRolesForUser")):
        failed = [r for r in resources if r.type == USER_TYPE and key in r.errors and r.attributes.get("status")]
        failed = [r for r in failed if r.attributes.get("status") != "DEPROVISIONED"]
        if failed:
            why = failed[0].errors[key]
            out.append(
                CollectionError(
                    service="okta",
                    operation=operation,
                    region="global",
                    code=_code(why),
                    message=f"{key} of {len(failed)} user(s) not read, e.g. {failed[0].name}: {why}",
                )
            )
    return out


def collect(source: OktaSource, ctx: CollectContext) -> list[Snapshot]:
    """Read-only collection of one Okta org. Raises AuthError when the org refuses the credentials."""
    org = source.org_host
    started = utcnow()
    with OktaHttp(source, ctx) as http:
        ctx.progress.add_total(1)
        users, errors = collect_users(http, org, max_workers=source.max_workers)
        policies, policy_errors = collect_policies(http)
        ctx.progress.advance(1, f"okta {org}")
    attrs: dict[str, Any] = {"orgUrl": source.org_url, "InactiveDays": source.inactive_days, **policies}
    org_resource = Resource(
        provider="okta",
        account=org,
        region="global",
        type=ORG_TYPE,
        id=org_id_of(org),
        name=org,
        attributes=attrs,
        errors=policy_errors,
    )
    errors += _partial(users)
    errors += [
        CollectionError(
            service="okta", operation="ListPolicies", region="global", code=_code(why), message=f"{key}: {why}"
        )
        for key, why in policy_errors.items()
        # a Classic Engine org has no authentication policies: Okta answers 400, not a gap in the data
        if not (key == "AccessPolicies" and why.startswith("HTTP 400 "))
    ]
    return [
        Snapshot(
            source=source.name,
            provider="okta",
            account=org,
            started_at=started,
            finished_at=utcnow(),
            resources=(*users, org_resource),
            errors=tuple(errors),
        )
    ]
