"""The store on SQLite and PostgreSQL: migrations, dedup, transitions, atomicity, the chain."""

from __future__ import annotations

import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from agent.errors import StoreError
from agent.models import CollectionError, Finding, Resource, Severity, Snapshot, Status, finding_uid
from agent.store import RunRecord, Store
from agent.store import schema as t
from agent.store.chain import GENESIS, entry_hash

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACCOUNT = "111122223333"


def bucket(name: str, public: bool = False, region: str = "us-east-1") -> Resource:
    return Resource(
        provider="aws",
        account=ACCOUNT,
        region=region,
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::{name}",
        name=name,
        attributes={"Public": public},
    )


def cycle(
    store: Store, i: int, resources: list[Resource], errors: tuple[CollectionError, ...] = (), stage: bool = False
):  # type: ignore[no-untyped-def]
    at = T0 + timedelta(minutes=15 * i)
    snap = Snapshot(
        source="prod",
        provider="aws",
        account=ACCOUNT,
        started_at=at,
        finished_at=at,
        resources=tuple(resources),
        errors=errors,
    )
    findings = [
        Finding(
            uid=finding_uid("aws.s3.public", r.id),
            check_id="aws.s3.public",
            resource_id=r.id,
            resource_type=r.type,
            provider="aws",
            account=ACCOUNT,
            region=r.region,
            status=Status.FAIL if r.attributes["Public"] else Status.PASS,
            severity=Severity.HIGH,
            message="public" if r.attributes["Public"] else "private",
            requirements=(),
            evaluated_at=at,
            source="prod",
        )
        for r in resources
    ]
    run = RunRecord(
        id=uuid.uuid4().hex,
        source="prod",
        provider="aws",
        started_at=at,
        finished_at=at,
        status="partial" if errors else "complete",
    )
    if stage:  # as the pipeline does: bodies first, without the lock (PostgreSQL), then the cycle
        staged = store.stage_bodies([snap])
        with store.cycle(run) as tx:
            return tx.write_snapshots([(snap, findings)], staged)[0]
    return store.record_cycle(run, [(snap, findings)])[0]


def test_migrations_from_empty(db_url: str) -> None:
    store = Store(db_url)
    assert store.revision() is None
    head = store.upgrade()
    assert head and store.revision() == head
    assert store.upgrade() == head  # idempotent
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"runs", "snapshots", "blobs", "finding_events", "finding_current", "evidence_log"} <= tables
    store.close()


def test_unchanged_cycle_stores_no_bodies(store: Store) -> None:
    estate = [bucket(f"b{i}") for i in range(50)]
    first = cycle(store, 0, estate)
    assert first.new_bodies == 51  # 50 bodies + the manifest
    again = cycle(store, 1, estate)
    assert again.new_bodies == 0 and again.bytes_added == 0
    assert again.manifest_hash == first.manifest_hash
    changed = cycle(store, 2, [bucket("b0", public=True), *estate[1:]])
    assert changed.new_bodies == 2  # the changed body and a delta manifest
    loaded = store.load_snapshot(changed.snapshot_id)
    assert len(loaded.resources) == 50 and loaded.get("arn:aws:s3:::b0").attributes == {"Public": True}


def test_transitions_and_gone(store: Store) -> None:
    cycle(store, 0, [bucket("a"), bucket("b")])
    w = cycle(store, 1, [bucket("a", public=True), bucket("b")])
    assert [(c.resource_id, c.previous_status, c.status) for c in w.changes] == [("arn:aws:s3:::a", "pass", "fail")]
    w = cycle(store, 2, [bucket("a", public=True)])
    assert [(c.resource_id, c.status) for c in w.changes] == [("arn:aws:s3:::b", "gone")]
    current = store.current_findings()
    assert [(r["resource_id"], r["status"]) for r in current] == [("arn:aws:s3:::a", "fail")]
    assert current[0]["since"] == T0 + timedelta(minutes=15)


def test_uncollected_resources_become_error_not_resolved(store: Store) -> None:
    cycle(store, 0, [bucket("a", public=True)])
    err = CollectionError(
        service="s3",
        operation="ListBuckets",
        region="us-east-1",
        code="AccessDenied",
        message="denied",
        resource_type="aws.s3.bucket",
    )
    w = cycle(store, 1, [], errors=(err,))
    assert [(c.previous_status, c.status) for c in w.changes] == [("fail", "error")]
    assert store.current_findings()[0]["status"] == "error"


