"""Group members for the Entra collector: read once per group, only for groups something references
(Conditional Access, the authentication methods policy, role assignments)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from collectors.azure.http import ApiError, AzureHttp

__all__ = ["Groups", "err_text", "is_licence_error", "object_type", "safe_id"]

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
# Graph's answers when the tenant lacks the licence a feature needs (P1 reports, P2 PIM).
_LICENCE_CODES = {"Authentication_RequestFromNonPremiumTenantOrB2CTenant", "AadPremiumLicenseRequired"}


def err_text(exc: ApiError) -> str:
    return f"{exc.code}: {exc.message}".strip().rstrip(":")


def is_licence_error(exc: ApiError) -> bool:
    text = f"{exc.code} {exc.message}".lower()
    return exc.code in _LICENCE_CODES or "premium" in text or "license" in text or "licence" in text


def safe_id(value: Any) -> str | None:
    """An object id usable as one path segment (ids come from Graph; never let one add a path)."""
    text = str(value or "")
    return text if _SAFE.fullmatch(text) else None


def object_type(obj: dict[str, Any]) -> str:
    """'#microsoft.graph.servicePrincipal' -> 'servicePrincipal'."""
    return str(obj.get("@odata.type") or "").rsplit(".", 1)[-1] or "unknown"


class Groups:
    """Display name and transitive members of each group, fetched at most once."""

    def __init__(self, http: AzureHttp) -> None:
        self.http = http
        self._names: dict[str, str] = {}
        self._members: dict[str, list[dict[str, Any]]] = {}
        self.errors: dict[str, str] = {}

    def read(self, gid: str) -> bool:
        if gid in self._members:
            return True
        if gid in self.errors:
            return False
        seg = safe_id(gid)
        if seg is None:
            self.errors[gid] = "not a valid group id"
            return False
        try:
            info = self.http.get("graph", f"/v1.0/groups/{seg}", {"$select": "id,displayName"}, operation="GetGroup")
            members = self.http.list(
                "graph",
                f"/v1.0/groups/{seg}/transitiveMembers",
                {"$top": "999"},
                operation="ListGroupTransitiveMembers",
            )
        except ApiError as exc:
            self.errors[gid] = err_text(exc)
            return False
        self._names[gid] = str((info or {}).get("displayName") or gid)
        self._members[gid] = [
            {
                k: v
                for k, v in (
                    ("id", str(m.get("id"))),
                    ("type", object_type(m)),
                    ("displayName", m.get("displayName")),
                    ("appId", m.get("appId")),
                )
                if v
            }
            for m in members
        ]
        return True

    def name(self, gid: str) -> str:
        return self._names.get(gid, gid)

    def members(self, gid: str, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self._members.get(gid, []) if kind is None or m.get("type") == kind]

    def attribute(self, gids: Iterable[str]) -> tuple[dict[str, Any], str]:
        """(GroupMembers: group id -> display name and user member ids, what could not be read)."""
        out: dict[str, Any] = {}
        failed = []
        for gid in sorted(set(gids)):
            if self.read(gid):
                out[gid] = {
                    "displayName": self.name(gid),
                    "members": sorted(m["id"] for m in self.members(gid, "user")),
                }
            else:
                failed.append(f"group {gid}: {self.errors[gid]}")
        return out, "; ".join(failed)
