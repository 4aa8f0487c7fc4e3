"""Apply exceptions: failing findings covered by an active risk acceptance become ``excepted``. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime

from agent.models import ExceptionRule, Finding, Status, isoformat

__all__ = ["apply_exceptions"]


def apply_exceptions(findings: Sequence[Finding], rules: Iterable[ExceptionRule], now: datetime) -> list[Finding]:
    """Failing findings covered by an active rule become ``excepted`` (original status kept in the
    message); everything else is returned unchanged."""
    active = [r for r in rules if r.active(now)]
    if not active:
        return list(findings)
    out: list[Finding] = []
    for f in findings:
        rule = next((r for r in active if r.matches(f)), None) if f.status == Status.FAIL else None
        if rule is None:
            out.append(f)
            continue
        out.append(
            dataclasses.replace(
                f,
                status=Status.EXCEPTED,
                message=(
                    f"excepted (was {f.status.value}) by exception #{rule.id} of {rule.owner} until "
                    f"{isoformat(rule.expires_at)}: {f.message}"
                ),
            )
        )
    return out
