"""The README's `exceptions add` example works as written: taken from README.md and run against a
fresh store, it records an exception that is active (in the future, and not already expiring)."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from agent.cli.exceptions_cmd import parse_expiry
from agent.cli.main import app
from agent.store import Store

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands(section: str, command: str) -> list[list[str]]:
    """The command lines of README.md's ``## section`` that start with ``command``, as argv lists
    (backslash continuations joined)."""
    text = README.read_text(encoding="utf-8")
    m = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, f"README.md has no section {section!r}"
    joined = re.sub(r"\\\n\s*", " ", m.group(1))
    return [shlex.split(line) for line in joined.splitlines() if line.strip().startswith(command)]


def test_the_readme_exceptions_example_parses_and_runs(tmp_path: Path) -> None:
    [argv] = readme_commands("Exceptions", "posture-agent exceptions add")
    assert argv[:3] == ["posture-agent", "exceptions", "add"]
    expires = argv[argv.index("--expires") + 1]
    now = datetime.now(UTC)
    # a date well ahead (a year at least), so the example outlives this release: when this fails, move
    # the README's date further into the future
    assert parse_expiry(expires) - now > timedelta(days=365), f"README.md's example expires {expires}: too soon"

    db = f"sqlite:///{tmp_path / 'posture.db'}"
    store = Store(db)  # a store set up, as after the first scan
    store.upgrade()
    store.close()
    runner = CliRunner()
    added = runner.invoke(app, [*argv[1:], "--db", db])
    assert added.exit_code == 0, added.output
    assert "exception #1: aws.s3.bucket_versioning" in added.output

    listed = runner.invoke(app, ["exceptions", "list", "--format", "json", "--db", db])
    assert listed.exit_code == 0, listed.output
    [rule] = json.loads(listed.output)
    assert rule["state"] == "active" and rule["resource_pattern"] == "arn:aws:s3:::logs-*"
