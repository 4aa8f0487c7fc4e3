"""The daemon's JSON log lines: one object per line, the agent's field names, no secret, tracebacks as a field."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.config import Secret
from agent.logs import configure_logging


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    configure_logging("info", "json", out)
    try:
        yield out
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def records(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@dataclass
class Creds:
    user: str
    password: str

    def __str__(self) -> str:
        return f"Creds({self.user})"


def test_fields_names_and_extras(lines: io.StringIO) -> None:
    when = datetime(2025, 3, 1, tzinfo=UTC)
    logging.getLogger("agent.test").warning("collection %s", "finished", extra={"source": "acct", "n": 3, "at": when})
    [event] = records(lines)
    assert list(event)[:4] == ["ts", "level", "logger", "event"]
    assert event["level"] == "warning" and event["logger"] == "agent.test" and event["event"] == "collection finished"
    assert event["source"] == "acct" and event["n"] == 3 and event["at"] == str(when)
    assert event["ts"].endswith("Z") and datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).tzinfo
    assert not {"msg", "args", "levelno", "pathname", "exc_info", "exc_text", "stack_info"} & set(event)


def test_no_secret_reaches_a_log_line(lines: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LOG_TOKEN", "s3cr3t-value")
    logging.getLogger("agent.test").info(
        "configured", extra={"token": Secret("env:TEST_LOG_TOKEN"), "creds": Creds("ops", "s3cr3t-value")}
    )
    text = lines.getvalue()
    assert "s3cr3t-value" not in text
    [event] = records(lines)
    assert event["token"] == "Secret('env:TEST_LOG_TOKEN')" and event["creds"] == "Creds(ops)"


def test_a_traceback_is_one_field_of_one_line(lines: io.StringIO) -> None:
    try:
        raise ValueError("bad thing")
    except ValueError:
        logging.getLogger("agent.test").exception("pass failed", extra={"channel": "slack"})
    text = lines.getvalue()
    assert text.count("\n") == 1, "the traceback is inside the JSON object, not lines after it"
    [event] = records(lines)
    assert event["level"] == "error" and event["event"] == "pass failed" and event["channel"] == "slack"
    assert event["exception"].startswith("Traceback") and "ValueError: bad thing" in event["exception"]


def test_text_is_kept_as_it_is(lines: io.StringIO) -> None:
    logging.getLogger("agent.test").info("café ✓")
    assert "café ✓" in lines.getvalue()  # not \\u-escaped
    assert records(lines)[0]["event"] == "café ✓"
