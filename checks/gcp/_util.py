"""Parsing helpers shared by the GCP checks. Pure functions over plain data; no Google calls.

The registry skips this module (leading underscore), so nothing here is discovered as a check.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from agent.models import Resource

__all__ = [
    "PUBLIC_MEMBERS",
    "bindings",
    "days_since",
    "is_world",
    "label",
    "open_ports",
    "parse_duration_s",
    "parse_time",
    "policy_of",
    "WORLD",
]

PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
WORLD = ("0.0.0.0/0", "::/0")


def parse_time(value: Any) -> datetime:
    """RFC 3339 (Z or offset, optional fraction) -> aware datetime; ValueError if malformed."""
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)  # nanoseconds -> microseconds
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def days_since(ts: datetime, now: datetime) -> int:
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).__sub__(ts).days


def parse_duration_s(value: Any) -> float:
    """A protobuf Duration in JSON ("7776000s", "3.5s") as seconds; ValueError if malformed."""
    text = str(value).strip()
    if not text.endswith("s"):
        raise ValueError(f"not a duration: {text!r}")
    return float(text[:-1])


def label(resource: Resource) -> str:
    """A short human name: the resource's name attribute or the last part of its full name."""
    name = resource.attributes.get("name") or resource.name or resource.id
    return str(name).rsplit("/", 1)[-1]


def policy_of(resource: Resource) -> Mapping[str, Any]:
    """The IAM policy on a resource: a gcp.iam.policy's own bindings or an asset's ``iamPolicy``."""
    if resource.type == "gcp.iam.policy":
        return {"bindings": resource.attributes.get("bindings") or []}
    return resource.attributes.get("iamPolicy") or {}


def bindings(policy: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(role, member) pairs of a policy."""
    for b in policy.get("bindings") or []:
        if not isinstance(b, Mapping):
            continue
        for m in b.get("members") or []:
            yield str(b.get("role", "")), str(m)


def _port_range(text: str) -> tuple[int, int]:
    lo, _, hi = str(text).partition("-")
    return int(lo), int(hi or lo)


def is_world(cidr: Any) -> bool:
    """0.0.0.0/0, ::/0, or a public range so wide (a /8 or wider) that it admits the internet, as
    two halves 0.0.0.0/1 + 128.0.0.0/1 do."""
    try:
        net = ipaddress.ip_network(str(cidr).strip(), strict=False)
    except ValueError:
        return False
    return net.prefixlen <= (8 if net.version == 4 else 32) and not net.is_private


def _from_internet(firewall: Mapping[str, Any]) -> bool:
    ranges = firewall.get("sourceRanges") or []
    if not ranges and not firewall.get("sourceTags") and not firewall.get("sourceServiceAccounts"):
        return True  # an ingress rule without any source applies to 0.0.0.0/0 (VPC firewall docs)
    return any(is_world(r) for r in ranges)


def open_ports(firewall: Mapping[str, Any], ports: Iterable[int]) -> list[int]:
    """Which of ``ports`` an enabled ingress allow rule opens to the whole internet."""
    if str(firewall.get("direction", "INGRESS")).upper() != "INGRESS" or firewall.get("disabled") is True:
        return []
    if not _from_internet(firewall):
        return []
    found: set[int] = set()
    for rule in firewall.get("allowed") or []:
        proto = str(rule.get("IPProtocol", "")).lower()
        if proto not in ("tcp", "all", "6"):
            continue
        ranges = [_port_range(p) for p in rule.get("ports") or []]
        for port in ports:
            if not ranges or any(lo <= port <= hi for lo, hi in ranges):
                found.add(int(port))
    return sorted(found)
