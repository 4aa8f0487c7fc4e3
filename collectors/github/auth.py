"""Credentials for the GitHub API: a personal access token, or a GitHub App installation token.

A token is read from its secret reference when first needed (and again after a 401, in case it was
rotated). A GitHub App signs a short JWT (RS256) with its private key, checks that the installation
belongs to the configured organisation and which permissions it holds, then exchanges the JWT for an
installation token asking for exactly the read permissions the collector needs
(collectors/github/permissions.py) that the installation has, so the token is read-only even if the
App was granted more. The token is renewed five minutes before it expires. Neither the key, the JWT
nor a token ever appears in a message.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from agent.config_base import Secret
from collectors.github.config import GitHubSource
from collectors.github.http import ApiError, AuthError, GitHubHttp, error_of
from collectors.github.permissions import app_permissions

__all__ = ["AppAuth", "TokenAuth", "app_jwt", "authorization_for"]

log = logging.getLogger(__name__)

_JWT_LIFETIME = 540  # GitHub accepts at most 10 minutes
_CLOCK_SKEW = 60  # iat in the past, as GitHub recommends, for a clock slightly ahead of theirs
_RENEW_BEFORE = 300.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def app_jwt(app_id: str, private_key_pem: str, now: float) -> str:
    """The App's JWT: iss = app id, iat a minute ago, exp nine minutes ahead, signed RS256.
    ValueError (without the key in it) when the key is not an RSA private key in PEM."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        key = serialization.load_pem_private_key(private_key_pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise ValueError("private_key is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("private_key is not an RSA key (GitHub Apps sign with RS256)")
    claims = {"iat": int(now) - _CLOCK_SKEW, "exp": int(now) + _JWT_LIFETIME, "iss": app_id}
    try:
        import jwt  # PyJWT, when installed

        return str(jwt.encode(claims, key, algorithm="RS256"))
    except ImportError:
        pass
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


class TokenAuth:
    """``Authorization: Bearer <token>`` for a fine-grained or classic personal access token."""

    def __init__(self, secret: Secret, org: str) -> None:
        self._secret, self._org = secret, org
        self._value: str | None = None

    def __call__(self, fresh: bool) -> str:
        if self._value is None or fresh:
            value = self._secret.reveal().strip()
            if not value or any(c.isspace() for c in value):
                raise AuthError(
                    f"github organization {self._org}: the token from {self._secret.ref} is empty or not a token"
                )
            self._value = value
        return f"Bearer {self._value}"


class AppAuth:
    """Installation tokens of a GitHub App, made on first use and renewed before they expire."""

    def __init__(self, source: GitHubSource, http: GitHubHttp, clock: Callable[[], float] = time.time) -> None:
        assert source.app_id is not None and source.installation_id is not None and source.private_key is not None
        self.app_id, self.installation = source.app_id, source.installation_id
        self._key, self._org, self._http, self._clock = source.private_key, source.organization, http, clock
        self._token: str | None = None
        self._expires = 0.0
        self.granted: dict[str, str] = {}  # what the installation token was given (read permissions)

    def _fail(self, what: str) -> AuthError:
        return AuthError(
            f"github organization {self._org}: GitHub App {self.app_id} installation {self.installation}: {what}"
        )

    def __call__(self, fresh: bool) -> str:
        if fresh or self._token is None or self._expires - _RENEW_BEFORE < self._clock():
            self._exchange()
        return f"Bearer {self._token}"

    def _jwt(self) -> str:
        try:
            return app_jwt(self.app_id, self._key.reveal(), self._clock())
        except ValueError as exc:
            raise self._fail(f"{exc} ({self._key.ref})") from None

    def _call(self, method: str, path: str, jwt: str, operation: str, body: Any = None) -> tuple[int, Any, str]:
        http = self._http
        try:
            response = http.exchange(method, http.url(path), auth=f"Bearer {jwt}", body=body, operation=operation)
        except ApiError as exc:
            raise self._fail(f"{operation}: {exc.code}: {exc.message}") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        return response.status_code, data, error_of(response)

    def _exchange(self) -> None:
        jwt = self._jwt()
        base = f"/app/installations/{self.installation}"
        status, body, message = self._call("GET", base, jwt, "GetAppInstallation")
        if status != 200 or not isinstance(body, dict):
            raise self._fail(f"GET {base}: HTTP {status}: {message}")
        account = body.get("account") if isinstance(body.get("account"), dict) else {}
        login = str(account.get("login", "")) if isinstance(account, dict) else ""
        if login.lower() != self._org.lower():
            raise self._fail(f"the installation belongs to {login or 'another account'!r}, not the organisation")
        held = body.get("permissions") if isinstance(body.get("permissions"), dict) else {}
        wanted = {k: v for k, v in app_permissions().items() if isinstance(held, dict) and k in held}
        missing = sorted(set(app_permissions()) - set(wanted))
        if missing:  # the reads that need them fail with 403 and are recorded as collection errors
            log.warning("github app lacks permissions", extra={"missing": ", ".join(missing)})
        status, body, message = self._call(
            "POST", base + "/access_tokens", jwt, "CreateInstallationAccessToken", {"permissions": wanted}
        )
        token = body.get("token") if isinstance(body, dict) else None
        if status != 201 or not isinstance(token, str) or not token.strip():
            raise self._fail(f"POST {base}/access_tokens: HTTP {status}: {message}")
        self._token = token.strip()
        self._expires = self._expiry(body.get("expires_at"))
        self.granted = (
            {str(k): str(v) for k, v in (body.get("permissions") or {}).items()}
            if isinstance(body.get("permissions"), dict)
            else {}
        )

    def _expiry(self, value: Any) -> float:
        """The token's expires_at as epoch seconds; an hour from now when GitHub did not say (its lifetime)."""
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                pass
        return self._clock() + 3600.0


def authorization_for(source: GitHubSource, http: GitHubHttp) -> Callable[[bool], str]:
    if source.token is not None:
        return TokenAuth(source.token, source.organization)
    return AppAuth(source, http)
