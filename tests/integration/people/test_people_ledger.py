"""The people ledger over the demo's identity sources, collected by the real pipeline into a real store:
the exact failing set of every check, how identities were joined, and what happens when an identity
source is stale, failed, missing or not a source at all (error, never pass)."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from posture_demo import people_data

from agent.config import Config
from agent.cycle import CycleResult, Pipeline
from agent.daemon import Daemon
from agent.models import Status, new_run_id
from agent.store import RunRecord, Store
from agent.store.latest import latest_collection
from tests.integration.people.conftest import Estate

PERSON = "people.person"
IDENTITY = "people.identity"


def _key(f: Any, result: CycleResult) -> str:
    """A finding's resource as EXPECTED_FAILURES names it: a person's email, an identity's provider:login."""
    if f.resource_type == PERSON:
        return str(f.resource_id.rsplit(":person:", 1)[1])
    resource = next(r for s in result.snapshots for r in s.resources if r.id == f.resource_id)
    return resource.name


def _by_status(result: CycleResult, status: Status) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in result.findings:
        if f.status == status and not f.resource_id.startswith("scope:"):
            out.setdefault(f.check_id, set()).add(_key(f, result))
    return out


def _resources(result: CycleResult, rtype: str) -> dict[str, Any]:
    return {r.id: r for s in result.snapshots for r in s.resources if r.type == rtype}


def test_the_demo_roster_fails_exactly_what_it_seeds(estate: Estate) -> None:
    result = estate.run(estate.config(estate.people()), "demo-people")
    assert result.ok and not result.error
    (snap,) = result.snapshots
    assert snap.errors == ()
    assert _by_status(result, Status.FAIL) == {k: set(v) for k, v in people_data.EXPECTED_FAILURES.items()}
    assert _by_status(result, Status.ERROR) == {}
    ledger = snap.of_type("people.ledger")[0]
    assert {s["name"]: s["status"] for s in ledger.attributes["sources"]} == {
        "okta": "ok",
        "workspace": "ok",
        "github": "ok",
        "entra": "ok",
        "aws": "ok",
    }
    assert all(len(s["manifests"]) == 1 and s["collected_at"] for s in ledger.attributes["sources"])
    # the service account the identity map names passes; what it joined is on the identity
    passing = _by_status(result, Status.PASS)
    assert passing["people.identity.belongs_to_person"] == {"aws:ci-deploy"}


def test_each_identity_says_how_it_was_joined(estate: Estate) -> None:
    result = estate.run(estate.config(estate.people()), "demo-people")
    people = {r.attributes["email"]: r for r in _resources(result, PERSON).values()}
    alice = {(e["provider"], e["login"]): e for e in people["alice@acme.example"].attributes["identities"]}
    assert alice[("okta", "alice@acme.example")]["joined_by"] == "email"
    assert alice[("github", "alice")]["map_entry"] == "github:alice"
    assert alice[("googleworkspace", "alice@northwind.example")]["map_entry"] == "*@northwind.example"
    assert alice[("googleworkspace", "admin@northwind.example")]["map_entry"] == "admin@northwind.example"
    assert alice[("aws", "alice")]["joined_by"] == "map" and alice[("aws", "alice")]["mfa"] is True
    assert {e["joined_by"] for e in alice.values()} == {"email", "map"}
    # hank is staged in Okta (cannot sign in): joined, inactive, no orphan
    (hank,) = people["hank@acme.example"].attributes["identities"]
    assert (hank["provider"], hank["active"]) == ("okta", False)
    # an IAM user with keys only is a machine identity
    orphans = {r.name: r for r in _resources(result, IDENTITY).values()}
    assert orphans["aws:ci-deploy"].attributes["human"] is False
    assert orphans["aws:ci-deploy"].attributes["owner"] == "platform-team"