def test_not_collected_state_survives_a_restart_and_clears_when_collected_again(db_url: str) -> None:
    """The store keeps "not collected" as state of its own (reloaded from the stored rows after a
    restart): the row stays out of the result set until the resource is collected again, and the
    chain verifies throughout."""
    from posture_verify.chain import verify_records

    from agent.evidence.store_records import load_store_records

    err = CollectionError(
        service="s3",
        operation="ListBuckets",
        region="us-east-1",
        code="AccessDenied",
        message="denied",
        resource_type="aws.s3.bucket",
    )
    store = Store(db_url)
    store.upgrade()
    try:
        cycle(store, 0, [bucket("a", public=True), bucket("b")], errors=())
        cycle(store, 1, [], errors=(err,))
    finally:
        store.close()
    store = Store(db_url)  # a restart: the in-memory state comes back from the rows
    try:
        again = cycle(store, 2, [], errors=(err,))
        assert again.changes == () and {f["status"] for f in store.current_findings()} == {"error"}
        back = cycle(store, 3, [bucket("a", public=True), bucket("b")])
        assert sorted((c.previous_status, c.status) for c in back.changes) == [("error", "fail"), ("error", "pass")]
        first = cycle(store, 4, [bucket("a", public=True), bucket("b")])
        assert first.changes == () and first.results_hash == back.results_hash
        report = verify_records(load_store_records(store))
        assert report.ok, [str(i) for i in report.issues]
    finally:
        store.close()


def test_a_failed_write_leaves_nothing_behind(store: Store) -> None:
    cycle(store, 0, [bucket("a")])
    before = store.runs()
    snap = Snapshot(
        source="prod", provider="aws", account=ACCOUNT, started_at=T0, finished_at=T0, resources=(bucket("new"),)
    )
    run = RunRecord(
        id=before[0]["id"], source="prod", provider="aws", started_at=T0, finished_at=T0, status="complete"
    )  # duplicate run id: the insert fails
    with pytest.raises(StoreError):
        store.record_cycle(run, [(snap, [])])
    assert store.runs() == before
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM snapshots")).scalar() == 1
        assert conn.execute(sa.text("SELECT count(*) FROM blobs")).scalar() == 2
    # and the next good cycle still chains correctly
    cycle(store, 1, [bucket("a"), bucket("new")])
    assert len(store.load_snapshot(2).resources) == 2


def test_evidence_chain_links(store: Store) -> None:
    for i in range(3):
        cycle(store, i, [bucket("a", public=bool(i % 2))])
    with store.engine.connect() as conn:
        el = t.evidence_log  # through the table: hashes are bytea on PostgreSQL, hex to the code
        rows = conn.execute(
            sa.select(
                el.c.seq, el.c.at, el.c.kind, el.c.ref, el.c.content_hash, el.c.prev_hash, el.c.entry_hash
            ).order_by(el.c.seq)
        ).all()
    prev = GENESIS
    for row in rows:
        assert row.prev_hash == prev
        at = row.at if isinstance(row.at, datetime) else datetime.fromisoformat(str(row.at))
        assert row.entry_hash == entry_hash(
            seq=row.seq, at=at, kind=row.kind, ref=row.ref, content_hash=row.content_hash, prev_hash=row.prev_hash
        )
        prev = row.entry_hash
    assert [r.kind for r in rows] == ["cycle"] * 3  # one entry per cycle: run, snapshot and finding events


def _trail(seen: str, declared: bool) -> Resource:
    return Resource(
        provider="aws",
        account=ACCOUNT,
        region="us-east-1",
        type="aws.cloudtrail.trail",
        id="arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
        name="main",
        attributes={"Public": False, "Status": {"IsLogging": True, "LatestDeliveryTime": seen}},
        observations=("Status.LatestDeliveryTime",) if declared else (),
    )


def test_store_written_before_observations_were_declared_keeps_verifying(db_url: str) -> None:
    """A store whose bodies hold a ticking value (written before its type declared it) upgrades to
    bodies without it: one new body, then none however the value ticks, and the chain verifies
    throughout. The resource's drift across the upgrade is empty (agent.drift)."""
    from posture_verify.chain import verify_records

    from agent.drift import diff_resources
    from agent.evidence.store_records import load_store_records

    store = Store(db_url)
    store.upgrade()
    try:
        legacy = [cycle(store, i, [_trail(f"2026-01-01T00:{i:02d}:00Z", declared=False)]) for i in range(2)]
        assert [w.new_bodies for w in legacy] == [2, 2]  # the ticking value made a new body every cycle
        upgraded = [cycle(store, i, [_trail(f"2026-01-01T00:{i:02d}:00Z", declared=True)]) for i in range(2, 5)]
        assert [w.new_bodies for w in upgraded] == [2, 0, 0]  # once (body and manifest), then nothing
        before = store.load_snapshot(legacy[-1].snapshot_id).resources
        after = store.load_snapshot(upgraded[-1].snapshot_id).resources
        assert diff_resources(before, after) == []
        assert "LatestDeliveryTime" not in after[0].attributes["Status"] and after[0].observations
        report = verify_records(load_store_records(store))
        assert report.ok, [str(i) for i in report.issues]
    finally:
        store.close()


