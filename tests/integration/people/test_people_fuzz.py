"""Whatever bytes the roster or the identity map holds, reading them never raises: every problem is one
line naming the file and where in it, and a person is only ever built from a readable email."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.people.roster import COLUMNS, parse_identity_map, parse_roster, read_identity_map, read_roster

NAME = "roster.csv"
_CELLS = st.one_of(
    st.sampled_from(["", "a@b.example", "A@B.EXAMPLE", "2024-02-30", "2024-01-01", "employee", "x,y", '"', "\n"]),
    st.text(max_size=12),
)


def _check_roster(roster, name: str) -> None:  # type: ignore[no-untyped-def]
    for p in roster.problems:
        text = p.text()
        assert text.startswith(name) and "\n" not in p.where and p.message
    for person in roster.people or []:
        assert person.email == person.email.lower() and "@" in person.email
        assert set(person.fields) | set(person.errors) <= set(COLUMNS)
        for column, why in person.errors.items():
            assert why.startswith(name) and column in why


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".json"]))
def test_arbitrary_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"roster{suffix}"
        path.write_bytes(data)
        roster = read_roster(path)
        _check_roster(roster, str(path))
        path = Path(tmp) / f"map{'.yaml' if suffix == '.json' else '.csv'}"
        path.write_bytes(data)
        imap = read_identity_map(path)
        assert all(p.text().startswith(str(path)) for p in imap.problems)


@settings(max_examples=60, deadline=None)
@given(
    header=st.lists(st.sampled_from([*COLUMNS, "Email", " start_date ", "extra", ""]), min_size=0, max_size=9),
    rows=st.lists(st.lists(_CELLS, max_size=10), max_size=6),
)
def test_arbitrary_csv(header: list[str], rows: list[list[str]]) -> None:
    def line(cells: list[str]) -> str:
        return ",".join('"' + c.replace('"', '""') + '"' if ("," in c or "\n" in c) else c for c in cells)

    text = "\n".join([line(header), *(line(r) for r in rows)])
    _check_roster(parse_roster(text, NAME, "csv"), NAME)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _CELLS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from([*COLUMNS, "x"]), inner, max_size=8),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None)
@given(doc=_JSON | st.dictionaries(st.just("people"), _JSON))
def test_arbitrary_json(doc: object) -> None:
    _check_roster(parse_roster(json.dumps(doc), "roster.json", "json"), "roster.json")


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(_CELLS, _CELLS), max_size=6), kind=st.sampled_from(["csv", "yaml"]))
def test_arbitrary_identity_maps(pairs: list[tuple[str, str]], kind: str) -> None:
    if kind == "csv":
        text = "identity,person\n" + "\n".join(f"{k},{v}" for k, v in pairs)
    else:
        text = "\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs)
    imap = parse_identity_map(text, f"map.{kind}", kind)
    for p in imap.problems:
        assert p.text().startswith(f"map.{kind}")
    for target in [*imap.logins.values(), *imap.emails.values()]:
        assert target.startswith("service:") or "@" in target


def test_problems_name_file_line_and_column() -> None:
    text = "email,start_date,end_date\nA@B.example,2024-01-01,2023-12-31\nbad,2024-01-01,\na@b.example,x,\n"
    roster = parse_roster(text, NAME, "csv")
    assert [p.text() for p in roster.problems] == [
        "roster.csv line 2, column end_date: 2023-12-31 is before start_date 2024-01-01",
        "roster.csv line 3, column email: 'bad' is not an email address",
        "roster.csv line 4, column start_date: 'x' is not a date: use YYYY-MM-DD",
        "roster.csv line 4, column email: a@b.example is listed again (first at line 2)",
    ]
    (person,) = roster.people or []
    assert set(person.errors) == {"end_date", "email"}
    assert (
        parse_roster("name\nAnn\n", NAME, "csv")
        .problems[0]
        .text()
        .startswith("roster.csv line 1: the header lacks the required column(s) email, start_date")
    )
