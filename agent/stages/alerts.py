"""Compose alerts: finding transitions and exception notices become outbox rows per channel. Pure.

A failure or resolution alert per finding transition, a digest per channel when one cycle brings
more than ``alerts.digest_threshold`` of them, and a notice when a risk-acceptance exception is a
week from expiring or has expired. The dedup keys make a replayed cycle enqueue nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from agent.alerts.model import SEVERITY_RANK, Alert
from agent.alerts.routing import channels_for
from agent.config import Config
from agent.drift import FAILURE_KINDS, RESOLUTION_KINDS
from agent.mappings import Mappings
from agent.models import WARN_BEFORE, ExceptionRule, isoformat
from agent.stages.drift import FindingTransition
from checks.base import Check

__all__ = ["AlertComposer", "ExceptionNotice", "OutboxItem"]

DIGEST_ITEMS = 20

OutboxItem = tuple[str, str, Alert]  # (channel, dedup key, alert)

_VERBS = {
    "regressed": "Regressed",
    "new_failing": "New failing resource",
    "resolved": "Resolved",
    "gone": "Resolved (resource removed)",
}


@dataclass(frozen=True)
class ExceptionNotice:
    rule: ExceptionRule
    column: Literal["warned_at", "expired_at"]  # set once queued: the notice goes out once
    key: str
    alert: Alert


class AlertComposer:
    def __init__(
        self,
        config: Config,
        checks: Mapping[str, Check],
        requirements: Mapping[str, Sequence[str]],
        mappings: Mappings,
    ) -> None:
        self.config = config
        self.checks = checks
        self.requirements = requirements  # check id -> framework requirement refs in scope
        self._prefix_to_framework = {
            str(fw.prefix): fid for fid, fw in mappings.frameworks.items() if getattr(fw, "prefix", None)
        }

    def finding_alert(self, t: FindingTransition, now: datetime) -> Alert | None:
        ev, ch = t.event, t.change
        if ev.kind in FAILURE_KINDS:
            kind = "failure"
        elif ev.kind in RESOLUTION_KINDS or (ev.kind == "gone" and ch.previous_status == "fail"):
            kind = "resolution"
        else:
            return None  # errors, exceptions, new passing resources: drift events and metrics only
        chk = self.checks.get(ev.check_id)
        title_of = chk.meta.title if chk else ev.check_id
        remediation = ""
        if chk is not None:
            rem = chk.meta.remediation
            remediation = "\n".join(x for x in (rem.console, f"CLI: {rem.cli}" if rem.cli else "", rem.docs) if x)
        controls, frameworks = self._tags(ev.check_id, ch.finding.requirements if ch.finding else None)
        return Alert(
            kind=kind,
            title=f"{_VERBS[ev.kind]}: {title_of}",
            severity=ev.severity,
            transition=ev.kind,
            source=ev.source,
            provider=ev.provider,
            account=ev.account,
            region=ev.region,
            check_id=ev.check_id,
            check_title=title_of,
            resource_id=ev.resource_id,
            resource_type=ev.resource_type,
            previous_status=ev.previous_status or "",
            status=ev.status or "",
            message=str(ev.detail.get("message") or ("resource no longer present" if ev.kind == "gone" else "")),
            controls=controls,
            frameworks=frameworks,
            remediation=remediation,
            changes=t.attribute_changes,
            link=self._link(check=ev.check_id, resource=ev.resource_id),
            at=isoformat(now),
        )

    def exception_notices(self, rules: Sequence[ExceptionRule], now: datetime) -> list[ExceptionNotice]:
        out: list[ExceptionNotice] = []
        for rule in rules:
            column: Literal["warned_at", "expired_at"]
            if rule.active(now) and rule.warned_at is None and rule.expires_at - now <= WARN_BEFORE:
                kind, column, what = "exception_expiring", "warned_at", "expires"
            elif not rule.active(now) and rule.expired_at is None:
                kind, column, what = "exception_expired", "expired_at", "expired"
            else:
                continue
            chk = self.checks.get(rule.check_id)
            controls, frameworks = self._tags(rule.check_id, None)
            then = (
                "Renew it or fix the resources before then."
                if kind == "exception_expiring"
                else "Matching findings count as failing again."
            )
            alert = Alert(
                kind=kind,
                title=f"Exception #{rule.id} {what} {isoformat(rule.expires_at)[:10]}",
                severity=chk.meta.severity.value if chk else "high",
                check_id=rule.check_id,
                resource_id=rule.resource_pattern,
                controls=controls,
                frameworks=frameworks,
                message=(
                    f"Risk acceptance of {rule.owner} for {rule.check_id} on {rule.resource_pattern} "
                    f"{what} {isoformat(rule.expires_at)}; reason: {rule.reason}. {then}"
                ),
                link=self._link(check=rule.check_id),
                at=isoformat(now),
            )
            out.append(ExceptionNotice(rule, column, f"exception:{rule.id}:{kind}", alert))
        return out

    def route(
        self, run_id: str, source: str, provider: str, alerts: Sequence[tuple[str, Alert]], now: datetime
    ) -> list[OutboxItem]:
        """(dedup base, alert) pairs to outbox rows: each alert to the channels its routes pick; a
        channel getting more failures (or resolutions) than the threshold gets one digest instead."""
        cfg = self.config.alerts
        if not cfg.channels:
            return []
        per_channel: dict[str, dict[str, list[tuple[str, Alert]]]] = {}
        for key, alert in alerts:
            group = alert.kind if alert.kind in ("failure", "resolution") else "notice"
            for name in channels_for(alert, cfg):
                per_channel.setdefault(name, {}).setdefault(group, []).append((key, alert))
        rows: list[OutboxItem] = []
        for name, groups in per_channel.items():
            for group, items in groups.items():
                if group != "notice" and len(items) > cfg.digest_threshold:
                    digest = _digest(group, source, provider, [a for _, a in items], now)
                    rows.append((name, f"{name}:{run_id}:digest:{group}", digest))
                else:
                    rows.extend((name, f"{name}:{key}", alert) for key, alert in items)
        return rows

    def _link(self, **query: str) -> str:
        base = self.config.external_url
        return f"{base.rstrip('/')}/?{urlencode(query)}" if base else ""

    def _tags(self, check_id: str, tags: Sequence[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
        controls = tuple(tags if tags is not None else self.requirements.get(check_id, ()))
        frameworks = sorted(
            {self._prefix_to_framework.get(c.split(":", 1)[0], c.split(":", 1)[0].lower()) for c in controls}
        )
        return controls, tuple(frameworks)


def _digest(group: str, source: str, provider: str, alerts: list[Alert], now: datetime) -> Alert:
    by_check: dict[str, int] = {}
    by_sev: dict[str, int] = {}
    for a in alerts:
        by_check[a.check_id] = by_check.get(a.check_id, 0) + 1
        by_sev[a.severity] = by_sev.get(a.severity, 0) + 1
    worst = max((a.severity for a in alerts), key=lambda s: SEVERITY_RANK.get(s, 0))
    accounts = sorted({a.account for a in alerts})
    items = tuple(
        {
            "severity": a.severity,
            "check_id": a.check_id,
            "resource_id": a.resource_id,
            "account": a.account,
            "region": a.region,
            "transition": a.transition,
        }
        for a in sorted(alerts, key=lambda a: -a.rank)[:DIGEST_ITEMS]
    )
    frameworks = tuple(sorted({f for a in alerts for f in a.frameworks}))
    what = "new failures" if group == "failure" else "resolutions"
    return Alert(
        kind="digest",
        title=f"{len(alerts)} {what} in {source}",
        severity=worst,
        transition=group,
        source=source,
        provider=provider,
        account=accounts[0] if len(accounts) == 1 else "",
        total=len(alerts),
        by_check=by_check,
        by_severity=by_sev,
        items=items,
        frameworks=frameworks,
        link=alerts[0].link.split("?")[0],
        at=isoformat(now),
    )
