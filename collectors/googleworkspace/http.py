"""One read-only HTTP client for the Google OAuth 2.0 token endpoint and the Admin SDK Directory API.

The access token comes from the JWT bearer grant (collectors/googleworkspace/auth.py) and is reused
until shortly before it expires. List calls follow ``nextPageToken``. 429, 5xx and the 403s Google
sends when a rate limit is hit (``rateLimitExceeded``, ``userRateLimitExceeded``, ``quotaExceeded``)
are retried honouring ``Retry-After`` within bounded attempts, waits and time
(collectors/http_retry.py). Every request passes a guard first: only the (method, API, path) pairs
of collectors/googleworkspace/permissions.py, only to the configured hosts. Anything else raises
ReadOnlyViolation before it leaves the process.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import httpx

from collectors import CollectContext
from collectors.googleworkspace.auth import GRANT_TYPE, ServiceAccountKey, assertion
from collectors.googleworkspace.config import WorkspaceSource
from collectors.googleworkspace.permissions import ALLOWED, DIRECTORY, SCOPES, TOKEN
from collectors.http_retry import RetryPolicy, send

__all__ = ["ApiError", "ReadOnlyViolation", "WorkspaceHttp", "error_of"]

_RETRY_STATUS = frozenset({500, 502, 503, 504})  # and 429
_RATE_LIMITED = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
_DELEGATION = (
    "Admin console > Security > Access and data control > API controls > Domain-wide delegation: the service "
    "account's client id {client} with the scopes {scopes}"
)


class ReadOnlyViolation(Exception):
    """A request outside the read-only allowlist; raised before anything is sent."""


class ApiError(Exception):
    """A request that did not give a usable answer: the HTTP status (0: none), Google's code, its message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


def _text(value: Any, limit: int = 300) -> str:
    return " ".join(str(value).split())[:limit]


