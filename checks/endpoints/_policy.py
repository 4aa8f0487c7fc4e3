"""Numeric thresholds known only through a compliance policy (Intune): bounds, not values.

A device *compliant* with a policy that requires a lock within 5 minutes locks within 5 minutes; a
device *not compliant* with it locks later than 5 minutes, or never. Neither says the exact value,
so a check can conclude only when the bound decides its own limit; otherwise the answer is unknown
(``error``), never a guess. Evidence comes from ``compliance_settings`` entries the collector
normalised: ``{"topic", "setting", "policy", "state", "required"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.models import Resource, Status
from checks.base import Verdict, failed, passed
from checks.endpoints._util import host

__all__ = ["COMPLIANT", "NONCOMPLIANT", "by_bound", "evidence"]

COMPLIANT = ("compliant", "remediated")
NONCOMPLIANT = ("nonCompliant", "noncompliant")


def evidence(device: Resource, topic: str) -> list[dict[str, Any]]:
    found = device.attributes.get("compliance_settings") or []
    return [
        e
        for e in found
        if isinstance(e, dict)
        and e.get("topic") == topic
        and isinstance(e.get("required"), (int, float))
        and not isinstance(e.get("required"), bool)
    ]


def by_bound(
    device: Resource, topic: str, *, at_most: bool, limit: float, scale: float, show: Callable[[float], str], what: str
) -> Verdict | None:
    """A verdict from policy bounds, or None without evidence.

    ``at_most``: the requirement is an upper bound (lock within N minutes); otherwise a lower bound
    (password at least N characters). ``scale`` turns a policy value into the check's unit.
    """
    items = evidence(device, topic)
    if not items:
        return None
    name = host(device)
    for e in items:  # a definite failure wins
        required = float(e["required"]) * scale
        decides = required >= limit if at_most else required <= limit
        if e.get("state") in NONCOMPLIANT and decides:
            return failed(
                f"device {name} does not meet the {show(required)} {what} that policy "
                f"'{e.get('policy')}' requires (limit {show(limit)})"
            )
    for e in items:
        required = float(e["required"]) * scale
        decides = required <= limit if at_most else required >= limit
        if e.get("state") in COMPLIANT and decides:
            return passed(f"device {name} meets the {show(required)} {what} of policy '{e.get('policy')}'")
    states = ", ".join(f"'{e.get('policy')}' ({show(float(e['required']) * scale)}): {e.get('state')}" for e in items)
    return Verdict(
        Status.ERROR,
        f"device {name}: its {what} is known only against policies that do not "
        f"decide the limit of {show(limit)} ({states})",
    )
