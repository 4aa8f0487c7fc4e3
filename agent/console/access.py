"""What the signed-in user may see: operators everything; an auditor only their period (pages show the
state at its end once it has ended, and a period asked for must lie within it) and their frameworks
(the checks behind them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from starlette.exceptions import HTTPException

from agent.console.settings import User
from agent.mappings import Mappings

__all__ = ["Viewer", "refuse"]


def refuse(message: str) -> HTTPException:
    return HTTPException(403, message)


def _day(at: datetime) -> str:
    return at.date().isoformat()


@dataclass(frozen=True)
class Viewer:
    user: User
    frameworks: tuple[str, ...]  # those this user may open
    checks: frozenset[str] | None  # None: every check
    now: datetime

    @classmethod
    def of(
        cls, user: User, mappings: Mappings, in_scope: tuple[str, ...], categories: tuple[str, ...], now: datetime
    ) -> Viewer:
        if user.role != "auditor":
            return cls(user, in_scope, None, now)
        fws = tuple(f for f in user.frameworks if f in mappings.frameworks)
        checks = {
            c for f in fws for r in mappings.framework(f).in_scope(categories) for c in mappings.requirement_checks(r)
        }
        return cls(user, fws, frozenset(checks), now)

    @property
    def period_days(self) -> tuple[date, date] | None:
        """The auditor's period as its first and last day."""
        period = self.user.period
        return None if period is None else (period[0].date(), (period[1] - timedelta(days=1)).date())

    @property
    def auditor(self) -> bool:
        return self.user.role == "auditor"

    @property
    def as_of(self) -> datetime | None:
        """The time pages show the state at: None (now), or the end of an auditor's ended period."""
        period = self.user.period
        if period is not None and self.now >= period[1]:
            return period[1]
        return None

    @property
    def state_time(self) -> datetime:
        return self.as_of or self.now

    def framework(self, framework: str) -> str:
        if framework not in self.frameworks:
            if self.auditor:
                raise refuse(f"framework {framework} is outside your access (yours: {', '.join(self.frameworks)})")
            raise HTTPException(400, f"framework {framework} is not in scope (in scope: {', '.join(self.frameworks)})")
        return framework

    def check(self, check_id: str) -> None:
        if self.checks is not None and check_id not in self.checks:
            raise refuse(f"check {check_id} is not behind your frameworks ({', '.join(self.frameworks)})")

    def period(self, start: datetime, end: datetime) -> None:
        """Refuse a period that reaches outside the auditor's."""
        own = self.user.period
        if own is not None and (start < own[0] or end > own[1]):
            last = (own[1] - timedelta(days=1)).date().isoformat()
            raise refuse(f"{_day(start)} to {_day(end)} is outside your audit period {_day(own[0])} to {last}")

    def default_period(self, fallback: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
        return self.user.period or fallback
