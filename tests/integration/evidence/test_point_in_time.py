"""`evidence at`: the state of a requirement as the agent knew it at a moment, with the snapshot
and the chain entry it came from (the auditor's sample)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import UsageError
from agent.evidence.pointintime import state_at
from agent.evidence.store_records import load_store_records
from agent.mappings import load_mappings
from agent.models import isoformat
from agent.store import Store
from tests.integration.evidence.helpers import CHECK, STEP, T0, seed


def test_state_at_names_findings_snapshot_and_chain_entry(store: Store) -> None:
    ids = seed(store)  # b1 fails in cycles 1-2 (T0+15m .. T0+30m), fixed at T0+45m
    mappings = load_mappings()
    during = state_at(store, mappings, T0 + STEP + STEP / 2, "SOC2:CC6.1")
    assert during["status"] == "fail"
    failing = [f for f in during["findings"] if f["status"] == "fail"]
    assert [(f["check_id"], f["resource_id"], f["since"]) for f in failing] == [
        (CHECK, "arn:aws:s3:::b1", isoformat(T0 + STEP))
    ]
    [snap] = during["latest_snapshots"]
    assert snap["snapshot_id"] == ids[1]
    entries = {e["seq"]: e for e in load_store_records(store).entries}
    entry = entries[snap["chain_entry"]["seq"]]
    assert entry["kind"] == "cycle" and entry["entry_hash"] == snap["chain_entry"]["entry_hash"]
    assert json.loads(entry["content"])["snapshots"][0][0] == ids[1]
    after = state_at(store, mappings, T0 + 4 * STEP, "SOC2:CC6.1")
    assert after["status"] == "pass" and after["latest_snapshots"][0]["snapshot_id"] == ids[4]


def test_evidence_at_command(store: Store) -> None:
    seed(store)
    when = isoformat(T0 + STEP + STEP / 2)
    res = CliRunner().invoke(app, ["evidence", "at", when, "--control", "SOC2:CC6.1", "--db", store.url])
    assert res.exit_code == 0, res.output
    assert "SOC2:CC6.1" in res.output and "FAIL" in res.output and "arn:aws:s3:::b1" in res.output
    assert "chain seq 2" in res.output
    bad = CliRunner().invoke(app, ["evidence", "at", when, "--control", "SOC2:CC99.9", "--db", store.url])
    # main() turns it into one line on stderr and exit status 2
    assert isinstance(bad.exception, UsageError) and bad.exception.exit_code == 2
    assert "unknown control or requirement 'SOC2:CC99.9'" in str(bad.exception)
