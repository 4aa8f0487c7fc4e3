"""Compute Engine helpers shared by the instance checks: metadata flags, the operating system, GKE nodes,
and the organization policies a project inherits. The registry skips this module (leading underscore).
"""

from __future__ import annotations

from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, need

__all__ = [
    "REQUIRE_OS_LOGIN",
    "SERIAL_PORT_OFF",
    "compute_project",
    "is_gke_node",
    "is_windows",
    "metadata_flag",
    "org_constraint",
    "os_login",
    "project_of",
]

REQUIRE_OS_LOGIN = "constraints/compute.requireOsLogin"
SERIAL_PORT_OFF = "constraints/compute.disableSerialPortAccess"
_TRUE = ("true", "1", "yes", "y", "on")


def metadata_flag(metadata: Any, key: str) -> bool | None:
    """A boolean metadata item (TRUE/true/1/yes...), or None when the key is not set."""
    for item in (metadata or {}).get("items") or []:
        if str(item.get("key", "")).lower() == key:
            return str(item.get("value", "")).strip().lower() in _TRUE
    return None


def is_windows(instance: Resource) -> bool:
    """Windows images carry a windows-cloud license and the WINDOWS guest OS feature on their disks."""
    for disk in instance.attributes.get("disks") or []:
        licenses = [str(lic) for lic in disk.get("licenses") or []]
        if any("/windows-cloud/" in lic or "/windows-sql-cloud/" in lic for lic in licenses):
            return True
        if any(str(f.get("type")) == "WINDOWS" for f in disk.get("guestOsFeatures") or []):
            return True
    return False


def is_gke_node(instance: Resource) -> bool:
    """GKE creates its nodes with the goog-gke-node label (a gke- name alone proves nothing)."""
    return "goog-gke-node" in (instance.attributes.get("labels") or {})


def project_of(ctx: Context, resource: Resource) -> Resource | None:
    return next((p for p in ctx.snapshot.of_type("gcp.project") if p.account == resource.account), None)


def compute_project(ctx: Context, resource: Resource) -> Resource:
    found = [p for p in ctx.snapshot.of_type("gcp.compute.project") if p.account == resource.account]
    if not found:
        raise MissingInput(f"compute settings of project {resource.account} are not in this snapshot")
    return found[0]


def org_constraint(ctx: Context, resource: Resource, constraint: str) -> tuple[bool, str]:
    """(enforced, where it is set) of a boolean organization-policy constraint for the resource's
    project; MissingInput when the project or an ancestor's policies could not be read."""
    project = project_of(ctx, resource)
    if project is None:
        raise MissingInput(f"project {resource.account} is not in this snapshot, so {constraint} is unknown")
    key = f"orgPolicy:{constraint}"
    if key in project.errors:
        raise MissingInput(project.errors[key])
    effective = need(project, "effectiveOrgPolicies")
    if constraint not in effective:
        raise MissingInput(f"{constraint} was not evaluated for project {resource.account}")
    value = effective[constraint]
    return value.get("enforced") is True, str(value.get("setOn") or "default")


def os_login(ctx: Context, instance: Resource) -> tuple[bool, str]:
    """Whether OS Login applies to the instance, and why. The organization policy compute.requireOsLogin
    overrides metadata; otherwise instance metadata overrides project metadata. MissingInput when
    the answer depends on what could not be read."""
    policy_unknown = ""
    try:
        enforced, where = org_constraint(ctx, instance, REQUIRE_OS_LOGIN)
        if enforced:
            return True, f"organization policy compute.requireOsLogin enforced on {where}"
    except MissingInput as exc:
        policy_unknown = str(exc)
    own = metadata_flag(need(instance, "metadata"), "enable-oslogin")
    if own is not None:
        on, where = own, "instance metadata"
    else:
        on = bool(metadata_flag(need(compute_project(ctx, instance), "commonInstanceMetadata"), "enable-oslogin"))
        where = "project metadata"
    if not on and policy_unknown:
        raise MissingInput(
            f"OS Login is off in {where}, but the organization policy compute.requireOsLogin "
            f"could override it: {policy_unknown}"
        )
    return on, where
