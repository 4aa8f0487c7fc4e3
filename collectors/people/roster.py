"""The staff roster and the identity map, read from files the organisation keeps (docs/people.md).

Pure parsing: bytes in, people and problems out. Nothing here raises on bad input: each problem is
one ``Problem`` naming the file, the line (a CSV line, a YAML line, or a JSON entry) and the column,
and the collector turns it into a ``CollectionError``. A row whose email is readable still becomes a
person, with the fields that could not be read named in ``errors`` (its checks then say error).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from agent.yamlpos import YamlError, load_with_lines

__all__ = [
    "COLUMNS",
    "IdentityMap",
    "MAX_FILE_BYTES",
    "Person",
    "Problem",
    "Roster",
    "parse_identity_map",
    "parse_roster",
    "read_identity_map",
    "read_roster",
]

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_FIELD_CHARS = 320
COLUMNS = (
    "email",
    "name",
    "start_date",
    "end_date",
    "background_check_date",
    "security_training_date",
    "employment_type",
    "manager",
)
REQUIRED = ("email", "start_date")
DATES = ("start_date", "end_date", "background_check_date", "security_training_date")
EMPLOYMENT_TYPES = ("employee", "contractor")
_EMAIL = re.compile(r"^[^@\s,;<>\"']+@[^@\s,;<>\"']+\.[^@\s,;<>\"'.]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PROVIDER_LOGIN = re.compile(r"^([a-z][a-z0-9_-]{0,31}):(.+)$")
_DOMAIN = re.compile(r"^\*@([^@\s,;<>\"']+\.[^@\s,;<>\"'.]+)$")


@dataclass(frozen=True)
class Problem:
    file: str
    where: str  # "line 7", "entry 3", "" (the whole file)
    column: str  # "" when the problem is not in one column
    message: str

    def text(self) -> str:
        place = ", ".join(p for p in (self.where, f"column {self.column}" if self.column else "") if p)
        return f"{self.file}{' ' + place if place else ''}: {self.message}"


@dataclass
class Person:
    email: str
    where: str
    fields: dict[str, str | None] = field(default_factory=dict)  # COLUMNS but email; dates as YYYY-MM-DD
    errors: dict[str, str] = field(default_factory=dict)  # column -> why it could not be read


@dataclass
class Roster:
    people: list[Person] | None  # None: the file could not be read at all
    problems: list[Problem]


def _shown(value: Any, limit: int = 40) -> str:
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def read_file(path: Path) -> tuple[str | None, Problem | None]:
    """The file's text (UTF-8, a BOM allowed), or the one problem that stops reading it."""
    name = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, Problem(name, "", "", f"cannot be read: {exc.strerror or type(exc).__name__}")
    except ValueError as exc:  # a NUL byte in the path
        return None, Problem(name, "", "", f"cannot be read: {exc}")
    if len(data) > MAX_FILE_BYTES:
        return None, Problem(name, "", "", f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Problem(name, f"line {line}", "", "is not UTF-8 text")
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, Problem(name, f"line {line}", "", "contains a NUL byte: not a text file")
    return text, None


# -- the roster ------------------------------------------------------------------------------------


def _row(values: dict[str, Any], where: str, name: str, problems: list[Problem]) -> Person | None:
    """One roster row as a person, or None when its email cannot be read (the person is unknown)."""
    clean: dict[str, str | None] = {}
    errors: dict[str, str] = {}

    def bad(column: str, message: str) -> None:
        problems.append(Problem(name, where, column, message))
        errors[column] = f"{name} {where}, column {column}: {message}"

    for column in COLUMNS:
        raw = values.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            clean[column] = None
            continue
        if not isinstance(raw, str):
            bad(column, f"expected text, got {_shown(raw)}")
            continue
        text = raw.strip()
        if len(text) > MAX_FIELD_CHARS:
            bad(column, f"longer than {MAX_FIELD_CHARS} characters")
            continue
        if any(ord(c) < 32 for c in text):
            bad(column, "contains a control character")
            continue
        clean[column] = text
    email = clean.pop("email", None)
    if "email" in errors:
        return None
    if email is None:
        bad("email", "is empty: every person needs an email address")
        return None
    if not _EMAIL.match(email):
        bad("email", f"{_shown(email)} is not an email address")
        return None
    for column in REQUIRED[1:]:
        if clean.get(column) is None and column not in errors:
            bad(column, "is empty: required")
    parsed: dict[str, date] = {}
    for column in DATES:
        value = clean.get(column)
        if value is None or column in errors:
            continue
        day = _date(value)
        if day is None:
            bad(column, f"{_shown(value)} is not a date: use YYYY-MM-DD")
        else:
            parsed[column] = day
    kind = clean.get("employment_type")
    if kind is not None and kind.lower() not in EMPLOYMENT_TYPES:
        bad("employment_type", f"{_shown(kind)} is not one of {', '.join(EMPLOYMENT_TYPES)}")
    elif kind is not None:
        clean["employment_type"] = kind.lower()
    if "start_date" in parsed and "end_date" in parsed and parsed["end_date"] < parsed["start_date"]:
        bad("end_date", f"{parsed['end_date']} is before start_date {parsed['start_date']}")
    fields = {c: v for c, v in clean.items() if c not in errors}
    return Person(email=email.lower(), where=where, fields=fields, errors=errors)


def _date(text: str) -> date | None:
    if not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _csv_rows(text: str, name: str, problems: list[Problem]) -> list[tuple[str, dict[str, Any]]] | None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        problems.append(Problem(name, "line 1", "", f"is not CSV: {exc}"))
        return None
    if header is None:
        problems.append(
            Problem(name, "", "", "is empty: the first line must name the columns (email, start_date, ...)")
        )
        return None
    columns = [h.strip().lower() for h in header]
    seen: set[str] = set()
    for col in columns:
        if col in seen and col:
            problems.append(Problem(name, "line 1", col, "is named twice in the header"))
            return None
        seen.add(col)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        problems.append(
            Problem(
                name,
                "line 1",
                "",
                f"the header lacks the required column(s) {', '.join(missing)}: it must name "
                f"{', '.join(REQUIRED)} (and may name {', '.join(c for c in COLUMNS if c not in REQUIRED)})",
            )
        )
        return None
    rows: list[tuple[str, dict[str, Any]]] = []
    try:
        for record in reader:
            where = f"line {reader.line_num}"
            if not record or all(not v.strip() for v in record):
                continue
            if len(record) > len(columns):
                problems.append(Problem(name, where, "", f"has {len(record)} fields, the header names {len(columns)}"))
                continue
            rows.append((where, {c: v for c, v in zip(columns, record, strict=False) if c in COLUMNS}))
    except csv.Error as exc:
        problems.append(
            Problem(
                name, f"line {reader.line_num + 1}", "", f"is not valid CSV: {exc}; the rest of the file was not read"
            )
        )
        return None
    return rows


def _json_rows(text: str, name: str, problems: list[Problem]) -> list[tuple[str, dict[str, Any]]] | None:
    try:
        data = json.loads(text)
    except RecursionError:
        problems.append(Problem(name, "", "", "is not valid JSON: nested too deeply"))
        return None
    except ValueError as exc:
        where = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        problems.append(Problem(name, where, "", f"is not valid JSON: {getattr(exc, 'msg', exc)}"))
        return None
    if isinstance(data, dict) and isinstance(data.get("people"), list):
        data = data["people"]
    if not isinstance(data, list):
        problems.append(Problem(name, "", "", 'must hold a list of people (or {"people": [...]}) with one object each'))
        return None
    rows: list[tuple[str, dict[str, Any]]] = []
    for n, item in enumerate(data, start=1):
        where = f"entry {n}"
        if not isinstance(item, dict):
            problems.append(Problem(name, where, "", f"is not an object: {_shown(item)}"))
            continue
        rows.append((where, {str(k).strip().lower(): v for k, v in item.items() if str(k).strip().lower() in COLUMNS}))
    return rows


def parse_roster(text: str, name: str, kind: str) -> Roster:
    """``kind``: "csv" or "json". Duplicate emails: every row of the email after the first is a problem,
    and the first one's person carries the error too (which row is right cannot be told)."""
    problems: list[Problem] = []
    rows = _csv_rows(text, name, problems) if kind == "csv" else _json_rows(text, name, problems)
    if rows is None:
        return Roster(None, problems)
    people: dict[str, Person] = {}
    for where, values in rows:
        person = _row(values, where, name, problems)
        if person is None:
            continue
        first = people.get(person.email)
        if first is not None:
            message = f"{person.email} is listed again (first at {first.where})"
            problems.append(Problem(name, where, "email", message))
            first.errors["email"] = f"{name} {where}, column email: {message}"
            continue
        people[person.email] = person
    return Roster(list(people.values()), problems)


def read_roster(path: Path) -> Roster:
    text, problem = read_file(path)
    if text is None:
        assert problem is not None
        return Roster(None, [problem])
    return parse_roster(text, str(path), "json" if path.suffix.lower() == ".json" else "csv")


# -- the identity map ------------------------------------------------------------------------------


@dataclass
class IdentityMap:
    """``provider:login`` (lower-cased) or an identity email -> a person email; ``*@domain`` -> ``*@domain``
    (an identity email in one domain is the person's in another); ``service`` entries: an account that is
    no person's, with its owner named (a team, a vendor), so it is known, not an orphan."""

    logins: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # key -> "line N" of the file
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True

    SERVICE = "service:"

    def lookup(self, provider: str, login: str, email: str | None) -> tuple[str, str] | None:
        """(target, the key that matched): a person email, or ``service:<owner>``."""
        key = f"{provider.lower()}:{login.lower()}"
        if key in self.logins:
            return self.logins[key], key
        if email is not None:
            if email in self.emails:
                return self.emails[email], email
            domain = email.rsplit("@", 1)[1]
            if f"*@{domain}" in self.domains:
                return f"{email.rsplit('@', 1)[0]}@{self.domains[f'*@{domain}']}", f"*@{domain}"
        return None


def _add_entry(imap: IdentityMap, name: str, where: str, key: Any, value: Any) -> None:
    def bad(column: str, message: str) -> None:
        imap.problems.append(Problem(name, where, column, message))

    if not isinstance(key, str) or not key.strip():
        bad("identity", f"expected provider:login, an email or *@domain, got {_shown(key)}")
        return
    if not isinstance(value, str) or not value.strip():
        bad("person", f"expected a person's email, *@domain or service:<owner>, got {_shown(value)}")
        return
    k, v = key.strip().lower(), value.strip()
    if k in imap.where:
        bad("identity", f"{_shown(k)} is mapped again (first at {imap.where[k]})")
        return
    domain = _DOMAIN.match(k)
    if domain:
        target = _DOMAIN.match(v.lower())
        if not target:
            bad("person", f"a domain ({k}) maps to a domain (*@example.com), got {_shown(v)}")
            return
        imap.domains[k] = target.group(1)
    else:
        if v.lower().startswith(IdentityMap.SERVICE):
            owner = v[len(IdentityMap.SERVICE) :].strip()
            if not owner:
                bad("person", "service: must name the account's owner (service:platform-team)")
                return
            target_text = IdentityMap.SERVICE + owner
        elif _EMAIL.match(v):
            target_text = v.lower()
        else:
            bad("person", f"{_shown(v)} is not an email address, nor service:<owner>")
            return
        if _EMAIL.match(k):
            imap.emails[k] = target_text
        elif _PROVIDER_LOGIN.match(k):
            imap.logins[k] = target_text
        else:
            bad("identity", f"{_shown(k)} is neither provider:login (github:octocat), an email nor *@domain")
            return
    imap.where[k] = where


def parse_identity_map(text: str, name: str, kind: str) -> IdentityMap:
    """``kind``: "csv" (columns identity, person) or "yaml" (a mapping identity: person)."""
    imap = IdentityMap()
    if kind == "yaml":
        try:
            data, lines = load_with_lines(text)
        except YamlError as exc:
            imap.problems.append(Problem(name, f"line {exc.line}" if exc.line else "", "", exc.message))
            imap.readable = False
            return imap
        if data is None:
            return imap
        if not isinstance(data, dict):
            imap.problems.append(Problem(name, "", "", "must be a mapping of identity: person (github:octocat: a@b.c)"))
            imap.readable = False
            return imap
        for key, value in data.items():
            line = lines.get((key,), 0)
            _add_entry(imap, name, f"line {line}" if line else f"key {_shown(key)}", key, value)
        return imap
    problems: list[Problem] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if header[:2] != ["identity", "person"]:
            problems.append(Problem(name, "line 1", "", "the header must be: identity,person"))
            imap.readable = False
        else:
            for record in reader:
                where = f"line {reader.line_num}"
                if not record or all(not v.strip() for v in record):
                    continue
                if len(record) != 2:
                    problems.append(Problem(name, where, "", f"has {len(record)} fields, expected 2 (identity,person)"))
                    continue
                _add_entry(imap, name, where, record[0], record[1])
    except csv.Error as exc:
        problems.append(Problem(name, f"line {reader.line_num + 1}", "", f"is not valid CSV: {exc}"))
        imap.readable = False
    imap.problems[:0] = problems
    return imap


def read_identity_map(path: Path) -> IdentityMap:
    text, problem = read_file(path)
    if text is None:
        assert problem is not None
        return IdentityMap(problems=[problem], readable=False)
    kind = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "csv"
    return parse_identity_map(text, str(path), kind)