def _store_old_copy(estate: Estate, name: str, of: str, age: timedelta) -> None:
    """Store the latest snapshot of source ``of`` again as source ``name``, ``age`` old (the store's own write path)."""
    store = Store(estate.db)
    try:
        latest = latest_collection(store, of)
        assert latest is not None
        cfg = estate.config(extra_sources=({**_config_of(estate, of), "name": name},))
        snaps = [
            dataclasses.replace(
                ref.snapshot,
                source=name,
                started_at=ref.snapshot.started_at - age,
                finished_at=ref.snapshot.finished_at - age,
            )
            for ref in latest.snapshots
        ]
        run = RunRecord(
            id=new_run_id(snaps[0].finished_at),
            source=name,
            provider=latest.provider,
            started_at=snaps[0].started_at,
            finished_at=snaps[0].finished_at,
            status="complete",
        )
        Pipeline(cfg, store).record(run, [(s, []) for s in snaps])
    finally:
        store.close()


def _config_of(estate: Estate, name: str) -> dict[str, Any]:
    return next(s for s in estate.sources if s["name"] == name)


def test_a_stale_identity_source_is_error_never_pass(estate: Estate) -> None:
    _store_old_copy(estate, "okta-old", "okta", timedelta(days=3))
    old = {**_config_of(estate, "okta"), "name": "okta-old"}
    people = estate.people(name="people-stale", sources=["okta-old", "workspace", "github", "entra", "aws"])
    result = estate.run(estate.config(people, extra_sources=(old,)), "people-stale")
    (snap,) = result.snapshots
    (err,) = snap.errors
    assert err.resource_type == IDENTITY and err.code == "Stale"
    assert "identity source okta-old was collected at" in err.message and "max_identity_age (2d)" in err.message
    fails, errors = _by_status(result, Status.FAIL), _by_status(result, Status.ERROR)
    # what the stale snapshot still shows is a failure: dave's accounts were active after his deadline
    assert fails["people.person.leaver_access_removed"] == {"dave@acme.example", "frank@acme.example"}
    # a leaver whose accounts all look gone might still hold one in Okta: error, not pass
    assert errors["people.person.leaver_access_removed"] == {
        "grace@acme.example",
        "heidi@acme.example",
        "oscar@acme.example",
    }
    assert "alice@acme.example" in errors["people.person.mfa_everywhere"]
    assert not any(f.status == Status.PASS for f in result.findings if f.check_id == "people.person.mfa_everywhere")
    scope = [f for f in result.findings if f.resource_id.startswith("scope:")]
    assert {(f.check_id, f.status) for f in scope} == {("people.identity.belongs_to_person", Status.ERROR)}
    # onboarding checks do not depend on the identity sources
    assert fails["people.person.background_check"] == {"mallory@acme.example"}


def test_a_failed_or_missing_identity_source_is_error(estate: Estate, tmp_path: Path) -> None:
    token = tmp_path / "wrong-token"
    token.write_text("ghp_not-the-token")
    bad = {**_config_of(estate, "github"), "name": "github-bad", "token": f"file:{token}"}
    never = {**_config_of(estate, "okta"), "name": "okta-never"}
    cfg = estate.config(
        estate.people(name="people-broken", sources=["okta", "github-bad", "okta-never"]), extra_sources=(bad, never)
    )
    assert not estate.run(cfg, "github-bad").ok
    result = estate.run(cfg, "people-broken")
    (snap,) = result.snapshots
    codes = {e.code: e.message for e in snap.errors}
    assert set(codes) == {"Failed", "Missing"}
    assert "the latest run of identity source github-bad" in codes["Failed"]
    assert codes["Missing"] == "identity source okta-never has never been collected (no run in the store)"
    ledger = snap.of_type("people.ledger")[0]
    assert {s["name"]: s["status"] for s in ledger.attributes["sources"]} == {
        "okta": "ok",
        "github-bad": "failed",
        "okta-never": "missing",
    }
    statuses = {f.status for f in result.findings if f.check_id == "people.person.mfa_everywhere"}
    assert Status.PASS not in statuses and Status.ERROR in statuses


