"""Directory role holdings: who holds which role, how (directly or through a role-assignable group),
active or eligible (PIM), permanent or until when. Service principals are recorded too."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from collectors.azure.entra_groups import Groups, err_text, is_licence_error, object_type
from collectors.azure.http import ApiError, AzureHttp

__all__ = ["RoleData", "collect_roles"]

_BASE = "/v1.0/roleManagement/directory"
_P2 = "Microsoft Entra ID P2 (PIM) is needed for role schedules"


@dataclass
class RoleData:
    """``active``/``eligible``: user object id -> holdings. ``assignments``: every assignment with its
    principal (users, groups with their members, service principals) for the tenant resource.
    An empty error means the part was read; ``eligible`` is None when eligibility could not be read."""

    assignments: list[dict[str, Any]] = field(default_factory=list)
    active: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    eligible: dict[str, list[dict[str, Any]]] | None = field(default_factory=dict)
    error: str = ""
    eligible_error: str = ""
    schedules_error: str = ""
    group_error: str = ""


def _principal(raw: dict[str, Any]) -> dict[str, Any]:
    p = raw.get("principal") or {}
    info = {
        "id": str(raw.get("principalId") or p.get("id") or ""),
        "type": object_type(p) if p else "unknown",
        "displayName": p.get("displayName"),
        "userPrincipalName": p.get("userPrincipalName"),
        "appId": p.get("appId"),
    }
    return {k: v for k, v in info.items() if v}


def _key(raw: dict[str, Any]) -> tuple[str, str, str]:
    return (str(raw.get("principalId")), str(raw.get("roleDefinitionId")), str(raw.get("directoryScopeId") or "/"))


def collect_roles(http: AzureHttp, groups: Groups) -> RoleData:
    try:
        definitions = {
            str(d.get("id")): d
            for d in http.list(
                "graph",
                f"{_BASE}/roleDefinitions",
                {"$select": "id,displayName,templateId"},
                operation="ListRoleDefinitions",
            )
        }
        active = http.list(
            "graph", f"{_BASE}/roleAssignments", {"$expand": "principal"}, operation="ListRoleAssignments"
        )
    except ApiError as exc:
        return RoleData(error=err_text(exc), eligible=None)
    data = RoleData()
    schedules: dict[tuple[str, str, str], dict[str, Any]] = {}
    try:
        for s in http.list(
            "graph", f"{_BASE}/roleAssignmentScheduleInstances", operation="ListRoleAssignmentScheduleInstances"
        ):
            schedules[_key(s)] = s
    except ApiError as exc:
        data.schedules_error = err_text(exc) + (f" ({_P2})" if is_licence_error(exc) else "")
    try:
        eligible = http.list(
            "graph",
            f"{_BASE}/roleEligibilityScheduleInstances",
            {"$expand": "principal"},
            operation="ListRoleEligibilityScheduleInstances",
        )
    except ApiError as exc:
        # Without P2 there is no PIM, and so no eligible assignment: an empty list is the fact.
        eligible = []
        if not is_licence_error(exc):
            data.eligible, data.eligible_error = None, err_text(exc)

    def holding(raw: dict[str, Any], assignment: str) -> dict[str, Any]:
        d = definitions.get(str(raw.get("roleDefinitionId"))) or {}
        if assignment == "active":
            sched = schedules.get(_key(raw))
            end = (sched or {}).get("endDateTime")
            permanent: bool | None = None if data.schedules_error else end is None
        else:
            end = raw.get("endDateTime")
            permanent = end is None
        return {
            "name": str(d.get("displayName") or raw.get("roleDefinitionId")),
            "templateId": str(d.get("templateId") or raw.get("roleDefinitionId") or ""),
            "scope": str(raw.get("directoryScopeId") or "/"),
            "assignment": assignment,
            "endDateTime": end,
            "permanent": permanent,
        }

    failed_groups = []
    for raws, assignment in ((active, "active"), (eligible, "eligible")):
        target = data.active if assignment == "active" else data.eligible
        for raw in raws:
            entry, principal = holding(raw, assignment), _principal(raw)
            record = {**entry, "principal": principal}
            if principal.get("type") == "group":
                gid = principal["id"]
                if groups.read(gid):
                    record["members"] = groups.members(gid)
                    for m in groups.members(gid, "user"):
                        if target is not None:
                            target.setdefault(m["id"], []).append(
                                {**entry, "group": {"id": gid, "displayName": groups.name(gid)}}
                            )
                else:
                    failed_groups.append(f"group {gid}: {groups.errors[gid]}")
            elif principal.get("type") == "user" and target is not None:
                target.setdefault(principal["id"], []).append(entry)
            data.assignments.append(record)
    if failed_groups:
        data.group_error = "members of role-holding groups could not be read: " + "; ".join(failed_groups)
    return data
