"""Stores written before cycle entries (a collection entry per snapshot plus a run entry, results
hashes of the sorted result set) still verify, export and catch tampering after an upgrade."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from agent.evidence.bundle_verify import verify_bundle
from agent.evidence.export import export_bundle
from agent.evidence.records import STARVED_MESSAGE
from agent.evidence.store_records import load_store_records
from agent.mappings import load_mappings
from agent.models import canonical_json, sha256_hex
from agent.store import Store
from agent.store.resultset import legacy_results_hash
from tests.integration.evidence.helpers import T0, bucket, cycle, seed
from tests.integration.evidence.test_tamper import attack, problems


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def downgrade(store: Store) -> None:
    """Rewrite the chain and the results hashes the way the first store format wrote them."""
    rec = load_store_records(store)
    state: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    updates: list[str | tuple[str, dict[str, object]]] = ["DELETE FROM evidence_log"]
    entries: list[tuple[str, str, str, object]] = []
    for e in rec.entries:
        if e["kind"] != "cycle":
            entries.append((e["at"], e["kind"], e["ref"], json.loads(e["content"])))
            continue
        run = rec.runs[e["ref"]]
        sids = [int(x[0]) for x in json.loads(e["content"])["snapshots"]]
        for sid in sids:
            snap = rec.snapshots[sid]
            events = [{k: v for k, v in ev.items() if k != "id"} for ev in rec.events.get(sid, [])]
            st = state.setdefault((snap["source"], snap["account"]), {})
            for ev in events:
                if ev["status"] == "gone":
                    st.pop(ev["uid"], None)
                else:
                    st[ev["uid"]] = (ev["status"], ev["message"])
            evaluated = [(u, s, m) for u, (s, m) in st.items() if m != STARVED_MESSAGE]
            legacy = legacy_results_hash(evaluated)
            updates.append(
                (
                    "UPDATE snapshots SET results_hash = :results_hash WHERE id = :id",
                    {"results_hash": legacy, "id": sid},
                )
            )
            entries.append(
                (
                    snap["finished_at"],
                    "collection",
                    f"snapshot:{sid}",
                    {
                        "run": run["id"],
                        "snapshot": sid,
                        "source": snap["source"],
                        "provider": snap["provider"],
                        "account": snap["account"],
                        "started_at": snap["started_at"],
                        "finished_at": snap["finished_at"],
                        "status": snap["status"],
                        "errors": json.loads(snap["errors"]),
                        "manifest_hash": snap["manifest_hash"],
                        "results_hash": legacy,
                        "resource_count": snap["resource_count"],
                        "finding_count": len(evaluated),
                        "event_count": len(events),
                        "events_hash": sha256_hex(canonical_json(events)),
                    },
                )
            )
        entries.append(
            (
                run["finished_at"],
                "run",
                run["id"],
                {
                    "run": run["id"],
                    "source": run["source"],
                    "provider": run["provider"],
                    "started_at": run["started_at"],
                    "finished_at": run["finished_at"],
                    "status": run["status"],
                    "snapshots": sids,
                },
            )
        )
    attack(store, *updates)
    with store.transaction() as conn:
        for at, kind, ref, content in entries:
            store.append_evidence(conn, at=_at(at), kind=kind, ref=ref, content=content)
    store._states.clear()  # the process that wrote the old format is gone


def test_legacy_store_verifies_and_keeps_growing(store: Store, tmp_path: Path) -> None:
    ids = seed(store)
    downgrade(store)
    kinds = [e["kind"] for e in load_store_records(store).entries]
    assert kinds.count("collection") == len(ids) and kinds.count("run") == len(ids) and "cycle" not in kinds
    assert problems(store) == []
    # the upgraded agent appends cycle entries after the old ones; the whole chain still verifies
    cycle(store, T0.replace(hour=5), [bucket("b0"), bucket("b1", encrypted=False)])
    cycle(store, T0.replace(hour=6), [bucket("b0"), bucket("b1", encrypted=False)])
    assert problems(store) == []
    out = tmp_path / "legacy.zip"
    export_bundle(
        store,
        load_mappings(),
        framework="soc2",
        start=T0.replace(hour=0, minute=30),
        end=datetime(2026, 12, 31, tzinfo=UTC),
        out=out,
    )
    report = verify_bundle(out)
    assert report.ok, report.issues


def test_legacy_store_tampering_is_named(store: Store) -> None:
    seed(store)
    downgrade(store)
    attack(
        store,
        "UPDATE snapshots SET status = 'partial' WHERE id = 2",
        "UPDATE finding_events SET message = 'fixed' WHERE snapshot_id = 4",
    )
    found = problems(store)
    assert any(p.startswith("snapshots id 2") and "status" in p for p in found), found
    assert any("finding_events of snapshot 4" in p for p in found), found
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM evidence_log WHERE kind = 'cycle'")).scalar() == 0
