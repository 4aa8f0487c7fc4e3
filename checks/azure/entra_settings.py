"""Tenant-wide user settings in the authorization policy: who may invite guests, what guests may see,
whether users may consent to apps or register them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.azure._entra import TENANT_TYPE
from checks.base import Context, MissingInput, Remediation, Severity, Verdict, check, failed, need, passed

DOCS = "https://learn.microsoft.com/entra/"
_READ = "GET /v1.0/policies/authorizationPolicy: "
_NEEDS = "Policy.Read.All (Graph, application)"
_CLI = "az rest --method GET --url https://graph.microsoft.com/v1.0/policies/authorizationPolicy"

# guestUserRoleId values (role template ids of the three guest access levels)
RESTRICTED_GUEST = "2af84b1e-32c8-42b7-82bc-daa82404023b"
_GUEST_LEVELS = {
    RESTRICTED_GUEST: "restricted to their own directory objects",
    "10dae51f-b6af-4016-8d66-8c2a99b929b3": "limited access to directory objects (the default)",
    "a0b1b346-4d3e-4e8b-98f8-753987be4970": "the same access as members",
}
_SELF_CONSENT = "ManagePermissionGrantsForSelf."
_LOW_RISK_CONSENT = _SELF_CONSENT + "microsoft-user-default-low"


def _policy(tenant: Resource) -> Mapping[str, Any]:
    policy = need(tenant, "AuthorizationPolicy")
    if not isinstance(policy, Mapping):
        raise MissingInput("the authorization policy was not returned")
    return policy


def _field(policy: Mapping[str, Any], *path: str) -> Any:
    value: Any = policy
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            raise MissingInput(f"authorizationPolicy.{'.'.join(path)} was not returned")
        value = value[key]
    return value


@check(
    id="azure.entra.guest_invites_restricted",
    title="Only administrators and Guest Inviters can invite guest users",
    severity=Severity.MEDIUM,
    resource_type=TENANT_TYPE,
    rationale=(
        "By default anyone in the organisation, guests included, can invite outsiders into the directory. "
        "Restricting invitations to admin roles keeps external access a deliberate, reviewed decision."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > External Identities > External collaboration settings > Guest invite "
            "restrictions: 'Only users assigned to specific admin roles can invite guest users' > Save."
        ),
        cli=_CLI.replace("GET", "PATCH") + ' --body \'{"allowInvitesFrom": "adminsAndGuestInviters"}\'',
        docs=DOCS + "external-id/external-collaboration-settings-configure",
    ),
    reads=(_READ + "allowInvitesFrom",),
    needs=_NEEDS,
)
def guest_invites_restricted(tenant: Resource, ctx: Context) -> Verdict:
    value = str(_field(_policy(tenant), "allowInvitesFrom"))
    if value in ("adminsAndGuestInviters", "none"):
        return passed(f"guest invitations are limited (allowInvitesFrom: {value})")
    who = {"everyone": "anyone (guests included)", "adminsGuestInvitersAndAllMembers": "every member user"}
    return failed(f"{who.get(value, value)} can invite guests (allowInvitesFrom: {value})")


@check(
    id="azure.entra.guest_access_restricted",
    title="Guest users can see only their own directory objects",
    severity=Severity.MEDIUM,
    resource_type=TENANT_TYPE,
    rationale=(
        "With the default level a guest can enumerate users, groups and their members, a map for phishing "
        "and lateral movement. The most restrictive level limits them to their own objects."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > External Identities > External collaboration settings > Guest user access: "
            "'Guest user access is restricted to properties and memberships of their own directory objects'."
        ),
        cli=_CLI.replace("GET", "PATCH") + f' --body \'{{"guestUserRoleId": "{RESTRICTED_GUEST}"}}\'',
        docs=DOCS + "identity/users/users-restrict-guest-permissions",
    ),
    reads=(_READ + "guestUserRoleId",),
    needs=_NEEDS,
)
def guest_access_restricted(tenant: Resource, ctx: Context) -> Verdict:
    value = str(_field(_policy(tenant), "guestUserRoleId")).lower()
    level = _GUEST_LEVELS.get(value, f"role {value}")
    if value == RESTRICTED_GUEST:
        return passed(f"guest access is {level}")
    return failed(f"guest users have {level}, not access restricted to their own objects")


@check(
    id="azure.entra.user_consent_restricted",
    title="Users cannot consent to applications accessing company data on their behalf",
    severity=Severity.HIGH,
    resource_type=TENANT_TYPE,
    rationale=(
        "Consent phishing gets a malicious app a user's mail and files without any password. Admin consent "
        "(or, if allowed by parameter, consent only to verified publishers for low-risk permissions) stops it."
    ),
    remediation=Remediation(
        console=(
            "Entra admin center > Enterprise applications > Consent and permissions > User consent settings: "
            "'Do not allow user consent' (or 'Allow user consent for apps from verified publishers, for selected "
            "permissions'), and set up the admin consent workflow."
        ),
        cli=_CLI.replace("GET", "PATCH")
        + ' --body \'{"defaultUserRolePermissions": {"permissionGrantPoliciesAssigned": []}}\'',
        docs=DOCS + "identity/enterprise-apps/configure-user-consent",
    ),
    params={"allow_verified_publishers": False},
    reads=(_READ + "defaultUserRolePermissions.permissionGrantPoliciesAssigned",),
    needs=_NEEDS,
)
def user_consent_restricted(tenant: Resource, ctx: Context) -> Verdict:
    assigned = _field(_policy(tenant), "defaultUserRolePermissions", "permissionGrantPoliciesAssigned") or []
    self_consent = [str(p) for p in assigned if str(p).startswith(_SELF_CONSENT)]
    if not self_consent:
        return passed("users cannot consent to applications; an administrator must")
    allowed = {_LOW_RISK_CONSENT} if ctx.params.get("allow_verified_publishers") else set()
    extra = [p.removeprefix(_SELF_CONSENT) for p in self_consent if p not in allowed]
    if not extra:
        return passed("users can consent only to verified publishers for low-risk permissions (allowed by parameter)")
    return failed(f"users can consent to applications themselves (permission grant policy {', '.join(extra)})")


@check(
    id="azure.entra.users_cannot_register_apps",
    title="Users cannot register applications",
    severity=Severity.MEDIUM,
    resource_type=TENANT_TYPE,
    rationale=(
        "Any user can register an app by default, and the app's credentials then live outside every review. "
        "Registration belongs to administrators or delegated Application Developers."
    ),
    remediation=Remediation(
        console="Entra admin center > Users > User settings > 'Users can register applications': No > Save.",
        cli=_CLI.replace("GET", "PATCH") + ' --body \'{"defaultUserRolePermissions": {"allowedToCreateApps": false}}\'',
        docs=DOCS + "identity/role-based-access-control/delegate-app-roles",
    ),
    reads=(_READ + "defaultUserRolePermissions.allowedToCreateApps",),
    needs=_NEEDS,
)
def users_cannot_register_apps(tenant: Resource, ctx: Context) -> Verdict:
    value = _field(_policy(tenant), "defaultUserRolePermissions", "allowedToCreateApps")
    if value is False:
        return passed("users cannot register applications (allowedToCreateApps: false)")
    return failed(f"every user can register applications (allowedToCreateApps: {str(value).lower()})")
