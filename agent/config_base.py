"""The config types every part shares: durations, secret references, the strict model base, the
schedule and ``SourceBase``, the keys every source has. Provider models (collectors/<name>/config.py)
build on these; agent/config.py assembles the whole file."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from agent.errors import ConfigError, Problem

__all__ = [
    "AWS_REGION",
    "AnySource",
    "ConfigModel",
    "Duration",
    "IAM_ROLE_ARN",
    "MAX_DURATION",
    "Schedule",
    "Secret",
    "SecretRef",
    "SourceBase",
    "parse_duration",
]

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
MAX_DURATION = timedelta(days=3650)  # ten years: longer than any interval, timeout or age the agent uses


def parse_duration(value: Any) -> timedelta:
    """'30s', '15m', '1h', '7d', '2w' or a number of seconds; from 0 to 10 years (3650d)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m, 1h or 7d")
    elif isinstance(value, int):
        seconds = value
    elif isinstance(value, (str, float)):
        text = str(value)
        match = _DURATION.match(text) if len(text) <= 64 else None
        if match is None:
            raise ValueError(f"invalid duration {_clip(value)}: use e.g. 30s, 15m, 1h or 7d")
        if len(match.group(1)) > 12:
            raise ValueError(f"duration {_clip(value)} is longer than 10 years (3650d)")
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
    else:
        raise ValueError(f"expected a duration such as 30s, 15m, 1h or 7d, not {_kind(value)}")
    if seconds < 0:
        raise ValueError(f"duration {_clip(value)} is negative")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {_clip(value)} is longer than 10 years (3650d)")
    return value if isinstance(value, timedelta) else timedelta(seconds=seconds)


def _clip(value: Any, limit: int = 40) -> str:
    """repr of a value a user gave, shortened: it goes into a one-line message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "<a huge integer>"  # str() of an integer of more than 4300 digits raises
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _kind(value: Any) -> str:
    kinds = {dict: "a mapping", list: "a list", type(None): "an empty value"}
    return kinds.get(type(value), f"a {type(value).__name__}")


def _format_duration(td: timedelta) -> str:
    return f"{int(td.total_seconds())}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": ["string", "integer"],
            "pattern": r"^\d+[smhdw]?$",
            "description": "Duration: 30s, 15m, 1h, 7d, or seconds",
        }
    ),
]


class Secret:
    """A reference to a secret (``env:NAME`` or ``file:/path``), resolved only when used.

    It never holds the value: repr, logs and exports show the reference, never the secret."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"Secret({self.ref!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(self.ref)

    def reveal(self) -> str:
        kind, _, target = self.ref.partition(":")
        if kind == "env":
            value = os.environ.get(target)
            if value is None:
                raise ConfigError(
                    [Problem(key="", message=f"secret {self.ref}: environment variable {target} is not set")]
                )
            return value
        try:
            return Path(target).read_text(encoding="utf-8").strip()
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8 text, a NUL byte in the path
            if isinstance(exc, UnicodeDecodeError):
                why = "not UTF-8 text"
            else:
                why = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
            raise ConfigError([Problem(key="", message=f"secret {self.ref}: cannot read file: {why}")]) from None

    def problem(self) -> str | None:
        """Why this reference cannot be resolved now, or None."""
        kind, _, target = self.ref.partition(":")
        if kind == "env" and target not in os.environ:
            return f"environment variable {target} is not set"
        if kind == "file":
            try:
                found = Path(target).is_file()
            except (OSError, ValueError) as exc:  # e.g. a name too long for the file system
                return f"the file cannot be checked: {getattr(exc, 'strerror', None) or exc}"
            if not found:
                return f"file {target if len(target) <= 100 else target[:100] + '...'} does not exist"
        return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a secret reference: env:NAME or file:/path")
    if re.match(r"^env:[A-Za-z_][A-Za-z0-9_]*$", value) or re.match(r"^file:/.+", value):
        if _CONTROL.search(value):
            raise ValueError("a secret's file path cannot contain control characters (a NUL byte, a newline)")
        return Secret(value)
    raise ValueError("secrets are given by reference only: use env:NAME or file:/absolute/path, never the value itself")


SecretRef = Annotated[
    Secret,
    BeforeValidator(_secret),
    PlainSerializer(lambda s: s.ref, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$",
            "description": "Secret reference: env:NAME or file:/path",
        }
    ),
]


class ConfigModel(BaseModel):
    """A section of the config: unknown keys are errors, and a validated section never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Schedule(ConfigModel):
    interval: Duration | None = None
    cron: str | None = Field(default=None, description="Five-field cron expression, UTC")
    jitter: Duration = Field(default=timedelta(seconds=0), description="Random delay added to each run")
    misfire_grace: Duration = timedelta(minutes=5)

    @field_validator("interval")
    @classmethod
    def _positive(cls, v: timedelta | None) -> timedelta | None:
        if v is not None and v.total_seconds() < 10:
            raise ValueError("interval must be at least 10s")
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v, timezone="UTC")
        except Exception as exc:  # noqa: BLE001 - whatever the parser raises, the expression is the problem
            raise ValueError(f"invalid cron expression {_clip(v, 80)}: {exc}") from None
        return v

    @model_validator(mode="after")
    def _one(self) -> Schedule:
        if (self.interval is None) == (self.cron is None):
            raise ValueError("give exactly one of interval or cron")
        return self

    def nominal_interval(self) -> timedelta:
        """The expected gap between runs (for cron, the gap between its next two fire times)."""
        if self.interval is not None:
            return self.interval
        from datetime import UTC, datetime

        from apscheduler.triggers.cron import CronTrigger

        trig = CronTrigger.from_crontab(self.cron or "", timezone="UTC")
        now = datetime.now(UTC)
        first = trig.get_next_fire_time(None, now)
        second = trig.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
        if first is None or second is None:
            return timedelta(hours=1)
        interval: timedelta = second - first
        return interval


# AWS names: the AWS provider's models check them, and so does the S3 anchor of ``evidence:``.
AWS_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


class SourceBase(ConfigModel):
    """The keys every item of ``sources:`` has, whatever its provider.

    Each provider owns the rest: its collector package subclasses this with
    ``provider: Literal["<name>"]`` and its own keys (e.g. collectors/aws/config.py), and its entry
    point exposes that model (agent.registry.Provider). An item is validated into the model of the
    provider its ``provider`` key names."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    schedule: Schedule = Schedule(interval=timedelta(hours=1))
    enabled: bool = True
    provider: str

    def collects(self, resource_type: str) -> bool:
        """False for a type this source leaves out by its own settings (an AWS source's
        ``services``): a check that requires it then reports error, not a verdict on nothing."""
        return True

    def reads_agent_store(self) -> bool:
        """True when the collector reads the agent's own store (``CollectContext.store``): the daemon
        then collects it in its own process, not in a child (agent/stages/collect_child.py)."""
        return False

    def reads_sources(self, configured: Sequence[SourceBase]) -> list[str]:
        """The names of the ``configured`` sources whose stored snapshots this source's collector reads
        (the people ledger joins the identity sources): the daemon starts its first run after theirs."""
        return []


AnySource = SourceBase  # what the cycle, the daemon and the CLI take: a source of any provider
