"""Cloud Asset Inventory -> one Snapshot per project in the scope.

Read-only calls, each paged to the end by the client's pager:

- ``search_all_resources`` (Project type): which projects the scope holds, so a project with no
  collected assets still gets a snapshot;
- ``list_assets`` with content type RESOURCE: every collected asset's API representation; with
  content type IAM_POLICY: the IAM policy (bindings and audit configs) of projects, buckets,
  service accounts and KMS keys, attached as ``iamPolicy``, and of the organization and folders;
  with content type ORG_POLICY: the organization policies set on the organization, folders and
  projects;
- the same three ``list_assets`` on the organization above a folder or project scope, limited to
  what projects inherit (organization and folder IAM and organization policies, their log sinks and
  essential contacts): denied there, the projects carry an error for what they inherit;
- ``search_all_iam_policies``: every IAM policy in the scope, organisations and folders included,
  as ``gcp.iam.policy`` resources (a policy set on an organisation or folder goes to a snapshot
  whose account is that organisation or folder);
- optionally (``cloud_identity_admin``) the Cloud Identity Policy API for 2-Step Verification
  enforcement (collectors/gcp/identity.py).

What a project inherits is attached to it (collectors/gcp/ancestry.py), and each log sink gets its
destination bucket's retention settings as ``_destination``. A failed call becomes a
CollectionError naming the resource types it starves; the run goes on.

``parts`` / ``part_of`` split an organization or folder scope for the workers of a scaled deployment
(agent/scale/): the part above its projects (``GcpSource.above_projects``: only the snapshots whose
account is not a project, without the IAM and organization policy listings only projects need) and
each project, collected as a project scope. Together they give the whole scope's snapshots.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from google.api_core.exceptions import GoogleAPICallError, RetryError
from google.protobuf.json_format import MessageToDict

from agent.errors import AgentError
from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.gcp.ancestry import IAM, ORG_POLICY, SETTINGS, Hierarchy, inherited
from collectors.gcp.client import build_client, credentials, list_retry
from collectors.gcp.config import GcpSource
from collectors.gcp.identity import read_policies
from collectors.gcp.types import (
    ABOVE_PROJECT_TYPES,
    ANCESTOR_RESOURCE_TYPES,
    ASSET_TYPES,
    CUSTOMER_TYPE,
    HIERARCHY_TYPES,
    IAM_POLICY_TYPES,
    LOG_SINK_ASSET,
    OBSERVATIONS,
    ORG_POLICY_TYPES,
    POLICY_TYPE,
    PROJECT_ASSET,
    SINK_DESTINATION_TYPES,
    resource_type,
)

__all__ = ["collect", "part_of", "parts"]

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


RM_PREFIX = "//cloudresourcemanager.googleapis.com/"


@dataclass
class _Gathered:
    resources: dict[str, Resource] = field(default_factory=dict)  # by id
    projects: dict[str, str] = field(default_factory=dict)  # "projects/NUMBER" -> project id
    errors: list[CollectionError] = field(default_factory=list)
    hierarchy: Hierarchy = field(default_factory=Hierarchy)


def _error(operation: str, exc: Exception, types: Iterable[str]) -> list[CollectionError]:
    code = getattr(exc, "code", None)
    code_text = getattr(code, "name", None) or (str(code) if code is not None else type(exc).__name__)
    message = getattr(exc, "message", None) or str(exc)
    return [
        CollectionError(
            service=SERVICE,
            operation=operation,
            region="global",
            code=str(code_text),
            message=str(message)[:500],
            resource_type=t,
        )
        for t in sorted(set(types))
    ]


def _project_of(ancestors: Iterable[str], data: dict[str, Any]) -> str:
    for a in ancestors:
        if a.startswith("projects/"):
            return a
    return ""


class _Run:
    def __init__(self, source: GcpSource, ctx: CollectContext, client: Any, creds: Any = None) -> None:
        self.source = source
        self.ctx = ctx
        self.client = client
        self.creds = creds
        self.g = _Gathered()
        self.retry = list_retry(source.timeout.total_seconds() * 4)
        self.timeout = source.timeout.total_seconds()
        self.asset_types = list(source.asset_types or ASSET_TYPES)
        if source.above_projects:  # what can be set above a project, and where sinks may write
            keep = (*ABOVE_PROJECT_TYPES, *SINK_DESTINATION_TYPES)
            self.asset_types = [t for t in self.asset_types if t in keep or t not in ASSET_TYPES]

    def _call(
        self, operation: str, types: Iterable[str], fn: Callable[[], Iterable[Any]], each: Callable[[Any], None]
    ) -> str:
        """Run one paged call; "" when it succeeded, else the error it recorded ("CODE: message")."""
        self.ctx.check_cancelled()
        try:
            for item in fn():
                self.ctx.check_cancelled()
                each(item)
            self.ctx.on_api_call(SERVICE, operation, None)
            return ""
        except (GoogleAPICallError, RetryError) as exc:
            log.warning(
                "cloud asset call failed",
                extra={"source": self.source.name, "operation": operation, "error": str(exc)[:200]},
            )
            self.ctx.on_api_call(SERVICE, operation, type(exc).__name__)
            errors = _error(operation, exc, types)
            self.g.errors.extend(errors)
            return f"{errors[0].code}: {errors[0].message}" if errors else type(exc).__name__

    def _list(
        self, parent: str, content: str, asset_types: list[str], each: Callable[[Any], None], starves: Iterable[str]
    ) -> str:
        return self._call(
            "ListAssets",
            starves,
            lambda: self.client.list_assets(
                request={
                    "parent": parent,
                    "asset_types": asset_types,
                    "content_type": content,
                    "page_size": self.source.page_size,
                },
                retry=self.retry,
                timeout=self.timeout,
            ),
            each,
        )

    def _scope_root(self) -> str:
        """The scope as the hierarchy names it (a project scope given by id becomes projects/NUMBER)."""
        scope = self.source.scope
        if scope.startswith("projects/"):
            ident = scope.removeprefix("projects/")
            for number, project_id in self.g.projects.items():
                if ident in (project_id, number.removeprefix("projects/")):
                    return number
        return scope

    def _cover(self, kind: str, root: str, failure: str) -> None:
        cov = self.g.hierarchy.coverage[kind]
        if failure:
            cov.failure = cov.failure or f"{root}: {failure}"
        else:
            cov.roots.add(root)

    # -- the calls --------------------------------------------------------------------------

    def projects(self) -> str:
        """Which projects the scope holds; "" or the listing's error."""

        def each(r: Any) -> None:
            number = str(r.project or "")
            extra = dict(r.additional_attributes or {})
            project_id = str(extra.get("projectId") or r.name.rsplit("/", 1)[-1])
            if number:
                self.g.projects.setdefault(number, project_id)

        return self._call(
            "SearchAllResources",
            ["gcp.project"],
            lambda: self.client.search_all_resources(
                request={
                    "scope": self.source.scope,
                    "asset_types": [PROJECT_ASSET],
                    "page_size": self.source.page_size,
                },
                retry=self.retry,
                timeout=self.timeout,
            ),
            each,
        )

    def resources(self) -> None:
        def each(asset: Any) -> None:
            data = _to_dict(asset._pb.resource.data) if asset._pb.HasField("resource") else {}
            rtype = resource_type(asset.asset_type)
            project = _project_of(asset.ancestors, data)
            if asset.asset_type == PROJECT_ASSET and data.get("projectNumber"):
                project = f"projects/{data['projectNumber']}"
                self.g.projects[project] = str(data.get("projectId") or project)
            name = str(data.get("name") or asset.name.rsplit("/", 1)[-1])
            attrs = {
                **data,
                "_parent": asset.resource.parent,
                "_location": asset.resource.location,
                "_project": project,
                "_ancestors": list(asset.ancestors),
            }
            self.g.resources[asset.name] = Resource(
                provider="gcp",
                account=project,
                region=_region(asset),
                type=rtype,
                id=asset.name,
                name=name,
                attributes=attrs,
                observations=OBSERVATIONS.get(rtype, ()),
            )
            self._keep_inherited(asset, data)

        if not self.asset_types:  # a part above the projects of a source that lists none of its types
            return
        failure = self._list(
            self.source.scope, "RESOURCE", self.asset_types, each, [resource_type(t) for t in self.asset_types]
        )
        if all(t in self.asset_types for t in ANCESTOR_RESOURCE_TYPES):
            self._cover(SETTINGS, self._scope_root(), failure)
        else:
            self._cover(SETTINGS, self._scope_root(), "log sinks and essential contacts are not in asset_types")

    def _keep_inherited(self, asset: Any, data: dict[str, Any]) -> None:
        """Log sinks and essential contacts set on an organization or folder, by where they are set."""
        ancestors = list(asset.ancestors)
        if asset.asset_type not in ANCESTOR_RESOURCE_TYPES or not ancestors or _project_of(ancestors, data):
            return
        where = self.g.hierarchy.sinks if asset.asset_type == LOG_SINK_ASSET else self.g.hierarchy.contacts
        items = where.setdefault(ancestors[0], [])
        if all(i.get("name") != data.get("name") for i in items):
            items.append(data)

    def _hierarchy_policy(self, asset: Any) -> None:
        if asset.asset_type in HIERARCHY_TYPES:
            self.g.hierarchy.iam[asset.name.removeprefix(RM_PREFIX)] = _to_dict(asset._pb.iam_policy)

    def asset_policies(self) -> None:
        wanted = [t for t in IAM_POLICY_TYPES if t in self.asset_types]
        policies: dict[str, dict[str, Any]] = {}

        def each(asset: Any) -> None:
            policies[asset.name] = _to_dict(asset._pb.iam_policy)
            self._hierarchy_policy(asset)

        failure = self._list(
            self.source.scope, "IAM_POLICY", wanted + list(HIERARCHY_TYPES), each, [resource_type(t) for t in wanted]
        )
        self._cover(IAM, self._scope_root(), failure)
        failed = bool(failure)
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

    def _org_policy(self, asset: Any) -> None:
        node = asset.name.removeprefix(RM_PREFIX)
        self.g.hierarchy.org_policies[node] = [_to_dict(p) for p in asset._pb.org_policy]

    def org_policies(self) -> None:
        # a failure starves no listed type: each project carries it for the constraints it leaves unknown
        failure = self._list(self.source.scope, "ORG_POLICY", list(ORG_POLICY_TYPES), self._org_policy, [""])
        self._cover(ORG_POLICY, self._scope_root(), failure)

    def above_scope(self) -> None:
        """For a folder or project scope: what the projects inherit from the organization and the
        folders above the scope, listed on the organization (needs cloudasset.viewer there). A project
        part of a folder's source that cannot read the organization reads that folder instead, as the
        whole source would have."""
        roots = sorted(
            {chain[-1] for chain in self._chains() if chain[-1].startswith("organizations/")} - {self.source.scope}
        )
        settings = [t for t in ANCESTOR_RESOURCE_TYPES if t in self.asset_types]
        fallback = self.source.split_from if self.source.split_from.startswith("folders/") else ""
        kinds: list[tuple[str, list[str], Callable[[Any], None]]] = [
            (IAM, list(HIERARCHY_TYPES), self._hierarchy_policy),
            (ORG_POLICY, list(HIERARCHY_TYPES), self._org_policy),
        ]
        if len(settings) == len(ANCESTOR_RESOURCE_TYPES):
            kinds.append((SETTINGS, settings, lambda a: self._keep_inherited(a, _to_dict(a._pb.resource.data))))
        for root in roots:
            for kind, types, each in kinds:
                failure = self._list(root, kind, types, each, [""])
                self._cover(kind, root, failure)
                if failure and fallback:
                    self._cover(kind, fallback, self._list(fallback, kind, types, each, [""]))

    def _chains(self) -> list[list[str]]:
        return [
            list(r.attributes.get("_ancestors") or [r.account])
            for r in self.g.resources.values()
            if r.type == "gcp.project"
        ]

    def identity(self) -> None:
        if not self.source.cloud_identity_admin:
            return
        self.ctx.check_cancelled()
        policies, failure = read_policies(self.source, self.creds)
        self.ctx.on_api_call("cloudidentity", "ListPolicies", failure.split(":", 1)[0] if failure else None)
        # the customer belongs to the organization: its snapshot, or the scope's own for a narrower scope
        root = self._scope_root()
        account = self.g.projects.get(root, root) if root.startswith("projects/") else root
        rid = "//cloudidentity.googleapis.com/customers/my_customer"
        self.g.resources[rid] = Resource(
            provider="gcp",
            account=account,
            region="global",
            type=CUSTOMER_TYPE,
            id=rid,
            name="my_customer",
            attributes={} if failure else {"customer": "customers/my_customer", "policies": policies},
            errors={"policies": failure} if failure else {},
        )

    def link(self) -> None:
        """Attach inherited settings to each project and destination settings to each log sink."""
        for rid, r in list(self.g.resources.items()):
            if r.type == "gcp.project":
                chain = list(r.attributes.get("_ancestors") or [r.account])
                attrs, errors = inherited(chain, self.g.hierarchy)
                self.g.resources[rid] = Resource(
                    **{**_fields(r), "attributes": {**r.attributes, **attrs}, "errors": {**r.errors, **errors}}
                )
            elif r.type == resource_type(LOG_SINK_ASSET):
                dest, why = self._destination(str(r.attributes.get("destination") or ""))
                fields = _fields(r)
                if why:
                    fields["errors"] = {**r.errors, "_destination": why}
                else:
                    fields["attributes"] = {**r.attributes, "_destination": dest}
                self.g.resources[rid] = Resource(**fields)

    def _destination(self, dest: str) -> tuple[dict[str, Any], str]:
        """The settings of a sink's destination that decide whether its logs can be deleted early."""
        service, _, path = dest.partition("/")
        if service == "storage.googleapis.com":
            candidates, rtype = [f"//storage.googleapis.com/projects/_/buckets/{path}"], "gcp.storage.bucket"
        elif service == "logging.googleapis.com":
            candidates, rtype = self._log_bucket_ids(path), "gcp.logging.log_bucket"
        else:
            return {"type": "other", "destination": dest}, ""
        for cid in candidates:
            found = self.g.resources.get(cid)
            if found is not None:
                a = found.attributes
                if rtype == "gcp.storage.bucket":
                    return {"type": rtype, "resource": cid, "retentionPolicy": a.get("retentionPolicy") or {}}, ""
                return {
                    "type": rtype,
                    "resource": cid,
                    "locked": a.get("locked") is True,
                    "retentionDays": a.get("retentionDays"),
                }, ""
        if any(e.resource_type == rtype for e in self.g.errors):
            return {}, f"destination {dest}: {rtype} could not be listed"
        return {}, f"destination {dest} is not among the collected {rtype} resources (outside the scope or deleted)"

    def _log_bucket_ids(self, path: str) -> list[str]:
        parts = path.split("/")
        ids = [f"//logging.googleapis.com/{path}"]
        if len(parts) > 2 and parts[0] == "projects":
            for number, project_id in self.g.projects.items():
                if parts[1] in (project_id, number.removeprefix("projects/")):
                    for alias in (project_id, number.removeprefix("projects/")):
                        ids.append("//logging.googleapis.com/" + "/".join(["projects", alias, *parts[2:]]))
        return ids

    def iam_policies(self) -> None:
        def each(r: Any) -> None:
            policy = _to_dict(r._pb.policy)
            project = str(r.project or "")
            owner = project or str(r.organization or "") or (list(r.folders)[-1] if r.folders else "")
            rid = f"{r.resource}#iamPolicy"
            attrs = {
                "resource": r.resource,
                "assetType": r.asset_type,
                "project": project,
                "folders": list(r.folders),
                "organization": r.organization,
                "bindings": policy.get("bindings", []),
            }
            self.g.resources[rid] = Resource(
                provider="gcp",
                account=owner,
                region="global",
                type=POLICY_TYPE,
                id=rid,
                name=r.resource.rsplit("/", 2)[-1],
                attributes=attrs,
            )

        self._call(
            "SearchAllIamPolicies",
            [POLICY_TYPE],
            lambda: self.client.search_all_iam_policies(
                request={"scope": self.source.scope, "page_size": self.source.page_size},
                retry=self.retry,
                timeout=self.timeout,
            ),
            each,
        )