def error_of(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of a Google error body: the API form ``{"error": {"code", "message", "status",
    "errors": [{"reason", ...}]}}`` or the OAuth form ``{"error": "...", "error_description": "..."}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            details = err.get("errors")
            first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
            code = first.get("reason") or err.get("status") or f"HTTP{response.status_code}"
            return _text(code, 80), _text(err.get("message") or first.get("message") or response.reason_phrase)
        if isinstance(err, str) and err:
            return _text(err, 80), _text(body.get("error_description") or response.reason_phrase)
    return f"HTTP{response.status_code}", response.reason_phrase or "request failed"


def _rate_limited(response: httpx.Response) -> bool:
    return response.status_code == 403 and error_of(response)[0] in _RATE_LIMITED


class WorkspaceHttp:
    """A shared httpx.Client with the token, paging, bounded retries and the read-only guard."""

    def __init__(
        self,
        source: WorkspaceSource,
        key: ServiceAccountKey,
        ctx: CollectContext,
        *,
        max_wait: float = 60.0,
        deadline: float = 300.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.source, self.key, self.ctx = source, key, ctx
        self.directory = source.directory_url.rstrip("/")
        self.token_url = source.token_url
        self.retry = RetryPolicy(source.max_retries, max_wait, deadline, backoff=1.0, statuses=_RETRY_STATUS)
        self._sleep = sleep or ctx.cancel.wait  # a shutdown cuts a long wait short
        self._token: tuple[str, float] | None = None  # (access token, expiry as time.monotonic())
        seconds = source.timeout.total_seconds()
        self.client = httpx.Client(
            verify=ssl.create_default_context(cafile=source.ca_bundle) if source.ca_bundle else True,
            timeout=httpx.Timeout(seconds, connect=min(10.0, seconds)),
            follow_redirects=False,
            headers={"User-Agent": "posture-agent", "Accept": "application/json"},
            event_hooks={"request": [self._guard]},
        )

    def __enter__(self) -> WorkspaceHttp:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    # -- guard -------------------------------------------------------------------------------------

    def _where(self, url: httpx.URL) -> tuple[str, str] | None:
        text = str(url.copy_with(query=None, fragment=None))
        if text == self.token_url:
            return TOKEN, ""
        if text.startswith(self.directory + "/"):
            return DIRECTORY, text[len(self.directory) :]
        return None

    def check(self, method: str, url: httpx.URL) -> None:
        where = self._where(url)
        if where is None:
            raise ReadOnlyViolation(f"refused {method} to {url.host}: not a configured Google API endpoint")
        if (method.upper(), *where) not in ALLOWED:
            raise ReadOnlyViolation(f"refused {method} {where[0]} {where[1] or '/'}: not in the read-only allowlist")

    def _guard(self, request: httpx.Request) -> None:
        """Event hook: the last gate before any byte is sent."""
        self.check(request.method, request.url)

    # -- sending -----------------------------------------------------------------------------------

    def _attempt(self, service: str, operation: str, request: Callable[[], httpx.Response]) -> httpx.Response:
        self.ctx.check_cancelled()
        try:
            response = request()
        except httpx.TransportError:
            self.ctx.on_api_call(service, operation, "ConnectionError")
            raise
        code = None if response.status_code < 400 else error_of(response)[0]
        self.ctx.on_api_call(service, operation, code)
        if _rate_limited(response):
            # Google says "slow down" with a 403 and a reason: a 429 to the retry policy, body kept
            return httpx.Response(429, headers=response.headers, content=response.content, request=response.request)
        return response

    def _send(self, service: str, operation: str, request: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            return send(
                lambda: self._attempt(service, operation, request),
                self.retry,
                operation=f"{service} {operation}",
                sleep=self._sleep,
            )
        except httpx.TransportError as exc:
            raise ApiError(0, "ConnectionError", f"{type(exc).__name__}: {_text(exc)}") from None

    def access_token(self) -> str:
        if self._token is not None and self._token[1] > time.monotonic():
            return self._token[0]
        self.check("POST", httpx.URL(self.token_url))
        grant = {
            "grant_type": GRANT_TYPE,
            "assertion": assertion(self.key, self.source.admin_email, SCOPES, self.token_url),
        }
        response = self._send("oauth2", "GetAccessToken", lambda: self.client.post(self.token_url, data=grant))
        if response.status_code != 200:
            code, message = error_of(response)
            hint = ""
            if code in ("unauthorized_client", "access_denied"):
                hint = " (check " + _DELEGATION.format(client=self.key.client_id or "?", scopes=",".join(SCOPES)) + ")"
            elif code == "invalid_grant":
                hint = (
                    f" (the key of {self.key.client_email} may be deleted or disabled, or "
                    f"{self.source.admin_email} is not a user of the domain)"
                )
            raise ApiError(response.status_code, code, f"the token endpoint refused the grant: {message}{hint}")
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ApiError(200, "InvalidResponse", "the token endpoint's answer has no access_token") from None
        if not token:
            raise ApiError(200, "InvalidResponse", "the token endpoint's answer has an empty access_token")
        self._token = (token, time.monotonic() + max(lifetime - 120.0, 0.0))
        return token

    def _get(self, url: str, params: Mapping[str, str], token: str) -> httpx.Response:
        return self.client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})

    def get(self, path: str, params: Mapping[str, str], *, operation: str) -> Any:
        """One GET of ``path`` under directory_url: the JSON body, or ApiError."""
        url = self.directory + path
        self.check("GET", httpx.URL(url))  # before a token is even asked for
        for fresh in (False, True):
            response = self._send("directory", operation, partial(self._get, url, params, self.access_token()))
            if response.status_code == 401 and not fresh:  # revoked or expired early: one new token
                self._token = None
                continue
            if response.status_code >= 400:
                code, message = error_of(response)
                if response.status_code == 403 and code not in _RATE_LIMITED:
                    message += f" ({self.source.admin_email} needs the Admin API privilege Users > Read)"
                raise ApiError(response.status_code, code, message)
            try:
                return response.json()
            except ValueError:
                raise ApiError(response.status_code, "InvalidResponse", "the response is not JSON") from None
        raise AssertionError("unreachable: the second pass returns or raises")  # pragma: no cover

    def pages(self, path: str, params: Mapping[str, str], items: str, *, operation: str) -> Iterator[list[Any]]:
        """Each page's ``items`` list, following ``nextPageToken`` to the end."""
        seen: set[str] = set()
        query = dict(params)
        while True:
            body = self.get(path, query, operation=operation)
            if not isinstance(body, dict):
                raise ApiError(200, "InvalidResponse", f"expected a JSON object with a {items} list")
            page = body.get(items, [])
            if not isinstance(page, list):
                raise ApiError(200, "InvalidResponse", f"{items} is not a list")
            yield page
            token = body.get("nextPageToken")
            if token in (None, ""):
                return
            if not isinstance(token, str):
                raise ApiError(200, "InvalidResponse", "nextPageToken is not a string")
            if token in seen:
                raise ApiError(200, "PagingLoop", "the service returned the same page token twice")
            seen.add(token)
            query["pageToken"] = token
