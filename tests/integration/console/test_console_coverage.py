"""The coverage and gaps page over real HTTP: per source its runs and downtime, per criterion its
status, the same numbers as `posture-agent evidence coverage`; an auditor within their period."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest

from agent.cli.main import run
from tests.integration.console.conftest import Served, client, login, now


def test_coverage_shows_sources_downtime_and_criteria_as_the_cli(
    console: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    start, last = now().date() - timedelta(days=3), now().date()
    with client(console) as c:
        login(c, "olivia")
        r = c.get("/console/coverage", params={"from": str(start), "to": str(last)})
    assert r.status_code == 200, r.text[:800]
    text = html.unescape(r.text)
    assert "aws-test" in text and "Gap</span>" in text  # nothing ran in the days before the store was filled
    capsys.readouterr()
    assert run(["evidence", "coverage", "--db", console.db, "--from", str(start), "--to", str(last)]) == 0
    cli = json.loads(capsys.readouterr().out)
    for req in cli["requirements"]:  # the same judgement of each criterion (reasons hold percentages of now)
        row = text.split(f'<th scope="row">{req["requirement"]}<br>', 1)[1].split("</tr>", 1)[0]
        assert f">{req['status']}</span>" in row, (req["requirement"], row[:300])
    for status, n in cli["statuses"].items():
        assert f"{n} {status}" in text


def test_auditor_coverage_within_their_period(console: Served) -> None:
    with client(console) as c:
        login(c, "audrey")
        assert c.get("/console/coverage").status_code == 200
        assert c.get("/console/coverage", params={"framework": "iso27001"}).status_code == 403
        assert c.get("/console/coverage", params={"from": "2019-01-01"}).status_code == 403
    with client(console) as c:
        login(c, "olivia")
        r = c.get("/console/coverage", params={"from": "2001-01-01", "to": "2026-01-01"})
        assert r.status_code == 400 and "at most 400 days" in r.text
