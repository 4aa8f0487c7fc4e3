"""The query string of a page, checked before anything is read: an unknown parameter, a value that is
not one of the choices, a bad date or page number is a 400 with a message naming it, never a 500."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime, time, timedelta

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

__all__ = ["Params", "bad"]

MAX_VALUES = 50  # of one parameter
MAX_VALUE_CHARS = 2048  # resource ids are long (ARNs, GCP full names), not this long
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f\ud800-\udfff]*$")
DATE_RANGE = (date(2000, 1, 1), date(2100, 12, 31))


def bad(message: str) -> HTTPException:
    return HTTPException(400, message)


def _shown(value: str) -> str:
    text = value.encode("unicode_escape").decode("ascii")
    return text if len(text) <= 60 else text[:57] + "..."


class Params:
    """The query parameters a page accepts (``allowed``); each read checks its values."""

    def __init__(self, query: QueryParams, allowed: Iterable[str]) -> None:
        self.query = query
        known = set(allowed)
        for key in query:
            if key not in known:
                names = ", ".join(sorted(known)) or "none"
                raise bad(f"unknown parameter {_shown(key)!r} (this page takes: {names})")

    def _values(self, name: str) -> list[str]:
        values = [v for v in self.query.getlist(name) if v != ""]  # an empty select of a form: no filter
        if len(values) > MAX_VALUES:
            raise bad(f"{name}: at most {MAX_VALUES} values")
        for v in values:
            if len(v) > MAX_VALUE_CHARS or not _PRINTABLE.match(v):
                raise bad(f"{name}: {_shown(v)!r} is not a valid value")
        return values

    def choices(self, name: str, allowed: Collection[str]) -> tuple[str, ...]:
        values = self._values(name)
        for v in values:
            if v not in allowed:
                raise bad(f"{name}: unknown value {_shown(v)!r}; choose from {', '.join(sorted(allowed))}")
        return tuple(dict.fromkeys(values))

    def texts(self, name: str) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._values(name)))

    def text(self, name: str, default: str | None = None) -> str | None:
        values = self._values(name)
        if len(values) > 1:
            raise bad(f"{name}: give one value, not {len(values)}")
        return values[0] if values else default

    def page(self, name: str = "page", maximum: int = 100_000) -> int:
        raw = self.text(name)
        if raw is None:
            return 1
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not 1 <= int(raw) <= maximum:
            raise bad(f"{name}: expected a page number from 1 to {maximum}, got {_shown(raw)!r}")
        return int(raw)

    def day(self, name: str) -> date | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                raise ValueError
            day = date.fromisoformat(raw)
        except ValueError:
            raise bad(f"{name}: expected a date YYYY-MM-DD, got {_shown(raw)!r}") from None
        if not DATE_RANGE[0] <= day <= DATE_RANGE[1]:
            raise bad(f"{name}: {raw} is out of range ({DATE_RANGE[0]} to {DATE_RANGE[1]})")
        return day

    def span(self, default: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
        """[from, to] as whole UTC days (``to`` included): [start, end)."""
        start_day, end_day = self.day("from"), self.day("to")
        start = datetime.combine(start_day, time(), UTC) if start_day else default[0]
        end = datetime.combine(end_day + timedelta(days=1), time(), UTC) if end_day else default[1]
        if end <= start:
            raise bad("to: the period ends before it starts")
        return start, end
