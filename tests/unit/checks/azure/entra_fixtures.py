"""Hand-built Entra ID resources in the shapes the collector records (raw Graph fields, trimmed)."""

from __future__ import annotations

from typing import Any

from azure_check_fixtures import TENANT, ago

from agent.models import Resource

GA = "62e90394-69f5-4237-9190-012177145e10"
PRA = "e8611ab8-c189-46e8-94e1-60213ab1f814"
READER = "5d6b6bb7-de71-4623-b4af-96380a352509"
SEC_ADMIN = "194ae4cb-b126-40b2-bd5b-6091b380977d"
NAMES = {
    GA: "Global Administrator",
    PRA: "Privileged Role Administrator",
    READER: "Security Reader",
    SEC_ADMIN: "Security Administrator",
}
CAPABLE = {"isMfaRegistered": True, "isMfaCapable": True, "methodsRegistered": ["microsoftAuthenticatorPush"]}
NOT_REGISTERED = {"isMfaRegistered": False, "isMfaCapable": False, "methodsRegistered": []}
# The method was registered, but the authentication methods policy no longer allows it (e.g. SMS off).
REGISTERED_NOT_CAPABLE = {"isMfaRegistered": True, "isMfaCapable": False, "methodsRegistered": ["mobilePhone"]}
NO_P1 = "Authentication_RequestFromNonPremiumTenantOrB2CTenant: Neither tenant is B2C or tenant doesn't have premium license"
NO_P2 = "AadPremiumLicenseRequired: The tenant needs an AAD Premium 2 license. (Microsoft Entra ID P2 (PIM) is needed)"
SD_OFF = {"isEnabled": False}


def role(
    template: str = GA,
    assignment: str = "active",
    *,
    group: str | None = None,
    end: str | None = None,
    permanent: bool | None = True,
) -> dict[str, Any]:
    held: dict[str, Any] = {
        "name": NAMES.get(template, template),
        "templateId": template,
        "scope": "/",
        "assignment": assignment,
        "endDateTime": end,
        "permanent": permanent,
    }
    if group:
        held["group"] = {"id": group, "displayName": group.title()}
    return held


def user(
    oid: str = "u1", upn: str = "alice@contoso.example", errors: dict[str, str] | None = None, **over: Any
) -> Resource:
    attrs: dict[str, Any] = {
        "id": oid,
        "userPrincipalName": upn,
        "userType": "Member",
        "accountEnabled": True,
        "createdDateTime": ago(400),
        "Registration": CAPABLE,
        "Roles": [],
        "EligibleRoles": [],
        "SignInActivity": {
            "lastSignInDateTime": ago(3),
            "lastNonInteractiveSignInDateTime": None,
            "lastSuccessfulSignInDateTime": ago(3),
        },
        "PerUserMfa": {"perUserMfaState": "disabled"},
    }
    attrs.update(over)
    for key in errors or {}:
        attrs.pop(key, None)
    return Resource(
        provider="azure",
        account=TENANT,
        region="global",
        type="azure.entra.user",
        id=f"entra:{TENANT}:user:{oid}",
        name=upn,
        attributes=attrs,
        errors=dict(errors or {}),
    )


def guest(oid: str = "g1", **over: Any) -> Resource:
    return user(oid, "gus_partner.example#EXT#@contoso.example", userType="Guest", Registration=None, **over)


def tenant(errors: dict[str, str] | None = None, **over: Any) -> Resource:
    attrs: dict[str, Any] = {
        "tenantId": TENANT,
        "SecurityDefaults": SD_OFF,
        "ConditionalAccessPolicies": [],
        "GroupMembers": {},
        "RoleAssignments": [],
    }
    attrs.update(over)
    for key in errors or {}:
        attrs.pop(key, None)
    return Resource(
        provider="azure",
        account=TENANT,
        region="global",
        type="azure.entra.tenant",
        id=f"entra:{TENANT}:tenant",
        name=TENANT,
        attributes=attrs,
        errors=dict(errors or {}),
    )


def groups(**members: list[str]) -> dict[str, Any]:
    """GroupMembers: group id -> display name and user member ids."""
    return {gid: {"displayName": gid.replace("_", " ").title(), "members": ids} for gid, ids in members.items()}


def ca(
    name: str = "MFA all",
    *,
    state: str = "enabled",
    users: dict[str, Any] | None = None,
    apps: dict[str, Any] | None = None,
    grant: dict[str, Any] | None = None,
    **conditions: Any,
) -> dict[str, Any]:
    """A Conditional Access policy as Graph v1.0 returns it (defaults: all users, all apps, require MFA)."""
    return {
        "id": name.lower().replace(" ", "-"),
        "displayName": name,
        "state": state,
        "conditions": {
            "users": {
                "includeUsers": ["All"],
                "excludeUsers": [],
                "includeGroups": [],
                "excludeGroups": [],
                "includeRoles": [],
                "excludeRoles": [],
                "includeGuestsOrExternalUsers": None,
                "excludeGuestsOrExternalUsers": None,
                **(users or {}),
            },
            "applications": {
                "includeApplications": ["All"],
                "excludeApplications": [],
                "includeUserActions": [],
                "applicationFilter": None,
                **(apps or {}),
            },
            "clientAppTypes": ["all"],
            "userRiskLevels": [],
            "signInRiskLevels": [],
            "servicePrincipalRiskLevels": [],
            "platforms": None,
            "locations": None,
            "devices": None,
            "clientApplications": None,
            **conditions,
        },
        "grantControls": {
            "operator": "OR",
            "builtInControls": ["mfa"],
            "customAuthenticationFactors": [],
            "termsOfUse": [],
            "authenticationStrength": None,
            **(grant or {}),
        },
    }


MFA_STRENGTH = {
    "id": "00000000-0000-0000-0000-000000000002",
    "displayName": "Multifactor authentication",
    "policyType": "builtIn",
    "requirementsSatisfied": "mfa",
}


def app(errors: dict[str, str] | None = None, **over: Any) -> Resource:
    attrs: dict[str, Any] = {
        "id": "a1",
        "appId": "11111111-aaaa-bbbb-cccc-000000000001",
        "displayName": "billing",
        "passwordCredentials": [],
        "keyCredentials": [],
    }
    attrs.update(over)
    for key in errors or {}:
        attrs.pop(key, None)
    return Resource(
        provider="azure",
        account=TENANT,
        region="global",
        type="azure.entra.application",
        id=f"entra:{TENANT}:application:a1",
        name="billing",
        attributes=attrs,
        errors=dict(errors or {}),
    )


def secret(start: float, end: float, name: str = "ci") -> dict[str, Any]:
    """A client secret valid from ``start`` days ago to ``end`` days ago (negative: in the future)."""
    return {"keyId": "k-" + name, "displayName": name, "startDateTime": ago(start), "endDateTime": ago(end)}
