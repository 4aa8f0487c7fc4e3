"""The people ledger: a staff roster joined with the identities the agent stored for its identity
sources (Okta, Google Workspace, GitHub, Entra ID, AWS IAM users). It calls no cloud API: it reads the
roster and identity map files and the agent's own store (docs/people.md).

``collect`` is imported on first use, like the other providers'."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collectors import lazy_attributes

if TYPE_CHECKING:
    from collectors.people.ledger import collect

__all__ = ["collect"]

__getattr__ = lazy_attributes(__name__, {"collect": "collectors.people.ledger"})
