"""The org's policies for ``okta.org``: password policies, global session (sign-on) policies and, in
Identity Engine orgs, authentication (access) policies, each sign-on and access policy with its rules.

A kind that could not be read completely (the listing, or the rules of one of its policies) is an
error for the whole kind: a policy without its rules could hide the one rule that lets people in
without MFA. A Classic Engine org has no ACCESS_POLICY type; Okta answers that request with a 400,
recorded like any other error (the checks only need access policies in Identity Engine orgs).
"""

from __future__ import annotations

import re
from typing import Any

from collectors.okta.http import ApiError, OktaHttp

__all__ = ["POLICY_KINDS", "collect_policies"]

# attribute on okta.org -> (policy type, whether its rules are read)
POLICY_KINDS: dict[str, tuple[str, bool]] = {
    "PasswordPolicies": ("PASSWORD", False),
    "SignOnPolicies": ("OKTA_SIGN_ON", True),
    "AccessPolicies": ("ACCESS_POLICY", True),
}
_POLICY_KEEP = ("id", "type", "name", "status", "priority", "system", "conditions", "settings")
_RULE_KEEP = ("id", "name", "status", "priority", "system", "type", "conditions", "actions")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _keep(item: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: item[k] for k in keys if k in item}


def _kind(http: OktaHttp, policy_type: str, with_rules: bool) -> list[dict[str, Any]]:
    policies = [
        _keep(p, _POLICY_KEEP)
        for p in http.list("/api/v1/policies", {"type": policy_type}, operation=f"ListPolicies:{policy_type}")
    ]
    if with_rules:
        for policy in policies:
            pid = str(policy.get("id") or "")
            if not _SAFE_ID.match(pid):
                raise ApiError(200, "InvalidResponse", f"a {policy_type} policy without a valid id: {pid[:80]!r}")
            try:
                rules = http.list(f"/api/v1/policies/{pid}/rules", operation="ListPolicyRules")
            except ApiError as exc:
                raise ApiError(
                    exc.status, exc.code, f"{exc.message} (rules of policy {policy.get('name')!r})"
                ) from None
            policy["rules"] = [_keep(r, _RULE_KEEP) for r in rules]
    return policies


def collect_policies(http: OktaHttp) -> tuple[dict[str, Any], dict[str, str]]:
    """(attributes, errors) of ``okta.org`` for each kind of policy."""
    attrs: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, (policy_type, with_rules) in POLICY_KINDS.items():
        try:
            attrs[key] = _kind(http, policy_type, with_rules)
        except ApiError as exc:
            errors[key] = exc.text()
    return attrs, errors
