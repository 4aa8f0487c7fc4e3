"""What the Azure and Intune collectors may request, and the permission each request needs.

- Microsoft Graph: every request the Entra ID and Intune collectors send, declared below (``GRAPH``)
  with the application permission it needs and the module that sends it.
- Azure Resource Manager: every read follows from the resource table (collectors/azure/arm.py): the
  subscriptions listing, the subscription's own details, each type's listing (under its subscription,
  or under each resource of its parent type) and each detail read under a resource. Each needs the
  ``read`` action of the type its path names (``arm_action``).

``make permissions`` (``python -m collectors.permissions --write``) writes from these the allowlist
the HTTP client enforces before anything is sent (collectors/azure/allowed_requests.py) and the
request tables of docs/azure-permissions.md; a test fails while either is stale. After adding a Graph
request, add it here; after adding an ARM row or detail, nothing but ``make permissions``.

Paths are templates: ``{name}`` is one path segment, ``{v1.0|beta}`` one of the literals.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.azure import arm

__all__ = ["GRAPH", "Request", "arm_action", "arm_requests", "requests"]


@dataclass(frozen=True)
class Request:
    """One GET the collectors may send."""

    api: str  # "graph" or "arm"
    path: str  # template, relative to the API's base URL
    permissions: tuple[str, ...]  # Graph application permissions, or the ARM (RBAC) action
    purpose: str  # who sends it (Graph: the module; ARM: the resource type and attribute it fills)
    api_version: str = ""  # ARM only


def _graph(path: str, *permissions: str, by: str) -> Request:
    return Request("graph", path, permissions, by)


_ENTRA = "collectors/azure/"
_INTUNE = "collectors/endpoints/intune.py"
_DEVICE = "/deviceManagement/managedDevices/{id}"

#: Every Graph request, with the application permissions it needs (docs/azure-permissions.md says what for).
GRAPH: tuple[Request, ...] = (
    _graph("/v1.0/users", "User.Read.All", "AuditLog.Read.All", by=_ENTRA + "entra.py"),
    _graph("/v1.0/users/{id}/authentication/methods", "UserAuthenticationMethod.Read.All", by=_ENTRA + "entra_auth.py"),
    _graph("/beta/users/{id}/authentication/requirements", "Policy.Read.All", by=_ENTRA + "entra_auth.py"),
    _graph(
        "/v1.0/reports/authenticationMethods/userRegistrationDetails", "AuditLog.Read.All", by=_ENTRA + "entra_auth.py"
    ),
    *(
        _graph(f"/v1.0/roleManagement/directory/{r}", "RoleManagement.Read.Directory", by=_ENTRA + "entra_roles.py")
        for r in (
            "roleDefinitions",
            "roleAssignments",
            "roleAssignmentScheduleInstances",
            "roleEligibilityScheduleInstances",
        )
    ),
    _graph("/v1.0/groups/{id}", "GroupMember.Read.All", by=_ENTRA + "entra_groups.py"),
    _graph("/v1.0/groups/{id}/transitiveMembers", "GroupMember.Read.All", by=_ENTRA + "entra_groups.py"),
    *(
        _graph(path, "Policy.Read.All", by=_ENTRA + "entra_policies.py")
        for path in (
            "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy",
            "/v1.0/identity/conditionalAccess/policies",
            "/v1.0/policies/authorizationPolicy",
            "/v1.0/policies/authenticationMethodsPolicy",
        )
    ),
    _graph("/v1.0/applications", "Application.Read.All", by=_ENTRA + "entra_policies.py"),
    _graph("/v1.0/deviceManagement/deviceCompliancePolicies", "DeviceManagementConfiguration.Read.All", by=_INTUNE),
    _graph("/v1.0/deviceManagement/managedDevices", "DeviceManagementManagedDevices.Read.All", by=_INTUNE),
    # the protection state path is configurable (v1.0 or beta); the other per-device reads follow it
    _graph("/{v1.0|beta}" + _DEVICE + "/windowsProtectionState", "DeviceManagementManagedDevices.Read.All", by=_INTUNE),
    _graph("/{v1.0|beta}" + _DEVICE + "/detectedApps", "DeviceManagementManagedDevices.Read.All", by=_INTUNE),
    _graph(
        "/{v1.0|beta}" + _DEVICE + "/deviceCompliancePolicyStates", "DeviceManagementConfiguration.Read.All", by=_INTUNE
    ),
    _graph(
        "/{v1.0|beta}" + _DEVICE + "/deviceCompliancePolicyStates/{policyId}/settingStates",
        "DeviceManagementConfiguration.Read.All",
        by=_INTUNE,
    ),
)


def arm_action(path: str) -> str:
    """The RBAC action a GET of ``path`` needs: ``read`` on the type the last provider segment names
    (``.../providers/Microsoft.Sql/servers/{name}/databases/{name}/transparentDataEncryption/current``
    -> ``Microsoft.Sql/servers/databases/transparentDataEncryption/read``)."""
    if "/providers/" not in path:
        if path.rstrip("/") == "/subscriptions":
            return "Microsoft.Resources/subscriptions/read"
        raise ValueError(f"no provider in ARM path {path}")
    namespace, *rest = path.rsplit("/providers/", 1)[1].split("/")
    types = rest[0::2]  # type, name, child type, name...: a trailing literal (default, current) is a name
    return "/".join([namespace, *types, "read"])


def arm_requests() -> tuple[Request, ...]:
    """Every ARM read the resource table makes, in table order."""
    sub = "/subscriptions/{subscriptionId}"
    out = [Request("arm", "/subscriptions", (), f"`{arm.SUBSCRIPTION_TYPE}`", arm.SUBSCRIPTIONS_API)]
    out += [
        Request("arm", sub + d.path, (), f"`{arm.SUBSCRIPTION_TYPE}` `{d.attribute}`", d.api_version)
        for d in arm.SUBSCRIPTION_DETAILS
    ]
    items: dict[str, str] = {}  # type -> template of its resources' ids
    for row in arm.TABLE:
        listing = (items[row.parent] if row.parent else sub) + row.path
        # a type listed under the subscription has resource-group ids: /subscriptions/../resourceGroups/../providers/..
        items[row.type] = (
            items[row.parent] + row.path if row.parent else sub + "/resourceGroups/{resourceGroup}" + row.path
        ) + "/{name}"
        out.append(Request("arm", listing, (), f"`{row.type}`", row.api_version))
        out += [
            Request("arm", items[row.type] + d.path, (), f"`{row.type}` `{d.attribute}`", d.api_version)
            for d in row.details
        ]
    return tuple(Request(r.api, r.path, (arm_action(r.path),), r.purpose, r.api_version) for r in out)


def requests() -> tuple[Request, ...]:
    """Every request the Azure and Intune collectors may send."""
    return GRAPH + arm_requests()