def _fields(r: Resource) -> dict[str, Any]:
    return {
        "provider": r.provider,
        "account": r.account,
        "region": r.region,
        "type": r.type,
        "id": r.id,
        "name": r.name,
        "attributes": r.attributes,
        "errors": r.errors,
        "observations": r.observations,
    }


def _region(asset: Any) -> str:
    loc = str(getattr(asset.resource, "location", "") or "").lower()
    return loc or "global"


def collect(source: GcpSource, ctx: CollectContext) -> list[Snapshot]:
    """One Snapshot per project of ``source.scope`` (plus one per organisation/folder with a policy);
    for ``source.above_projects``, only the latter."""
    started = utcnow()
    creds = credentials(source)
    run = _Run(source, ctx, build_client(source, creds), creds)
    steps: tuple[Callable[[], object], ...] = (
        run.projects,
        run.resources,
        run.asset_policies,
        run.org_policies,
        run.above_scope,
        run.iam_policies,
        run.identity,
        run.link,
    )
    if source.above_projects:  # nothing a project inherits: no project is collected
        steps = (run.projects, run.resources, run.iam_policies, run.identity, run.link)
    ctx.progress.add_total(len(steps))
    for step in steps:
        step()
        ctx.progress.advance(1, f"{source.scope} {step.__name__}")
    return _snapshots(source, run.g, started)


