"""Cloud Asset Inventory -> one Snapshot per project in the scope.

Three read-only calls, each paged to the end by the client's pager:

- ``search_all_resources`` (Project type): which projects the scope holds, so a project with no
  collected assets still gets a snapshot;
- ``list_assets`` with content type RESOURCE: every collected asset's API representation, and with
  content type IAM_POLICY: the IAM policy (bindings and audit configs) of projects, buckets,
  service accounts and KMS keys, attached as ``iamPolicy``;
- ``search_all_iam_policies``: every IAM policy in the scope, organisations and folders included,
  as ``gcp.iam.policy`` resources (a policy set on an organisation or folder goes to a snapshot
  whose account is that organisation or folder).

A failed call becomes a CollectionError naming the resource types it starves; the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from google.api_core.exceptions import GoogleAPICallError, RetryError
from google.protobuf.json_format import MessageToDict

from agent.config import GcpSource
from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.gcp.client import build_client, list_retry
from collectors.gcp.types import (
    ASSET_TYPES,
    IAM_POLICY_TYPES,
    POLICY_TYPE,
    PROJECT_ASSET,
    resource_type,
)

__all__ = ["collect"]

log = logging.getLogger(__name__)

SERVICE = "cloudasset"


def _plain(value: Any) -> Any:
    """Struct numbers arrive as floats: integral ones back to int (canonical JSON keeps no floats)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _to_dict(pb: Any) -> dict[str, Any]:
    """A raw protobuf message (proto-plus ``._pb``) as the API's JSON shape (camelCase keys)."""
    return _plain(MessageToDict(pb))  # type: ignore[no-any-return]


@dataclass
class _Gathered:
    resources: dict[str, Resource] = field(default_factory=dict)  # by id
    projects: dict[str, str] = field(default_factory=dict)  # "projects/NUMBER" -> project id
    errors: list[CollectionError] = field(default_factory=list)


def _error(operation: str, exc: Exception, types: Iterable[str]) -> list[CollectionError]:
    code = getattr(exc, "code", None)
    code_text = getattr(code, "name", None) or (str(code) if code is not None else type(exc).__name__)
    message = getattr(exc, "message", None) or str(exc)
    return [CollectionError(service=SERVICE, operation=operation, region="global", code=str(code_text),
                            message=str(message)[:500], resource_type=t) for t in sorted(set(types))]


def _project_of(ancestors: Iterable[str], data: dict[str, Any]) -> str:
    for a in ancestors:
        if a.startswith("projects/"):
            return a
    return ""


