"""What the Google Workspace collector may send, and the OAuth scope each request needs.

Two requests, nothing else:

- the OAuth 2.0 token request (``POST`` to ``token_url``): the JWT bearer grant of the service
  account acting as ``admin_email`` (domain-wide delegation), asking for ``SCOPES`` only. It reads
  nothing: it exchanges a signed assertion for an access token;
- the Admin SDK Directory API users listing (``GET /admin/directory/v1/users``).

The HTTP client (collectors/googleworkspace/http.py) enforces ``ALLOWED`` before a request leaves;
``make permissions`` writes the table of docs/googleworkspace-permissions.md from ``REQUESTS`` and a
test fails while it is stale. After adding a request, declare it here and run ``make permissions``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALLOWED", "DIRECTORY", "REQUESTS", "SCOPES", "TOKEN", "USER_READONLY", "Request"]

USER_READONLY = "https://www.googleapis.com/auth/admin.directory.user.readonly"
DIRECTORY = "directory"  # the Admin SDK, under directory_url
TOKEN = "token"  # the OAuth 2.0 token endpoint, token_url itself


@dataclass(frozen=True)
class Request:
    """One request the collector may send."""

    method: str
    api: str  # DIRECTORY or TOKEN
    path: str  # relative to the API's base URL ("" for the token endpoint itself)
    operation: str  # the name it is reported under (API-call metrics, collection errors)
    scope: str  # the OAuth scope the access token needs for it ("" for the token request)
    privilege: str  # the Admin console privilege admin_email needs ("" for the token request)
    purpose: str  # one line for docs/googleworkspace-permissions.md


REQUESTS: tuple[Request, ...] = (
    Request(
        "POST",
        TOKEN,
        "",
        "GetAccessToken",
        "",
        "",
        "an access token for admin_email with the scopes below (JWT bearer grant, signed with the key)",
    ),
    Request(
        "GET",
        DIRECTORY,
        "/admin/directory/v1/users",
        "ListUsers",
        USER_READONLY,
        "Admin API privileges > Users > Read",
        "every user: 2-Step Verification enrolment and enforcement, super and delegated administrators, "
        "suspension, archiving, last sign-in and creation time (googleworkspace.user, googleworkspace.customer)",
    ),
)

#: The scopes the token request asks for: exactly those the requests need.
SCOPES: tuple[str, ...] = tuple(sorted({r.scope for r in REQUESTS if r.scope}))
#: (method, api, path): the read-only allowlist the client enforces before anything is sent.
ALLOWED: frozenset[tuple[str, str, str]] = frozenset((r.method, r.api, r.path) for r in REQUESTS)
