"""The service account's key and the signed JWT it exchanges for an access token.

The OAuth 2.0 JWT bearer grant (RFC 7523) as Google's token endpoint takes it: an RS256 JWT whose
``iss`` is the service account, ``sub`` the administrator it acts as (domain-wide delegation),
``scope`` the space-separated scopes and ``aud`` the token endpoint. It is signed here with
cryptography, so the token request goes through the collector's own guarded HTTP client like every
other request (google-auth would send it through its own transport). The private key is held as a
key object only; neither it nor the assertion is ever logged or put in an error.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from agent.errors import ConfigError

__all__ = ["GRANT_TYPE", "CredentialsError", "ServiceAccountKey", "assertion", "load_key", "read_key"]

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = 3600  # seconds; Google accepts at most one hour


class CredentialsError(Exception):
    """The key cannot be used (unreadable, not a service-account key). The message names the reference
    and the problem, never the key."""


@dataclass(frozen=True)
class ServiceAccountKey:
    client_email: str
    client_id: str
    key_id: str
    private_key: rsa.RSAPrivateKey

    def __repr__(self) -> str:  # a dataclass repr would print the key object's address only, but say so
        return f"ServiceAccountKey({self.client_email!r}, key_id={self.key_id!r})"


def load_key(text: str, ref: str) -> ServiceAccountKey:
    """The key from the JSON Google issues for a service account (``ref`` names it in errors)."""
    try:
        info: Any = json.loads(text)
    except ValueError:
        raise CredentialsError(f"{ref} is not a service-account key: not JSON") from None
    if not isinstance(info, dict):
        raise CredentialsError(f"{ref} is not a service-account key: not a JSON object")
    if info.get("type") != "service_account":
        raise CredentialsError(f"{ref} is not a service-account key: its type is not service_account")
    missing = [k for k in ("client_email", "private_key") if not isinstance(info.get(k), str) or not info.get(k)]
    if missing:
        raise CredentialsError(f"{ref} is not a service-account key: it has no {' or '.join(missing)}")
    try:
        key = serialization.load_pem_private_key(str(info["private_key"]).encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CredentialsError(f"{ref}: private_key is not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CredentialsError(f"{ref}: private_key is not an RSA key (Google signs service-account JWTs with RS256)")
    return ServiceAccountKey(
        client_email=str(info["client_email"]),
        client_id=str(info.get("client_id") or ""),
        key_id=str(info.get("private_key_id") or ""),
        private_key=key,
    )


def read_key(secret: Any) -> ServiceAccountKey:
    """The key a SecretRef points at; CredentialsError when it cannot be read or used."""
    try:
        text = secret.reveal()
    except ConfigError as exc:
        raise CredentialsError(str(exc)) from None
    return load_key(text, secret.ref)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion(
    key: ServiceAccountKey, subject: str, scopes: tuple[str, ...], audience: str, now: float | None = None
) -> str:
    """The signed JWT of the grant: ``key``'s service account acting as ``subject``."""
    issued = int(time.time() if now is None else now)
    header = {"alg": "RS256", "typ": "JWT", **({"kid": key.key_id} if key.key_id else {})}
    claims = {
        "iss": key.client_email,
        "sub": subject,
        "scope": " ".join(scopes),
        "aud": audience,
        "iat": issued,
        "exp": issued + LIFETIME,
    }
    signing_input = (
        _b64(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64(json.dumps(claims, separators=(",", ":")).encode())
    )
    signature = key.private_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + _b64(signature)
