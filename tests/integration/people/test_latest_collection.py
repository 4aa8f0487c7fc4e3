"""agent/store/latest.py on SQLite and PostgreSQL: the latest run of a source, and the snapshots of its
latest run that stored any, with their manifest hashes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.config import Config
from agent.cycle import Pipeline
from agent.models import Resource, Snapshot, new_run_id
from agent.store import RunRecord, Store
from agent.store.latest import latest_collection

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CFG = Config.model_validate(
    {"sources": [{"name": "gh", "provider": "github", "organization": "acme", "token": "env:GITHUB_TOKEN"}]}
)


def _user(login: str) -> Resource:
    return Resource(
        provider="github",
        account="acme",
        region="global",
        type="github.member",
        id=f"github:acme:member:{login}",
        name=login,
        attributes={
            "identity": {"email": None, "login": login, "active": True, "human": True, "admin": False, "mfa": True}
        },
    )


def _record(store: Store, at: datetime, status: str, *logins: str, error: str = "") -> None:
    snaps = (
        []
        if status == "failed"
        else [
            Snapshot(
                source="gh",
                provider="github",
                account="acme",
                started_at=at - timedelta(minutes=1),
                finished_at=at,
                resources=tuple(_user(x) for x in logins),
            )
        ]
    )
    run = RunRecord(
        id=new_run_id(at),
        source="gh",
        provider="github",
        started_at=at - timedelta(minutes=1),
        finished_at=at,
        status=status,
        detail={"error": error, "accounts": [s.account for s in snaps]},
    )
    Pipeline(CFG, store).record(run, [(s, []) for s in snaps])


def test_latest_collection(store: Store) -> None:
    assert latest_collection(store, "gh") is None
    _record(store, T0, "complete", "ann", "bob")
    latest = latest_collection(store, "gh")
    assert latest is not None
    assert (latest.provider, latest.run_status, latest.run_error) == ("github", "complete", "")
    (ref,) = latest.snapshots
    assert ref.snapshot.finished_at == T0 and len(ref.manifest_hash) == 64
    assert sorted(r.name for r in ref.snapshot.resources) == ["ann", "bob"]
    assert ref.snapshot.resources[0].attributes["identity"]["login"] in ("ann", "bob")
    # a later failed run: its status and error, with the snapshots of the last run that stored any
    _record(store, T0 + timedelta(hours=1), "failed", error="collector failed: boom")
    latest = latest_collection(store, "gh")
    assert latest is not None
    assert (latest.run_status, latest.run_error, latest.run_finished_at) == (
        "failed",
        "collector failed: boom",
        T0 + timedelta(hours=1),
    )
    assert [r.snapshot.finished_at for r in latest.snapshots] == [T0]
    # and a newer one replaces them
    _record(store, T0 + timedelta(hours=2), "complete", "ann")
    latest = latest_collection(store, "gh")
    assert latest is not None and latest.run_status == "complete"
    assert [r.name for r in latest.snapshots[0].snapshot.resources] == ["ann"]
    assert latest_collection(store, "other") is None
