"""Every request the Okta collector may send, and the OAuth scope each one needs.

``make permissions`` (``python -m collectors.permissions --write``) writes from ``REQUESTS`` the
allowlist the HTTP client enforces before anything leaves the process
(collectors/okta/allowed_requests.py) and the request table of docs/okta-permissions.md; a test fails
while either is stale. After adding a request to the collector, declare it here.

Paths are templates relative to the org URL: ``{name}`` is one path segment. ``SCOPES`` (what the agent
asks for with ``auth: oauth``) is derived from the declarations, so it never grants more than is used.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REQUESTS", "Request", "SCOPES", "TOKEN_PATH"]

TOKEN_PATH = "/oauth2/v1/token"


@dataclass(frozen=True)
class Request:
    """One request the collector may send."""

    method: str
    path: str  # template relative to the org URL
    scope: str  # the OAuth scope it needs ("" for the token request itself)
    purpose: str  # what it is read for
    by: str  # the module that sends it


_BY = "collectors/okta/"

REQUESTS: tuple[Request, ...] = (
    Request("GET", "/api/v1/users", "okta.users.read", "`okta.user`: status, profile, lastLogin", _BY + "users.py"),
    Request(
        "GET",
        "/api/v1/users/{userId}/factors",
        "okta.users.read",
        "`okta.user` `Factors`: factorType, provider, status",
        _BY + "users.py",
    ),
    Request(
        "GET", "/api/v1/users/{userId}/roles", "okta.roles.read", "`okta.user` `Roles`: admin roles", _BY + "users.py"
    ),
    Request(
        "GET",
        "/api/v1/policies",
        "okta.policies.read",
        "`okta.org` `PasswordPolicies`, `SignOnPolicies`, `AccessPolicies` "
        "(type=PASSWORD, OKTA_SIGN_ON, ACCESS_POLICY)",
        _BY + "policies.py",
    ),
    Request(
        "GET",
        "/api/v1/policies/{policyId}/rules",
        "okta.policies.read",
        "`okta.org`: the rules of each sign-on and authentication policy",
        _BY + "policies.py",
    ),
    # Only with auth: oauth. Not a change to the org: the client-credentials grant of the org
    # authorization server, which answers an access token limited to SCOPES.
    Request("POST", TOKEN_PATH, "", "an access token (auth: oauth only; client credentials grant)", _BY + "http.py"),
)

SCOPES: tuple[str, ...] = tuple(sorted({r.scope for r in REQUESTS if r.scope}))