class _Run:
    def __init__(self, source: GcpSource, ctx: CollectContext, client: Any) -> None:
        self.source = source
        self.ctx = ctx
        self.client = client
        self.g = _Gathered()
        self.retry = list_retry(source.timeout.total_seconds() * 4)
        self.timeout = source.timeout.total_seconds()
        self.asset_types = list(source.asset_types or ASSET_TYPES)

    def _call(self, operation: str, types: Iterable[str], fn: Callable[[], Iterable[Any]],
              each: Callable[[Any], None]) -> None:
        self.ctx.check_cancelled()
        try:
            for item in fn():
                self.ctx.check_cancelled()
                each(item)
            self.ctx.on_api_call(SERVICE, operation, None)
        except (GoogleAPICallError, RetryError) as exc:
            log.warning("cloud asset call failed", extra={"source": self.source.name, "operation": operation,
                                                          "error": str(exc)[:200]})
            self.ctx.on_api_call(SERVICE, operation, type(exc).__name__)
            self.g.errors.extend(_error(operation, exc, types))

    # -- the three calls ---------------------------------------------------------------------

    def projects(self) -> None:
        def each(r: Any) -> None:
            number = str(r.project or "")
            extra = dict(r.additional_attributes or {})
            project_id = str(extra.get("projectId") or r.name.rsplit("/", 1)[-1])
            if number:
                self.g.projects.setdefault(number, project_id)

        self._call("SearchAllResources", ["gcp.project"],
                   lambda: self.client.search_all_resources(
                       request={"scope": self.source.scope, "asset_types": [PROJECT_ASSET],
                                "page_size": self.source.page_size},
                       retry=self.retry, timeout=self.timeout),
                   each)

    def resources(self) -> None:
        def each(asset: Any) -> None:
            data = _to_dict(asset._pb.resource.data) if asset._pb.HasField("resource") else {}
            rtype = resource_type(asset.asset_type)
            project = _project_of(asset.ancestors, data)
            if asset.asset_type == PROJECT_ASSET and data.get("projectNumber"):
                project = f"projects/{data['projectNumber']}"
                self.g.projects[project] = str(data.get("projectId") or project)
            name = str(data.get("name") or asset.name.rsplit("/", 1)[-1])
            attrs = {**data, "_parent": asset.resource.parent, "_location": asset.resource.location,
                     "_project": project, "_ancestors": list(asset.ancestors)}
            self.g.resources[asset.name] = Resource(provider="gcp", account=project, region=_region(asset),
                                                    type=rtype, id=asset.name, name=name, attributes=attrs)

        self._call("ListAssets", [resource_type(t) for t in self.asset_types],
                   lambda: self.client.list_assets(
                       request={"parent": self.source.scope, "asset_types": self.asset_types,
                                "content_type": "RESOURCE", "page_size": self.source.page_size},
                       retry=self.retry, timeout=self.timeout),
                   each)

    def asset_policies(self) -> None:
        wanted = [t for t in IAM_POLICY_TYPES if t in self.asset_types]
        policies: dict[str, dict[str, Any]] = {}

        def each(asset: Any) -> None:
            policies[asset.name] = _to_dict(asset._pb.iam_policy)

        before = len(self.g.errors)
        self._call("ListAssets", [resource_type(t) for t in wanted],
                   lambda: self.client.list_assets(
                       request={"parent": self.source.scope, "asset_types": wanted,
                                "content_type": "IAM_POLICY", "page_size": self.source.page_size},
                       retry=self.retry, timeout=self.timeout),
                   each)
        failed = len(self.g.errors) > before
        wanted_types = {resource_type(t) for t in wanted}
        for rid, r in list(self.g.resources.items()):
            if r.type not in wanted_types:
                continue
            if failed:
                errs = {**r.errors, "iamPolicy": "ListAssets IAM_POLICY failed"}
                self.g.resources[rid] = Resource(**{**_fields(r), "errors": errs})
            else:
                # No IAM_POLICY asset means no policy is set on the resource: an empty policy.
                attrs = {**r.attributes, "iamPolicy": policies.get(rid, {})}
                self.g.resources[rid] = Resource(**{**_fields(r), "attributes": attrs})

    def iam_policies(self) -> None:
        def each(r: Any) -> None:
            policy = _to_dict(r._pb.policy)
            project = str(r.project or "")
            owner = project or str(r.organization or "") or (list(r.folders)[-1] if r.folders else "")
            rid = f"{r.resource}#iamPolicy"
            attrs = {"resource": r.resource, "assetType": r.asset_type, "project": project,
                     "folders": list(r.folders), "organization": r.organization,
                     "bindings": policy.get("bindings", [])}
            self.g.resources[rid] = Resource(provider="gcp", account=owner, region="global", type=POLICY_TYPE,
                                             id=rid, name=r.resource.rsplit("/", 2)[-1], attributes=attrs)

        self._call("SearchAllIamPolicies", [POLICY_TYPE],
                   lambda: self.client.search_all_iam_policies(
                       request={"scope": self.source.scope, "page_size": self.source.page_size},
                       retry=self.retry, timeout=self.timeout),
                   each)


def _fields(r: Resource) -> dict[str, Any]:
    return {"provider": r.provider, "account": r.account, "region": r.region, "type": r.type, "id": r.id,
            "name": r.name, "attributes": r.attributes, "errors": r.errors}


def _region(asset: Any) -> str:
    loc = str(getattr(asset.resource, "location", "") or "").lower()
    return loc or "global"


def collect(source: GcpSource, ctx: CollectContext) -> list[Snapshot]:
    """One Snapshot per project of ``source.scope`` (plus one per organisation/folder with a policy)."""
    started = utcnow()
    client = build_client(source)
    run = _Run(source, ctx, client)
    ctx.progress.add_total(4)
    for step in (run.projects, run.resources, run.asset_policies, run.iam_policies):
        step()
        ctx.progress.advance(1, f"{source.scope} {step.__name__}")
    return _snapshots(source, run.g, started)


def _snapshots(source: GcpSource, g: _Gathered, started: Any) -> list[Snapshot]:
    finished = utcnow()
    by_account: dict[str, list[Resource]] = {}
    for key in g.projects:
        by_account.setdefault(g.projects[key], [])
    for r in g.resources.values():
        account = g.projects.get(r.account, r.account.removeprefix("projects/")) if r.account else source.scope
        moved = Resource(**{**_fields(r), "account": account})
        by_account.setdefault(account, []).append(moved)
    if not by_account:
        by_account[source.scope.removeprefix("projects/")] = []
    out = []
    for account in sorted(by_account):
        resources = sorted(by_account[account], key=lambda r: (r.type, r.id))
        out.append(Snapshot(source=source.name, provider="gcp", account=account, started_at=started,
                            finished_at=finished, resources=tuple(resources),
                            errors=tuple(sorted(g.errors, key=lambda e: (e.resource_type, e.operation)))))
    return out