def _snapshots(source: GcpSource, g: _Gathered, started: Any) -> list[Snapshot]:
    finished = utcnow()
    by_account: dict[str, list[Resource]] = {}
    for key in g.projects:
        if not source.above_projects:
            by_account.setdefault(g.projects[key], [])
    for r in g.resources.values():
        if source.above_projects and r.account.startswith("projects/"):
            continue  # read for a sink's destination or listed with the scope: the project parts' own
        account = g.projects.get(r.account, r.account.removeprefix("projects/")) if r.account else source.scope
        moved = Resource(**{**_fields(r), "account": account})
        by_account.setdefault(account, []).append(moved)
    if not by_account:
        by_account[source.scope.removeprefix("projects/")] = []
    out = []
    for account in sorted(by_account):
        resources = sorted(by_account[account], key=lambda r: (r.type, r.id))
        out.append(
            Snapshot(
                source=source.name,
                provider="gcp",
                account=account,
                started_at=started,
                finished_at=finished,
                resources=tuple(resources),
                errors=tuple(sorted(g.errors, key=lambda e: (e.resource_type, e.operation))),
            )
        )
    return out


def parts(source: GcpSource, ctx: CollectContext) -> list[str]:
    """What a scheduler splits this source into, one task each (agent/scale/). An organization or
    folder scope: the scope itself, for the snapshots of what is set above its projects (their
    accounts are the organization or folders), then each project in it by id, found by the same
    read-only SearchAllResources call as a collection's. A project scope is one part. Raises
    AgentError when the projects cannot be listed: the caller then keeps the source whole."""
    if source.scope.startswith("projects/"):
        return [source.scope.removeprefix("projects/")]
    creds = credentials(source)
    run = _Run(source, ctx, build_client(source, creds), creds)
    failure = run.projects()
    if failure:
        raise AgentError(f"source {source.name}: the projects of {source.scope} could not be listed: {failure}")
    return [source.scope, *sorted(set(run.g.projects.values()))]


def part_of(source: GcpSource, part: str) -> GcpSource:
    """``source`` narrowed to one of its ``parts``: what is set above its projects, or one project,
    collected as a project scope (with what it inherits, without the Cloud Identity customer, which
    belongs to the part above the projects)."""
    if source.scope.startswith("projects/"):
        return source
    if part == source.scope:
        return source.only_above_projects()
    if not _PROJECT_ID.fullmatch(part):
        raise ValueError(f"{part!r} is not a project of source {source.name}")
    return source.project_part(part)


_PROJECT_ID = re.compile(r"[A-Za-z0-9_.:-]+")  # the config's scope pattern, after "projects/"
