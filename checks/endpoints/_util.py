"""Helpers shared by the endpoint checks: freshness, time parsing, device facts. Pure; no I/O.

Freshness. A device (or one part of its report, see ``observed_at`` in collectors/endpoints/device.py)
whose last report is older than ``stale_after_days`` (default 7) cannot vouch for today:

- a check that would pass on it reports ``error`` instead (the state today is unknown);
- a check that fails on it still fails, and says "as last reported on <day>": the report is
  evidence of a failure, and a silent device is no reason to forget it;
- ``checked_in`` itself fails for a device silent longer than the limit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agent.models import Resource, Status
from checks.base import Context, MissingInput, Verdict, failed, need, not_applicable

__all__ = [
    "DOCS",
    "MOBILE",
    "STALE",
    "STALE_AFTER_DAYS",
    "age_days",
    "host",
    "is_server",
    "known",
    "mobile_not_applicable",
    "parse_time",
    "server_not_applicable",
    "settle",
    "stale_limit",
    "unknown",
]

STALE_AFTER_DAYS = 7
STALE = {"stale_after_days": STALE_AFTER_DAYS}
MOBILE = ("ios", "android")
DOCS = "https://github.com/posture-agent/posture-agent/blob/main/docs/endpoints.md"


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


def is_server(device: Resource) -> bool:
    """A headless server (SSM instances, or a source that says so): no screen, no MDM."""
    return (device.attributes.get("extra") or {}).get("headless") is True


def server_not_applicable(device: Resource, what: str) -> Verdict | None:
    if is_server(device):
        return not_applicable(f"device {host(device)} is a server: {what} does not apply")
    return None


def unknown(device: Resource, what: str) -> MissingInput:
    source = device.attributes.get("source") or "its source"
    return MissingInput(f"device {host(device)}: {source} does not report {what}")


def mobile_not_applicable(device: Resource, what: str) -> Verdict | None:
    """Phones and tablets run no desktop antivirus, EDR or host firewall; their protection is MDM
    compliance and the jailbreak check."""
    if device.attributes.get("platform") in MOBILE:
        return not_applicable(
            f"device {host(device)} is a phone or tablet: {what} does not apply (see mdm_compliant and not_jailbroken)"
        )
    return None


def known(device: Resource, key: str, what: str) -> Any:
    """The attribute, or MissingInput when the source did not report it (None)."""
    value = need(device, key)
    if value is None:
        raise unknown(device, what)
    return value


def stale_limit(ctx: Context) -> float:
    return float(ctx.params.get("stale_after_days", STALE_AFTER_DAYS))


# How a separately dated part of a report is named in messages.
_REPORTS = {
    "antivirus": "protection report",
    "tamper_protection": "protection report",
    "edr": "EDR sensor report",
    "mdm_compliance": "compliance report",
    "patches": "last patch scan",
}


def day(value: Any) -> str:
    """The date of a report time: messages name the day, never "N days ago", which would change the
    message (a new finding event) every day."""
    return parse_time(value).date().isoformat()


def _report_age(device: Resource, ctx: Context, attrs: tuple[str, ...]) -> tuple[float | None, str, Any]:
    """Age in days of the oldest report behind ``attrs`` (None: unknown), what that report is and its time."""
    observed = device.attributes.get("observed_at") or {}
    oldest: tuple[float | None, str, Any] = (0.0, "its last check-in", None)
    for attr in attrs or ("last_seen",):
        label = (
            f"its {_REPORTS.get(attr, attr.replace('_', ' ') + ' report')}" if attr in observed else "its last check-in"
        )
        stamp = observed[attr] if attr in observed else device.attributes.get("last_seen")
        if not stamp:
            return None, label, None
        age = age_days(stamp, ctx.now)
        if oldest[0] is not None and age >= oldest[0]:
            oldest = (age, label, stamp)
    return oldest


def settle(device: Resource, ctx: Context, verdict: Verdict, *attrs: str) -> Verdict:
    """``verdict`` as the age of the reports behind ``attrs`` allows: a stale or undated report never
    passes; a failure it evidenced stays a failure, dated."""
    if verdict.status not in (Status.PASS, Status.FAIL):
        return verdict
    limit = stale_limit(ctx)
    age, label, stamp = _report_age(device, ctx, attrs)
    if age is not None and age <= limit:
        return verdict
    when = f"on {day(stamp)}" if age is not None else "at an unknown time"
    if verdict.status == Status.FAIL:
        return failed(f"{verdict.reason} (as last reported {when})", verdict.observed)
    if age is None:
        return Verdict(Status.ERROR, f"{verdict.reason}, but {label} has no date, so it cannot vouch for today")
    return Verdict(
        Status.ERROR,
        f"{verdict.reason} as of {day(stamp)}, but {label} is older than {limit:g} days: the state today is unknown",
    )
