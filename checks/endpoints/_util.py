"""Helpers shared by the endpoint checks: freshness and time parsing. Pure; no I/O.

A device that has not checked in for ``stale_after_days`` (default 7) is stale: what it last said
cannot vouch for today, so every check on it reports ``error`` rather than pass or fail.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, need

__all__ = ["STALE_AFTER_DAYS", "age_days", "fresh", "host", "parse_time"]

STALE_AFTER_DAYS = 7


def parse_time(value: Any) -> datetime:
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    ts = datetime.fromisoformat(text)
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def age_days(value: Any, now: datetime) -> float:
    return (now - parse_time(value)).total_seconds() / 86400


def host(device: Resource) -> str:
    return str(device.attributes.get("hostname") or device.name or device.id)


def fresh(device: Resource, ctx: Context) -> None:
    """MissingInput (-> error) when the device's last check-in is unknown or too old."""
    seen = need(device, "last_seen")
    if seen is None:
        raise MissingInput(f"device {host(device)} has never reported a check-in time")
    limit = float(ctx.params.get("stale_after_days", STALE_AFTER_DAYS))
    age = age_days(seen, ctx.now)
    if age > limit:
        raise MissingInput(f"device {host(device)} last checked in {age:.0f} days ago (stale after {limit:g}): "
                           "its state is unknown")


def known(device: Resource, key: str, what: str) -> Any:
    """The attribute, or MissingInput when the source did not report it (None)."""
    value = need(device, key)
    if value is None:
        raise MissingInput(f"device {host(device)}: its source does not report {what}")
    return value
