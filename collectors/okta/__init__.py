"""Okta collector: users with their factors and admin roles, password and sign-on policies, read-only
(see docs/okta-permissions.md).

``collect`` and the HTTP client are imported on first use: validating an ``okta`` source
(collectors/okta/config.py) must not load httpx and PyJWT into a daemon that collects in child processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors import lazy_attributes

if TYPE_CHECKING:
    from collectors.okta.collection import collect
    from collectors.okta.http import ALLOWED, ReadOnlyViolation

__all__ = ["ALLOWED", "ReadOnlyViolation", "collect"]

_LAZY = {
    "ALLOWED": "collectors.okta.http",
    "ReadOnlyViolation": "collectors.okta.http",
    "collect": "collectors.okta.collection",
}


__getattr__ = lazy_attributes(__name__, _LAZY)
