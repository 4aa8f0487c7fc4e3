"""Facts the people-ledger checks share: pure functions over the ``people.person`` and ``people.ledger``
resources collectors/people/ledger.py records. A fact that was not collected raises ``MissingInput``.

The registry skips this module (leading underscore), so nothing here is discovered as a check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from agent.models import Resource
from checks.base import Context, MissingInput, need

__all__ = [
    "IDENTITY_TYPE",
    "LEDGER_TYPE",
    "PERSON_TYPE",
    "READS_ROSTER",
    "day_of",
    "identities",
    "identity_label",
    "identity_problem",
    "label",
    "left_by",
    "listed",
    "midnight",
    "setting",
    "source_times",
]

PERSON_TYPE = "people.person"
IDENTITY_TYPE = "people.identity"
LEDGER_TYPE = "people.ledger"
READS_ROSTER = "the roster file (CSV or JSON) and the identity map; the identity sources' latest stored snapshots"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def label(person: Resource) -> str:
    return str(person.attributes.get("email") or person.name or person.id.rsplit(":", 1)[-1])


def identity_label(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('provider')}:{entry.get('login')} ({entry.get('source')})"


def listed(entries: Sequence[Mapping[str, Any]], limit: int = 6) -> str:
    names = sorted(identity_label(e) for e in entries)
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def day_of(person: Resource, key: str) -> date | None:
    """A roster date (None when empty); MissingInput when the roster row could not be read there."""
    if key in person.errors:
        raise MissingInput(f"{key} of {label(person)} could not be read: {person.errors[key]}")
    value = person.attributes.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise MissingInput(f"{key} of {label(person)} is not a date: {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise MissingInput(f"{key} of {label(person)} is not a date: {value!r}") from None


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def identities(person: Resource) -> list[Mapping[str, Any]]:
    """The identities joined to the person (complete or not: see ``identity_problem``)."""
    value = person.attributes.get("identities")
    if not isinstance(value, list) or not all(isinstance(e, Mapping) for e in value):
        raise MissingInput(f"the identities of {label(person)} were not recorded")
    return list(value)


def identity_problem(person: Resource) -> str:
    """Why the identities joined to the person may be incomplete ('' when they are not)."""
    return str(person.errors.get("identities") or "")


def _ledger(ctx: Context) -> Resource:
    found = ctx.snapshot.of_type(LEDGER_TYPE)
    if not found:
        raise MissingInput("the people ledger (people.ledger) is not in the snapshot")
    return found[0]


def setting(ctx: Context, key: str) -> timedelta:
    """A threshold the source's configuration set, recorded on the ledger (``Settings``)."""
    settings = need(_ledger(ctx), "Settings")
    value = settings.get(key) if isinstance(settings, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MissingInput(f"the ledger setting {key} is not a number of seconds: {value!r}")
    return timedelta(seconds=value)


def source_times(ctx: Context) -> dict[str, datetime | None]:
    """Identity source name -> when its joined snapshot was collected (None: nothing joined)."""
    out: dict[str, datetime | None] = {}
    for entry in need(_ledger(ctx), "sources") or []:
        if not isinstance(entry, Mapping):
            continue
        when = entry.get("collected_at")
        try:
            ts = datetime.fromisoformat(str(when).replace("Z", "+00:00")) if isinstance(when, str) else None
        except ValueError:
            ts = None
        out[str(entry.get("name"))] = ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)
    return out


def left_by(person: Resource, now: datetime) -> date | None:
    """The end date when it has passed (the person has left), else None."""
    end = day_of(person, "end_date")
    if end is not None and midnight(end + timedelta(days=1)) <= now:
        return end
    return None
