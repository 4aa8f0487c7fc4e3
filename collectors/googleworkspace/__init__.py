"""Google Workspace collector: users and administrators through the Admin SDK Directory API, read-only
(see docs/googleworkspace-permissions.md).

``collect`` is imported on first use, like the other providers': validating a source imports only
collectors/googleworkspace/config.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors import lazy_attributes

if TYPE_CHECKING:
    from collectors.googleworkspace.collection import collect

__all__ = ["collect"]

__getattr__ = lazy_attributes(__name__, {"collect": "collectors.googleworkspace.collection"})
