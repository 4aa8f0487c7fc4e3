"""Password hashes of console users: scrypt (hashlib, RFC 7914), a salt of 16 bytes, and the
parameters stored in the hash so they can be raised later without invalidating old ones.

Format: ``scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64>``. The standard library only, so the
config loader can check a hash without importing the web stack."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from functools import cache

__all__ = ["hash_password", "hash_problem", "verify_password"]

# OWASP's minimum for scrypt: N=2^17, r=8, p=1 (128 MiB and ~0.3 s per check; the console lets two
# checks run at once, so a flood of logins holds at most 256 MiB)
LOG2_N, R, P = 17, 8, 1
_MIN_LOG2_N, _MAX_LOG2_N = 14, 20  # bounds a config may state: too weak, or a hash that costs a DoS to check
_MAX_R, _MAX_P = 32, 16
_KEY_BYTES = 32
MAX_PASSWORD_BYTES = 1024


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _kdf(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * r * n + 1024 * 1024,
        dklen=_KEY_BYTES,
    )


def hash_password(password: str, *, log2_n: int = LOG2_N) -> str:
    """A new hash of ``password`` (a fresh random salt each time); ``log2_n`` lower only in tests."""
    if not _MIN_LOG2_N <= log2_n <= _MAX_LOG2_N:
        raise ValueError(f"log2 N must be {_MIN_LOG2_N} to {_MAX_LOG2_N}")
    if not password:
        raise ValueError("the password is empty")
    if len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        raise ValueError(f"the password is longer than {MAX_PASSWORD_BYTES} bytes")
    salt = os.urandom(16)
    return f"scrypt${log2_n}${R}${P}${_b64(salt)}${_b64(_kdf(password, salt, log2_n, R, P))}"


def _parse(encoded: str) -> tuple[int, int, int, bytes, bytes] | str:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return "not a password hash: expected scrypt$N$r$p$salt$key from `posture-agent console hash-password`"
    try:
        log2_n, r, p = (int(x) for x in parts[1:4] if x.isascii() and x.isdigit() and len(x) <= 3)
    except ValueError:
        return "password hash: N, r and p must be small integers"
    if not (_MIN_LOG2_N <= log2_n <= _MAX_LOG2_N and 1 <= r <= _MAX_R and 1 <= p <= _MAX_P):
        return (
            f"password hash: parameters out of range (log2 N {_MIN_LOG2_N}-{_MAX_LOG2_N}, r 1-{_MAX_R}, p 1-{_MAX_P})"
        )
    try:
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except (binascii.Error, ValueError):
        return "password hash: the salt and key must be base64"
    if len(salt) < 16 or len(key) != _KEY_BYTES:
        return f"password hash: a salt of at least 16 bytes and a key of {_KEY_BYTES} bytes are expected"
    return log2_n, r, p, salt, key


def hash_problem(encoded: str) -> str | None:
    """Why ``encoded`` is not a usable hash (the message never repeats it), or None."""
    parsed = _parse(encoded)
    return parsed if isinstance(parsed, str) else None


@cache
def _dummy() -> str:
    """Checked for unknown users, so a login takes as long whether the name exists or not."""
    return hash_password("a password nobody has")


def verify_password(password: str, encoded: str | None) -> bool:
    """Whether ``password`` matches ``encoded``; None (an unknown user) costs a check and is False."""
    parsed = _parse(encoded if encoded is not None else _dummy())
    if isinstance(parsed, str) or len(password.encode("utf-8", "surrogatepass")) > MAX_PASSWORD_BYTES:
        return False
    log2_n, r, p, salt, key = parsed
    ok = hmac.compare_digest(_kdf(password, salt, log2_n, r, p), key)
    return ok and encoded is not None