def test_repeated_collection_errors_are_stored_once(db_url: str, tmp_path: Path) -> None:
    """The same operation denied every cycle: each snapshot refers to one error set, which is read
    back whole, exported with the snapshots and checked by the verifier."""
    from posture_verify.bundle import verify_bundle
    from posture_verify.chain import verify_records

    from agent.evidence.export import export_bundle
    from agent.evidence.store_records import load_store_records
    from agent.mappings import load_mappings
    from tests.integration.evidence.tamper_lab import tamper

    denied = (
        CollectionError(
            service="kms",
            operation="ListKeys",
            region="eu-west-1",
            code="AccessDenied",
            message="not authorized to perform kms:ListKeys",
            resource_type="aws.kms.key",
        ),
    )
    store = Store(db_url)
    store.upgrade()
    try:
        writes = [cycle(store, i, [bucket("a")], errors=denied) for i in range(3)]
        assert [w.new_bodies for w in writes] == [3, 0, 0]  # body, manifest and error set, then nothing
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(t.snapshots.c.errors)).scalars().all()
            kinds = conn.execute(sa.select(t.blobs.c.kind)).scalars().all()
        assert len(set(rows)) == 1 and rows[0].startswith('{"blob":') and len(rows[0]) < 80
        assert sorted(kinds) == ["errors", "manifest", "resource"]
        assert store.load_snapshot(writes[-1].snapshot_id).errors == denied
        assert verify_records(load_store_records(store)).ok
        # a bundle carries the error set with the snapshots that refer to it
        out = tmp_path / "bundle.zip"
        export_bundle(
            store,
            load_mappings(),
            framework="soc2",
            start=T0 - timedelta(minutes=1),
            end=T0 + timedelta(hours=1),
            out=out,
        )
        assert verify_bundle(out).ok, [str(i) for i in verify_bundle(out).issues]
        with zipfile.ZipFile(out) as z:
            assert any(
                n.startswith("blobs/") and json.loads(z.read(n)) == [e.to_dict() for e in denied] for n in z.namelist()
            )
        tamper(store, "DELETE FROM blobs WHERE kind = 'errors'")  # as whoever holds the database could
        issues = [str(i) for i in verify_records(load_store_records(store)).issues]
        assert any("collection errors" in i and "missing" in i for i in issues), issues
    finally:
        store.close()


def _upgrade_in_child(url: str, answers: Any) -> None:
    try:
        Store(url).upgrade()
        answers.put("ok")
    except Exception as exc:  # reported to the parent, which shows it
        answers.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.postgres
def test_processes_starting_together_on_an_empty_postgresql_all_upgrade(pg_url: str) -> None:
    """A scheduler and its workers starting at once (Kubernetes, compose) on a new database: one
    migrates, the others wait for it and find the store at head (without the lock, three of four
    failed on Alembic's own table)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    answers = ctx.Queue()
    procs = [ctx.Process(target=_upgrade_in_child, args=(pg_url, answers)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert sorted(answers.get(timeout=10) for _ in procs) == ["ok"] * 4


@pytest.mark.postgres
def test_bodies_staged_before_the_lock_count_as_the_cycles_own(pg_url: str) -> None:
    store = Store(pg_url)
    store.upgrade()
    estate = [bucket(f"b{i}") for i in range(30)]
    err = (CollectionError(service="s3", operation="GetBucketPolicy", region="us-east-1", code="X", message="m"),)
    plain = cycle(store, 0, estate[:10], err)
    assert plain.new_bodies == 12  # 10 bodies, the errors blob, the manifest
    ahead = Snapshot(
        source="prod", provider="aws", account=ACCOUNT, started_at=T0, finished_at=T0, resources=tuple(estate)
    )
    pre = store.stage_bodies([ahead])  # written in a transaction of its own, no cycle yet
    assert set(pre) == {r.content_hash for r in estate[10:]}
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.blobs)).scalar_one() == 12 + 20
    staged = cycle(store, 1, estate, err, stage=True)  # found staged: still counted as this cycle's
    assert staged.new_bodies == 1  # its manifest: the bodies were written (and counted) by the staging above
    again = cycle(store, 2, [bucket("b0", public=True), *estate[1:]], err, stage=True)
    assert again.new_bodies == 2 and again.bytes_added > 0  # the changed body (staged) and its manifest
    unchanged = cycle(store, 3, [bucket("b0", public=True), *estate[1:]], err, stage=True)
    assert unchanged.new_bodies == 0 and unchanged.bytes_added == 0
    loaded = store.load_snapshot(again.snapshot_id)
    assert len(loaded.resources) == 30 and loaded.get("arn:aws:s3:::b0").attributes == {"Public": True}
    store.close()
