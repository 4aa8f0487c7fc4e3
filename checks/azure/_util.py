"""Parsing helpers shared by the Azure checks. Pure functions over plain data; no Azure calls.

The registry skips this module (leading underscore), so nothing here is discovered as a check.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from agent.models import Resource
from checks.base import MissingInput, need

__all__ = [
    "INTERNET",
    "PRIVILEGED_ROLE_NAMES",
    "PRIVILEGED_ROLE_TEMPLATES",
    "days_since",
    "from_internet",
    "is_enabled_member",
    "open_ports",
    "parse_time",
    "port_ranges",
    "privileged_roles",
    "props",
    "user_label",
]

# Directory roles that can take over the tenant or its security settings (template ids are global).
PRIVILEGED_ROLE_TEMPLATES = {
    "62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
}
PRIVILEGED_ROLE_NAMES = frozenset(PRIVILEGED_ROLE_TEMPLATES.values())

# Source prefixes that mean "anyone on the internet" in an NSG rule.
INTERNET = frozenset({"*", "internet", "any", "0.0.0.0/0", "0.0.0.0", "::/0"})
# AzureCloud is every Azure datacenter address: anyone can rent a VM there.
_INTERNET_TAGS = ("azurecloud",)
# A public source this wide (a /8, 16.7M addresses, or wider) is the internet for practical purposes,
# including rules split in halves (0.0.0.0/1 + 128.0.0.0/1) to dodge a literal 0.0.0.0/0 match.
_WIDEST_PUBLIC_V4, _WIDEST_PUBLIC_V6 = 8, 32


def from_internet(source: Any) -> bool:
    """An NSG source prefix (address, CIDR or service tag) that admits anyone on the internet."""
    text = str(source).strip().lower()
    if text in INTERNET or text in _INTERNET_TAGS or text.startswith(tuple(t + "." for t in _INTERNET_TAGS)):
        return True
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    limit = _WIDEST_PUBLIC_V4 if net.version == 4 else _WIDEST_PUBLIC_V6
    return net.prefixlen <= limit and not net.is_private


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from an ISO string, None for null/empty; ValueError for garbage."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Graph sends up to 7 fractional digits; fromisoformat takes at most 6.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        tz = rest[len(digits) :]
        text = f"{head}.{digits[:6]}{tz}" if digits else head + tz
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def days_since(ts: datetime, now: datetime) -> int:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return (now - ts).days


def props(resource: Resource) -> Mapping[str, Any]:
    """The ARM ``properties`` object of a resource; missing input if it was not collected."""
    value = need(resource, "properties")
    if not isinstance(value, Mapping):
        raise MissingInput(f"{resource.name or resource.id} has no properties object")
    return value


def user_label(user: Resource) -> str:
    return str(user.attributes.get("userPrincipalName") or user.name or user.id.rsplit(":", 1)[-1])


def is_enabled_member(user: Resource) -> bool:
    return bool(user.attributes.get("accountEnabled")) and str(user.attributes.get("userType") or "Member") != "Guest"


def privileged_roles(roles: Iterable[Mapping[str, Any]], extra_names: Iterable[str] = ()) -> list[str]:
    """Names of the privileged directory roles among ``roles`` (by template id or display name)."""
    names = PRIVILEGED_ROLE_NAMES | frozenset(extra_names)
    found = []
    for role in roles:
        name = str(role.get("name") or "")
        if str(role.get("templateId") or "").lower() in PRIVILEGED_ROLE_TEMPLATES or name in names:
            found.append(PRIVILEGED_ROLE_TEMPLATES.get(str(role.get("templateId") or "").lower(), name))
    return sorted(set(found))


def port_ranges(rule: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The destination port ranges of an NSG rule's properties ('*' is every port)."""
    values = [rule.get("destinationPortRange")] + list(rule.get("destinationPortRanges") or [])
    ranges: list[tuple[int, int]] = []
    for v in values:
        if v in (None, ""):
            continue
        text = str(v).strip()
        if text == "*":
            ranges.append((0, 65535))
        elif "-" in text:
            lo, _, hi = text.partition("-")
            ranges.append((int(lo), int(hi)))
        else:
            ranges.append((int(text), int(text)))
    return ranges


def open_ports(rules: Iterable[Mapping[str, Any]], ports: Iterable[int]) -> list[tuple[str, int]]:
    """(rule name, port) for each inbound Allow rule from the internet that covers one of ``ports``."""
    hits: list[tuple[str, int]] = []
    for rule in rules:
        p = rule.get("properties", rule)
        if str(p.get("direction", "")).lower() != "inbound" or str(p.get("access", "")).lower() != "allow":
            continue
        if str(p.get("protocol", "*")).lower() not in ("*", "tcp", "udp", "any"):
            continue
        sources = [p.get("sourceAddressPrefix")] + list(p.get("sourceAddressPrefixes") or [])
        if not any(from_internet(s) for s in sources if s is not None):
            continue
        for port in ports:
            if any(lo <= port <= hi for lo, hi in port_ranges(p)):
                hits.append((str(rule.get("name") or p.get("name") or "?"), port))
    return hits
