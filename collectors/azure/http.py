"""One read-only HTTP client for Microsoft Graph and Azure Resource Manager.

Tokens come from the azure-identity credential for the right scope; list calls follow
``@odata.nextLink`` (Graph) and ``nextLink`` (ARM); 429 and 502-504 are retried honouring
``Retry-After``, within bounded attempts, waits and time (collectors.http_retry). Every request
passes a guard first: GET only, only to the configured Graph/ARM hosts, only on the paths of the
allowlist below. Anything else raises ReadOnlyViolation before it leaves the process (the token
POST is made by azure-identity's own pipeline to the login authority, never by this client).
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import httpx
from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import AzureError

from agent.config import AzureCredentials
from agent.errors import AgentError
from collectors import CollectContext
from collectors.http_retry import RetryPolicy, send

__all__ = ["ALLOWED", "Api", "ApiError", "AuthError", "AzureHttp", "ReadOnlyViolation", "allowed"]

Api = Literal["graph", "arm"]

_SUB = r"/subscriptions/[^/]+"
_ARM_PROVIDERS = (
    "Microsoft.Storage/storageAccounts|Microsoft.KeyVault/vaults|Microsoft.Sql/servers|"
    "Microsoft.Network/networkSecurityGroups|Microsoft.Network/networkInterfaces|"
    "Microsoft.Network/networkWatchers|Microsoft.OperationalInsights/workspaces|"
    "Microsoft.Security/pricings|Microsoft.Security/securityContacts|"
    "Microsoft.Insights/diagnosticSettings|Microsoft.Insights/logprofiles|Microsoft.Insights/activityLogAlerts"
)
_RG = _SUB + r"/resourceGroups/[^/]+/providers/"
_DIAG = r"/providers/Microsoft\.Insights/diagnosticSettings"
# (method, api, path pattern relative to the API's base URL), one block per collector.
_GRAPH_ENTRA: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("GET", "graph", r"/v1\.0/users"),
        ("GET", "graph", r"/v1\.0/users/[^/]+/authentication/methods"),  # only without Entra ID P1
        ("GET", "graph", r"/beta/users/[^/]+/authentication/requirements"),  # per-user MFA state
        ("GET", "graph", r"/v1\.0/reports/authenticationMethods/userRegistrationDetails"),
        ("GET", "graph", r"/v1\.0/roleManagement/directory/roleAssignments"),
        ("GET", "graph", r"/v1\.0/roleManagement/directory/roleDefinitions"),
        ("GET", "graph", r"/v1\.0/roleManagement/directory/roleAssignmentScheduleInstances"),
        ("GET", "graph", r"/v1\.0/roleManagement/directory/roleEligibilityScheduleInstances"),
        ("GET", "graph", r"/v1\.0/groups/[^/]+(/transitiveMembers)?"),
        ("GET", "graph", r"/v1\.0/policies/identitySecurityDefaultsEnforcementPolicy"),
        ("GET", "graph", r"/v1\.0/policies/authorizationPolicy"),
        ("GET", "graph", r"/v1\.0/policies/authenticationMethodsPolicy"),
        ("GET", "graph", r"/v1\.0/identity/conditionalAccess/policies"),
        ("GET", "graph", r"/v1\.0/applications"),
    }
)
_GRAPH_INTUNE: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("GET", "graph", r"/v1\.0/deviceManagement/managedDevices"),
        ("GET", "graph", r"/(v1\.0|beta)/deviceManagement/managedDevices/[^/]+/windowsProtectionState"),
        ("GET", "graph", r"/(v1\.0|beta)/deviceManagement/managedDevices/[^/]+/detectedApps"),
        ("GET", "graph", r"/(v1\.0|beta)/deviceManagement/managedDevices/[^/]+/deviceCompliancePolicyStates"),
        (
            "GET",
            "graph",
            r"/(v1\.0|beta)/deviceManagement/managedDevices/[^/]+/deviceCompliancePolicyStates/[^/]+/settingStates",
        ),
        ("GET", "graph", r"/v1\.0/deviceManagement/deviceCompliancePolicies"),
    }
)
_ARM: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("GET", "arm", r"/subscriptions"),
        ("GET", "arm", _SUB + r"/providers/(" + _ARM_PROVIDERS + ")"),
        (
            "GET",
            "arm",
            _RG + r"Microsoft\.Sql/servers/[^/]+/(auditingSettings/default|firewallRules|administrators|databases"
            r"|databases/master" + _DIAG + r"|databases/[^/]+/transparentDataEncryption/current)",
        ),
        ("GET", "arm", _RG + r"Microsoft\.Storage/storageAccounts/[^/]+/blobServices/default"),
        ("GET", "arm", _RG + r"Microsoft\.KeyVault/vaults/[^/]+" + _DIAG),
        ("GET", "arm", _RG + r"Microsoft\.Network/networkWatchers/[^/]+/flowLogs"),
    }
)
#: Every request the Azure and Intune collectors may send. Nothing else ever leaves the process.
ALLOWED: frozenset[tuple[str, str, str]] = _GRAPH_ENTRA | _GRAPH_INTUNE | _ARM
_COMPILED = [(m, a, re.compile(p, re.IGNORECASE)) for m, a, p in ALLOWED]
_RETRY_STATUS = frozenset({502, 503, 504})  # and 429


class ReadOnlyViolation(Exception):
    """A request outside the read-only allowlist; raised before anything is sent."""


class AuthError(AgentError):
    """No token could be obtained: the run stops with this one line (no secret in it)."""


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


def allowed(method: str, api: str, path: str) -> bool:
    return any(m == method.upper() and a == api and p.fullmatch(path) for m, a, p in _COMPILED)


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            return str(err.get("code") or f"HTTP{response.status_code}"), str(err.get("message") or "")[:300]
    except ValueError:
        pass
    return f"HTTP{response.status_code}", response.reason_phrase or "request failed"


class AzureHttp:
    """A shared httpx.Client with tokens, paging, bounded retries and the read-only guard."""

    def __init__(
        self,
        credential: TokenCredential,
        creds: AzureCredentials,
        ctx: CollectContext,
        *,
        max_retries: int = 4,
        max_wait: float = 60.0,
        deadline: float = 300.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.credential, self.ctx, self.tenant = credential, ctx, creds.tenant_id
        self.bases: dict[str, str] = {"graph": creds.graph_url.rstrip("/"), "arm": creds.arm_url.rstrip("/")}
        self.retry = RetryPolicy(max_retries, max_wait, deadline, backoff=1.0, statuses=_RETRY_STATUS)
        self._sleep = sleep or ctx.cancel.wait  # a shutdown cuts a long Retry-After short
        self._tokens: dict[str, AccessToken] = {}
        seconds = creds.timeout.total_seconds()
        self.client = httpx.Client(
            verify=ssl.create_default_context(cafile=creds.ca_bundle) if creds.ca_bundle else True,
            timeout=httpx.Timeout(seconds, connect=min(10.0, seconds)),
            follow_redirects=False,
            headers={"User-Agent": "posture-agent", "Accept": "application/json"},
            event_hooks={"request": [self._guard]},
        )

    def __enter__(self) -> AzureHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    # -- guard and tokens --------------------------------------------------------------------------

    def _api_of(self, url: httpx.URL) -> tuple[str, str] | None:
        text = str(url.copy_with(query=None, fragment=None))
        for api, base in self.bases.items():
            if text == base or text.startswith(base + "/"):
                return api, text[len(base) :] or "/"
        return None

    def _check(self, method: str, url: httpx.URL) -> None:
        where = self._api_of(url)
        if where is None:
            raise ReadOnlyViolation(f"refused {method} to {url.host}: not a configured API host")
        api, path = where
        if not allowed(method, api, path):
            raise ReadOnlyViolation(f"refused {method} {api} {path}: not in the read-only allowlist")

    def _guard(self, request: httpx.Request) -> None:
        """Event hook: the last gate before any byte is sent."""
        self._check(request.method, request.url)

    def _scope(self, api: str) -> str:
        return self.bases[api] + "/.default"

    def _token(self, api: str) -> str:
        tok = self._tokens.get(api)
        if tok is None or tok.expires_on - 120 < time.time():
            try:
                tok = self.credential.get_token(self._scope(api), tenant_id=self.tenant)
            except AzureError as exc:
                first = str(getattr(exc, "message", "") or exc).strip().splitlines()
                raise AuthError(
                    f"azure tenant {self.tenant}: could not get a token for {api}: "
                    f"{first[0] if first else type(exc).__name__}"
                ) from None
            self._tokens[api] = tok
        return tok.token

    # -- requests ----------------------------------------------------------------------------------

    def _attempt(self, api: Api, url: str, params: Mapping[str, str] | None, operation: str) -> httpx.Response:
        """One GET with its bookkeeping: cancellation first, the API-call metric after."""
        self.ctx.check_cancelled()
        headers = {"Authorization": f"Bearer {self._token(api)}"}
        try:
            response = self.client.get(url, params=params, headers=headers)
        except httpx.TransportError:
            self.ctx.on_api_call(api, operation, "ConnectionError")
            raise
        self.ctx.on_api_call(api, operation, None if response.status_code < 400 else _error_of(response)[0])
        return response

    def _send(self, api: Api, url: str, params: Mapping[str, str] | None, operation: str) -> Any:
        self._check("GET", httpx.URL(url))  # before a token is even requested
        for refreshed in (False, True):
            try:
                response = send(
                    lambda: self._attempt(api, url, params, operation),
                    self.retry,
                    operation=f"{api} {operation}",
                    sleep=self._sleep,
                )
            except httpx.TransportError as exc:
                raise ApiError(0, "ConnectionError", f"{type(exc).__name__}: {exc}") from None
            status = response.status_code
            if status == 401 and not refreshed:  # a token revoked or expired early: one fresh try
                self._tokens.pop(api, None)
                continue
            if status >= 400:
                raise ApiError(status, *_error_of(response))
            try:
                return response.json()
            except ValueError:
                raise ApiError(status, "InvalidResponse", "the response is not JSON") from None
        raise AssertionError("unreachable: the second pass returns or raises")  # pragma: no cover

    def get(self, api: Api, path: str, params: Mapping[str, str] | None = None, *, operation: str) -> Any:
        """One GET of ``path`` under the API's base URL; the JSON body."""
        return self._send(api, self.bases[api] + path, params, operation)

    def pages(
        self, api: Api, path: str, params: Mapping[str, str] | None = None, *, operation: str
    ) -> Iterator[list[dict[str, Any]]]:
        """Each page's ``value`` list, following @odata.nextLink / nextLink to the end."""
        url: str | None = self.bases[api] + path
        seen: set[str] = set()
        while url:
            body = self._send(api, url, params, operation)
            if not isinstance(body, dict):
                raise ApiError(200, "InvalidResponse", "expected a JSON object with a value list")
            yield [v for v in body.get("value", []) if isinstance(v, dict)]
            nxt = body.get("@odata.nextLink") or body.get("nextLink")
            if nxt and nxt in seen:
                raise ApiError(200, "PagingLoop", "the service returned the same next link twice")
            url, params = (str(nxt), None) if nxt else (None, None)
            if nxt:
                seen.add(str(nxt))

    def list(
        self, api: Api, path: str, params: Mapping[str, str] | None = None, *, operation: str
    ) -> list[dict[str, Any]]:
        return [item for page in self.pages(api, path, params, operation=operation) for item in page]
