"""`evidence coverage` without --from covers the time since the first run: a store a day old shows
no monitoring gap for the year before the agent started."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from agent.cli.main import app
from agent.store import Store
from agent.store.run_times import first_run_at
from tests.integration.evidence.helpers import STEP, bucket, cycle


def test_a_fresh_store_has_no_gap_before_its_first_run(store: Store) -> None:
    assert first_run_at(store) is None
    first = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    for i in range(96):  # a day of 15-minute cycles, the last one 15 minutes ago
        cycle(store, first + i * STEP, [bucket("b0")])
    assert first_run_at(store) == first

    result = CliRunner().invoke(app, ["evidence", "coverage", "--db", store.url])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert datetime.fromisoformat(out["from"].replace("Z", "+00:00")) == first
    [prod] = out["sources"]
    assert prod["source"] == "prod" and prod["gaps"] == [] and prod["monitored_pct"] == 100.0
    # an explicit --from still reaches before the first run, and that time is a gap
    earlier = (first - timedelta(days=2)).date().isoformat()
    result = CliRunner().invoke(app, ["evidence", "coverage", "--from", earlier, "--db", store.url])
    assert result.exit_code == 0, result.output
    [prod] = json.loads(result.output)["sources"]
    assert len(prod["gaps"]) == 1 and prod["monitored_pct"] < 50