def test_sources_that_are_not_identity_sources(estate: Estate) -> None:
    people = estate.people(name="people-odd", sources=["okta", "nope", "people-other"])
    other = estate.people(name="people-other")
    result = estate.run(estate.config(people, other), "people-odd")
    messages = sorted(e.message for e in result.snapshots[0].errors)
    assert messages == [
        "sources names nope, which is not a configured source",
        "sources names people-other, which collects no identities (provider people)",
    ]
    # with no identity source configured at all
    cfg = Config.model_validate({"database": estate.db, "sources": [estate.people(name="alone")]})
    store = Store(estate.db)
    try:
        result = Pipeline(cfg, store).run_cycle(cfg.source("alone"))
    finally:
        store.close()
    (err,) = result.snapshots[0].errors
    assert err.code == "NoIdentitySource"
    assert not any(f.status == Status.PASS for f in result.findings if f.check_id == "people.person.mfa_everywhere")


def test_roster_and_map_problems_are_errors_naming_file_line_and_column(estate: Estate, tmp_path: Path) -> None:
    roster, identity_map = people_data.write_files(tmp_path)
    lines = roster.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[2], "2024-02-30")  # carol's start_date: no such day
    lines.append("not-an-email,Nobody,2024-01-01,,,,employee,")
    roster.write_text("\n".join(lines) + "\n")
    people = {"name": "people-bad", "provider": "people", "roster": str(roster), "identity_map": str(identity_map)}
    result = estate.run(estate.config(people), "people-bad")
    messages = sorted(e.message for e in result.snapshots[0].errors)
    assert messages == [
        f"{roster} line 17, column email: 'not-an-email' is not an email address",
        f"{roster} line 4, column start_date: '2024-02-30' is not a date: use YYYY-MM-DD",
    ]
    carol = [f for f in result.findings if f.resource_id.endswith(":person:carol@acme.example")]
    assert {f.check_id: f.status for f in carol}["people.person.background_check"] == Status.ERROR
    # a map line that cannot be read might have been the one joining a leaver: nobody's identities are complete
    identity_map.write_text(identity_map.read_text() + "github:dave\n")
    result = estate.run(estate.config(people), "people-bad")
    assert any(
        e.message == f"{identity_map} line 14: has 1 fields, expected 2 (identity,person)"
        for e in result.snapshots[0].errors
    )
    mfa = {f.status for f in result.findings if f.check_id == "people.person.mfa_everywhere"}
    assert Status.PASS not in mfa


def test_an_unreadable_roster_is_one_clear_error(estate: Estate, tmp_path: Path) -> None:
    roster = tmp_path / "roster.json"
    roster.write_text('[{"email": "a@b.example", "start_date": "2024-01-01"},')
    people = {"name": "people-json", "provider": "people", "roster": str(roster)}
    result = estate.run(estate.config(people), "people-json")
    assert result.ok
    messages = {(e.resource_type, e.message) for e in result.snapshots[0].errors}
    why = f"{roster} line 1: is not valid JSON: Expecting value"
    assert messages == {(PERSON, why), (IDENTITY, why)}
    assert {f.status for f in result.findings} == {Status.ERROR}


def test_the_daemon_collects_the_ledger_after_the_identity_sources(estate: Estate, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'daemon.db'}"
    data = estate.config(estate.people()).model_dump(mode="json", exclude_none=True)
    cfg = Config.model_validate({**data, "database": db, "isolate_collections": False, "listen": "127.0.0.1:0"})
    store = Store(db)
    store.upgrade()
    daemon = Daemon(cfg, Pipeline(cfg, store))
    daemon.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "demo-people" not in store.last_runs():
            time.sleep(0.2)
    finally:
        daemon.stop()
        runs = store.runs()
        store.close()
    people = [r for r in runs if r["source"] == "demo-people"]
    assert people, "the people source never ran"
    first = min(r["started_at"] for r in people)
    others = [r for r in runs if r["source"] != "demo-people"]
    assert {r["source"] for r in others} == {"okta", "workspace", "github", "entra", "aws"}
    assert all(r["finished_at"] <= first for r in others)
