"""The shared Retry-After parser: whatever a server sends, a wait within [0, cap] or None, never an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.retry_after import parse_retry_after

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
caps = st.floats(min_value=0.0, max_value=7200.0)
# text in general, plus shapes near the two valid forms, where a parser is most likely to trip
headers = st.one_of(
    st.none(),
    st.text(),
    st.from_regex(r"\s*-?[0-9]{0,400}(\.[0-9]*)?\s*", fullmatch=True),
    st.builds(format_datetime, st.datetimes(timezones=st.sampled_from([UTC, None]))),
    st.builds(
        lambda d, zone: d.strftime("%a, %d %b %Y %H:%M:%S ") + zone,
        st.datetimes(),
        st.sampled_from(["GMT", "-0000", "+1400", "-1200", "EST", "XYZ", ""]),
    ),
)


@settings(max_examples=500, deadline=None)
@given(headers, caps, st.one_of(st.none(), st.text(), st.datetimes(), st.datetimes(timezones=st.just(UTC))))
def test_never_raises_and_stays_within_the_cap(value: str | None, cap: float, now: str | datetime | None) -> None:
    got = parse_retry_after(value, cap=cap, now=now)
    assert got is None or (isinstance(got, float) and 0.0 <= got <= cap)


@given(st.integers(min_value=0, max_value=10**30), caps)
def test_delay_seconds_are_taken_as_they_are_up_to_the_cap(seconds: int, cap: float) -> None:
    assert parse_retry_after(f" {seconds} ", cap=cap) == min(float(seconds), cap)


@given(st.integers(min_value=-86_400, max_value=86_400))
def test_an_http_date_is_measured_against_the_given_clock(offset: int) -> None:
    value = format_datetime(NOW + timedelta(seconds=offset), usegmt=True)
    assert parse_retry_after(value, cap=3600.0, now=NOW) == min(max(float(offset), 0.0), 3600.0)
    server_date = format_datetime(NOW, usegmt=True)  # the response's Date header
    assert parse_retry_after(value, cap=3600.0, now=server_date) == min(max(float(offset), 0.0), 3600.0)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("120", 60.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Sat, 01 Mar 2025 12:00:30 -0000", 30.0),  # naive in email.utils: HTTP dates are GMT
        ("Sat, 01 Mar 2025 11:00:00 GMT", 0.0),  # already past
        ("-5", None),
        ("²", None),  # str.isdigit() says yes, float() says no
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_known_shapes(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, cap=60.0, now=NOW) == expected


def test_without_a_clock_an_http_date_is_measured_against_ours() -> None:
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    got = parse_retry_after(soon, cap=60.0)
    assert got is not None and 25.0 <= got <= 30.0
