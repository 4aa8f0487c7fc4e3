"""What a console needs from the config, resolved once when it is served: users with their hashes
(secret references read now), the session key, the scope of the posture pages."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from agent.config_base import Secret
from agent.console.passwords import hash_problem
from agent.errors import ConfigError, Problem

if TYPE_CHECKING:
    from agent.config import Config

__all__ = ["ConsoleSettings", "User", "settings_from"]

MIN_SECRET_BYTES = 32


@dataclass(frozen=True, kw_only=True)
class User:
    name: str
    role: str  # operator | auditor
    password_hash: str = field(repr=False)
    period: tuple[datetime, datetime] | None = None  # auditors: [start, end) in UTC
    frameworks: tuple[str, ...] = ()  # auditors: what they may see; empty for operators (everything)


@dataclass(frozen=True, kw_only=True)
class ConsoleSettings:
    users: dict[str, User] = field(repr=False)
    secret: bytes = field(repr=False)
    session_max_age: timedelta
    secure_cookies: bool
    frameworks: tuple[str, ...]  # in scope (the config's scope.frameworks)
    categories: tuple[str, ...]  # SOC 2 categories in scope
    # what `evidence export --config` signs and witnesses a bundle with (evidence.signing_key, .anchors)
    signer: Any = field(default=None, repr=False)
    anchors: Any = field(default=None, repr=False)


def _day_span(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def _reveal(ref: Secret | str, key: str) -> str:
    if isinstance(ref, str):
        return ref
    value = ref.reveal()
    why = hash_problem(value)
    if why:  # the message never repeats the value
        raise ConfigError([Problem(key=key, message=f"{ref.ref}: {why}")])
    return value


def settings_from(config: Config) -> ConsoleSettings:
    """The console of ``config``; ConfigError when a secret cannot be read or is unusable."""
    from agent.evidence.checkpoints import Signer
    from agent.posture import soc2_categories

    c = config.console
    users: dict[str, User] = {}
    for i, u in enumerate(c.users):
        users[u.name] = User(
            name=u.name,
            role=u.role,
            password_hash=_reveal(u.password_hash, f"console.users[{i}].password_hash"),
            period=_day_span(u.period.start, u.period.end) if u.period is not None else None,
            frameworks=tuple(u.frameworks),
        )
    if c.session_secret is not None:
        secret = c.session_secret.reveal().encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError([Problem(key="console.session_secret", message=f"shorter than {MIN_SECRET_BYTES} bytes")])
    else:
        secret = os.urandom(32)  # sessions end when the process does
    return ConsoleSettings(
        users=users,
        secret=secret,
        session_max_age=c.session_max_age,
        secure_cookies=c.secure_cookies,
        frameworks=tuple(config.scope.frameworks),
        categories=soc2_categories(config.scope.soc2_categories),
        signer=Signer.from_config(config.evidence),
        anchors=config.evidence.anchors,
    )
