"""Cloud Identity Policy API: the 2-Step Verification enforcement policies of the Google Workspace /
Cloud Identity customer behind the organization. Optional, per source (``cloud_identity_admin``).

One read-only call, ``GET https://cloudidentity.googleapis.com/v1/policies`` (filtered to the 2SV
setting, ``nextPageToken`` paging), with the scope ``cloud-identity.policies.readonly``. Only a super
administrator may call it, so the agent's service account impersonates one through domain-wide
delegation (``cloud_identity_admin``). The result is one ``gcp.cloudidentity.customer`` resource whose
``policies`` are the API's Policy objects; a failed read is an ``errors["policies"]`` entry on it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from agent.retry_after import parse_retry_after
from collectors.gcp.config import GcpSource
from collectors.gcp.permissions import IDENTITY_REQUESTS, POLICIES_SCOPE

__all__ = ["ALLOWED", "BASE_URL", "SCOPE", "SETTING", "read_policies"]

BASE_URL = "https://cloudidentity.googleapis.com"
SCOPE = POLICIES_SCOPE
SETTING = "security.two_step_verification_enforcement"
PATH = "/v1/policies"
# The read-only allowlist of this collector's own HTTP calls (declared in collectors/gcp/permissions.py):
# nothing else leaves the process.
ALLOWED = IDENTITY_REQUESTS
_RETRY_STATUS = {429, 500, 502, 503, 504}
_NEEDS = (
    f"a super administrator impersonated through domain-wide delegation (cloud_identity_admin) with the scope {SCOPE}"
)


class IdentityError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")


def _delegated(credentials: Any, admin: str) -> Any:
    """The credentials acting as ``admin`` (domain-wide delegation) with the read-only scope."""
    if not hasattr(credentials, "with_subject"):
        if type(credentials).__name__ == "AnonymousCredentials":
            return credentials  # the local fake
        raise IdentityError(
            "UNSUPPORTED_CREDENTIALS",
            f"these credentials cannot impersonate {admin}: the Policy API needs {_NEEDS}; "
            "use a service-account key (credentials: file:...)",
        )
    return credentials.with_scopes([SCOPE]).with_subject(admin)


def _get(session: Any, url: str, params: dict[str, str], timeout: float) -> dict[str, Any]:
    method, path = "GET", urlsplit(url).path
    if (method, path) not in ALLOWED:
        raise IdentityError("NOT_ALLOWED", f"{method} {path} is not on the read-only allowlist")
    for attempt in range(4):
        response = session.request(method, url, params=params, timeout=timeout)
        if response.status_code in _RETRY_STATUS and attempt < 3:
            asked = parse_retry_after(response.headers.get("Retry-After"), cap=30.0, now=response.headers.get("Date"))
            time.sleep(asked if asked is not None else min(2.0**attempt, 30.0))
            continue
        if response.status_code != 200:
            try:
                err = response.json().get("error") or {}
            except ValueError:
                err = {}
            code = str(err.get("status") or response.status_code)
            hint = f" (the Policy API needs {_NEEDS})" if response.status_code in (401, 403) else ""
            raise IdentityError(code, f"{str(err.get('message') or response.reason)[:300]}{hint}")
        return dict(response.json())
    raise IdentityError("UNAVAILABLE", "retries exhausted")  # pragma: no cover - loop always returns or raises


def read_policies(source: GcpSource, credentials: Any) -> tuple[list[dict[str, Any]], str]:
    """(the 2SV enforcement policies, "") or ([], "CODE: why they could not be read")."""
    from google.auth.transport.requests import AuthorizedSession

    admin = str(source.cloud_identity_admin or "")
    base = (source.endpoint or BASE_URL).rstrip("/")
    try:
        session = AuthorizedSession(_delegated(credentials, admin))  # type: ignore[no-untyped-call]
        policies: list[dict[str, Any]] = []
        params = {"filter": f"setting.type.matches('{SETTING}')", "pageSize": "100"}
        while True:
            page = _get(session, base + PATH, params, source.timeout.total_seconds())
            policies += [
                p for p in page.get("policies") or [] if str((p.get("setting") or {}).get("type", "")).endswith(SETTING)
            ]
            token = page.get("nextPageToken")
            if not token:
                return policies, ""
            params = {**params, "pageToken": str(token)}
    except IdentityError as exc:
        return [], str(exc)
    except Exception as exc:  # transport errors, refused tokens: recorded, the run goes on
        return [], f"{type(exc).__name__}: {str(exc)[:300]}"
