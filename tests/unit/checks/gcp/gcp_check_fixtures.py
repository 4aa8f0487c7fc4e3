"""Builders and the case helper shared by the GCP check tables (not a test module)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agent.evaluate import evaluate
from agent.models import CollectionError, Resource, Snapshot, Status
from checks.base import Check
from tests.unit.checks.casekit import note

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
PROJECT = "shop-prod"
PASS, FAIL, ERROR, NA = Status.PASS, Status.FAIL, Status.ERROR, Status.NOT_APPLICABLE
DEFAULT_SA = "123-compute@developer.gserviceaccount.com"
FULL = "https://www.googleapis.com/auth/cloud-platform"
PROJECT_POLICY = "cloudresourcemanager.googleapis.com/Project"
AUDIT_ALL = {
    "auditConfigs": [
        {
            "service": "allServices",
            "auditLogConfigs": [{"logType": "ADMIN_READ"}, {"logType": "DATA_READ"}, {"logType": "DATA_WRITE"}],
        }
    ]
}


def ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def res(
    rtype: str, name: str = "x", *, errors: dict[str, str] | None = None, account: str = PROJECT, **attrs: Any
) -> Resource:
    return Resource(
        provider="gcp",
        account=account,
        region="global",
        type=rtype,
        id=f"//{rtype}/projects/{account}/{name}",
        name=name,
        attributes={"name": name, **attrs},
        errors=errors or {},
    )


def policy(
    *bindings: tuple[str, list[str]], errors: dict[str, str] | None = None, asset_type: str = PROJECT_POLICY
) -> Resource:
    attrs: dict[str, Any] = (
        {}
        if errors
        else {
            "bindings": [{"role": r, "members": m} for r, m in bindings],
            "assetType": asset_type,
            "resource": "//cloudresourcemanager.googleapis.com/projects/1",
        }
    )
    return Resource(
        provider="gcp",
        account=PROJECT,
        region="global",
        type="gcp.iam.policy",
        id="//cloudresourcemanager.googleapis.com/projects/1#iamPolicy",
        attributes=attrs,
        errors=errors or {},
    )


def project(errors: dict[str, str] | None = None, **attrs: Any) -> Resource:
    """A gcp.project as the collector leaves it: own IAM policy plus what it inherits."""
    base: dict[str, Any] = {
        "projectId": PROJECT,
        "projectNumber": "1",
        "iamPolicy": {},
        "ancestorAuditConfigs": [],
        "ancestorLogSinks": [],
        "ancestorEssentialContacts": [],
        "effectiveOrgPolicies": {
            "constraints/compute.requireOsLogin": {"enforced": False, "setOn": "default"},
            "constraints/compute.disableSerialPortAccess": {"enforced": False, "setOn": "default"},
        },
        "_ancestors": ["projects/1", "folders/2", "organizations/3"],
    }
    base.update(attrs)
    for key in errors or {}:
        if not key.startswith("orgPolicy:"):
            base.pop(key, None)
    return res("gcp.project", PROJECT, errors=errors, **base)


def org_policy(constraint: str, enforced: bool, set_on: str = "folders/2") -> dict[str, Any]:
    return {f"constraints/{constraint}": {"enforced": enforced, "setOn": set_on}}


def vm(name: str = "vm", **kw: Any) -> Resource:
    base: dict[str, Any] = {
        "networkInterfaces": [{"networkIP": "10.0.0.2"}],
        "serviceAccounts": [],
        "metadata": {"items": []},
        "status": "RUNNING",
        "disks": [
            {
                "boot": True,
                "licenses": [
                    "https://www.googleapis.com/compute/v1/projects/debian-cloud/global/licenses/debian-12-bookworm"
                ],
            }
        ],
    }
    return res("gcp.compute.instance", name, **{**base, **kw})


def meta(**items: str) -> dict[str, Any]:
    return {"items": [{"key": k.replace("_", "-"), "value": v} for k, v in items.items()]}


def cproject(oslogin: str | None = None, **items: str) -> Resource:
    values = {**({"enable_oslogin": oslogin} if oslogin is not None else {}), **items}
    return res("gcp.compute.project", PROJECT, commonInstanceMetadata=meta(**values))


def sqli(
    ip: dict[str, Any] | None = None,
    backup: dict[str, Any] | None = None,
    version: str = "POSTGRES_15",
    flags: dict[str, str] | None = None,
) -> Resource:
    settings: dict[str, Any] = {"ipConfiguration": ip or {}, "backupConfiguration": backup or {}}
    if flags is not None:
        settings["databaseFlags"] = [{"name": k, "value": v} for k, v in flags.items()]
    return res("gcp.sqladmin.instance", "db", databaseVersion=version, settings=settings)


def bucket(ubla: bool = True, pap: str = "inherited", members: list[str] | None = None, **kw: Any) -> Resource:
    attrs: dict[str, Any] = {
        "iamConfiguration": {"uniformBucketLevelAccess": {"enabled": ubla}, "publicAccessPrevention": pap},
        "iamPolicy": {"bindings": [{"role": "roles/storage.objectViewer", "members": members or []}]},
    }
    attrs.update(kw)
    errors = attrs.pop("errors", None)
    for k in list(errors or {}):
        attrs.pop(k, None)
    return res("gcp.storage.bucket", "b", errors=errors, **attrs)


@dataclass
class Case:
    chk: Check
    resources: list[Resource]
    expect: Status
    reason: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)


def case(
    chk: Check,
    resources: Resource | list[Resource],
    expect: Status,
    reason: str = "",
    *,
    id: str,
    params: dict[str, Any] | None = None,
    errors: list[CollectionError] | None = None,
    looks_fine: str = "",
) -> Any:
    """One row of a case table; the first resource of the check's type is the one judged.
    ``looks_fine``: why a careless reading would pass this input (such a case never expects pass)."""
    note(chk.id, expect, looks_fine)
    items = resources if isinstance(resources, list) else [resources]
    return pytest.param(Case(chk, items, expect, reason, params or {}, errors or []), id=f"{chk.id}:{id}")


def run(c: Case) -> None:
    snap = Snapshot(
        source="t",
        provider="gcp",
        account=PROJECT,
        started_at=NOW - timedelta(minutes=1),
        finished_at=NOW,
        resources=tuple(c.resources),
        errors=tuple(c.errors),
    )
    target = next(r.id for r in c.resources if r.type == c.chk.meta.resource_type)
    findings = [f for f in evaluate(snap, [c.chk], params={c.chk.id: c.params}) if f.resource_id == target]
    assert len(findings) == 1, findings
    assert findings[0].status == c.expect, findings[0].message
    assert c.reason.lower() in findings[0].recorded_message.lower(), findings[0].recorded_message


def listing_failed(resource_type: str) -> list[CollectionError]:
    return [
        CollectionError(
            service="cloudasset",
            operation="ListAssets",
            region="global",
            code="PERMISSION_DENIED",
            message="denied",
            resource_type=resource_type,
        )
    ]
