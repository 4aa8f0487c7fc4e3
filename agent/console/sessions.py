"""Signed cookies: the session (who, role, expiry, its CSRF token) and the sign-in form's CSRF token.

A value is ``base64url(JSON) "." base64url(HMAC-SHA256(key, purpose "|" JSON))``: the purpose keeps a
CSRF cookie from being replayed as a session. The session names a fingerprint of the user's password
hash, so changing a password (or removing the user) ends their sessions."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.console.settings import ConsoleSettings, User

__all__ = ["Session", "cookie_names", "new_csrf", "new_session", "read_csrf", "read_session", "sign"]

MAX_COOKIE_CHARS = 4096


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str
    expires: int  # epoch seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, payload: bytes) -> bytes:
    return hmac.new(key, purpose.encode() + b"|" + payload, hashlib.sha256).digest()


def sign(key: bytes, purpose: str, data: Any) -> str:
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, purpose, payload))}"


def _unsign(key: bytes, purpose: str, value: str | None) -> Any:
    if not value or len(value) > MAX_COOKIE_CHARS or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
    except (binascii.Error, ValueError):
        return None
    if not hmac.compare_digest(_mac(key, purpose, payload), given):
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None


def _fingerprint(key: bytes, user: User) -> str:
    return _b64(_mac(key, "password", user.password_hash.encode())[:12])


def cookie_names(settings: ConsoleSettings) -> tuple[str, str]:
    """(session, csrf) cookie names: ``__Host-`` ones over HTTPS, which a subdomain cannot set."""
    prefix = "__Host-" if settings.secure_cookies else ""
    return f"{prefix}posture_session", f"{prefix}posture_csrf"


def new_session(settings: ConsoleSettings, user: User, now: datetime) -> tuple[str, Session]:
    expires = int(now.timestamp() + settings.session_max_age.total_seconds())
    csrf = secrets.token_urlsafe(32)
    data = {"u": user.name, "r": user.role, "f": _fingerprint(settings.secret, user), "c": csrf, "e": expires}
    return sign(settings.secret, "session", data), Session(user, csrf, expires)


def read_session(settings: ConsoleSettings, value: str | None, now: datetime) -> Session | None:
    """The session the cookie holds, if it is ours, unexpired, and its user unchanged in the config."""
    data = _unsign(settings.secret, "session", value)
    if not isinstance(data, dict):
        return None
    user = settings.users.get(str(data.get("u")))
    expires, csrf = data.get("e"), data.get("c")
    if user is None or user.role != data.get("r") or data.get("f") != _fingerprint(settings.secret, user):
        return None
    if not isinstance(expires, int) or expires <= now.timestamp() or not isinstance(csrf, str):
        return None
    return Session(user, csrf, expires)


def new_csrf(settings: ConsoleSettings) -> tuple[str, str]:
    """(token for the form, cookie value) of the sign-in form."""
    token = secrets.token_urlsafe(32)
    return token, sign(settings.secret, "csrf", token)


def read_csrf(settings: ConsoleSettings, cookie: str | None) -> str | None:
    token = _unsign(settings.secret, "csrf", cookie)
    return token if isinstance(token, str) else None
