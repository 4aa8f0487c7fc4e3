"""Checkpoints the operator cannot quietly drop (issue #13): with a pinned key, the signed
checkpoints must cover the whole period at their signed cadence, on SQLite and PostgreSQL, in the
store and in a bundle. Each case runs `posture-agent evidence verify` in-process and, for bundles, the
standalone `python -m posture_verify` with only its own dependencies importable: the same verdict and
the same problems.

Which rule catches what (docs/evidence-format.md, "Cadence"):
- a checkpoint removed from the middle: the seqs (`missing (removed)`) and the gap rule;
- the first removed: the seqs in the store, the missing announcement, and in a bundle the start rule;
- the last removed (or the tail truncated with its rows and later checkpoints): the unsigned tail;
- all removed: `no signed checkpoint covers ...`;
- a consistent rewrite re-signed with the same key at the moment of the rewrite: the gap rule; the
  same rewrite with checkpoints backdated at the cadence verifies: only a witness (an RFC 3161 token,
  an Object Lock copy: posture_verify.witnesses) tells it apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from agent.cli.main import app
from agent.evidence.checkpoints import Signer, checkpoint_now, public_pem
from agent.evidence.export import export_bundle
from agent.mappings import load_mappings
from agent.models import utcnow
from agent.store import Store
from tests.contract.test_verifier_standalone import BLOCKER, _standalone
from tests.integration.evidence.helpers import STEP, bucket, cycle
from tests.integration.evidence.tamper_lab import new_signer, truncate_after
from tests.integration.evidence.tamper_lab import tamper as attack

HOUR = timedelta(hours=1)


@dataclass
class History:
    """Hourly checkpoints from ``t0`` (the daemon's start) to ``last`` (30 minutes ago), a cycle every 15 minutes."""

    store: Store
    signer: Signer | None
    t0: datetime
    last: datetime
    tmp: Path

    def pem(self, signer: Signer | None = None) -> Path:
        """The public key, as the auditor received it before the period."""
        key = signer or self.signer
        assert key is not None
        path = self.tmp / f"{key.key_id}.pem"
        path.write_bytes(public_pem(key.public))
        return path

    def at(self, hours: float) -> datetime:
        return self.t0 + hours * HOUR

    def export(
        self, start: datetime, end: datetime, signer: Signer | None = None, name: str = "b.zip", unsigned: bool = False
    ) -> Path:
        out = self.tmp / name
        export_bundle(
            self.store,
            load_mappings(),
            framework="soc2",
            start=start,
            end=end,
            out=out,
            signer=None if unsigned else signer or self.signer,
        )
        return out


def write_history(
    store: Store,
    tmp: Path,
    signer: Signer | None,
    hours: int = 4,
    ago: timedelta = timedelta(minutes=30),
    also: Sequence[tuple[float, Callable[[datetime], object]]] = (),
) -> History:
    """What a daemon writes: a checkpoint at start and every hour after, whether or not anything
    happened, and cycles in between; it ends ``ago`` before the real now (the store's period end).
    ``also``: (hours after the start, a write given its time), made in time order among the rest."""
    last = utcnow().replace(microsecond=0) - ago
    t0 = last - hours * HOUR
    pending = sorted(((t0 + h * HOUR, write) for h, write in also), key=lambda p: p[0])

    def upto(t: datetime) -> None:
        while pending and pending[0][0] <= t:
            at, write = pending.pop(0)
            write(at)

    checkpoint_now(store, t0, signer)
    for i in range(hours * 4):
        at = t0 + i * STEP + timedelta(minutes=1)
        upto(at)
        cycle(store, at, [bucket("b0"), bucket("b1", encrypted=i % 5 != 2)])
        if i % 4 == 3:
            upto(t0 + (i // 4 + 1) * HOUR)
            checkpoint_now(store, t0 + (i // 4 + 1) * HOUR, signer)
    upto(last)
    return History(store, signer, t0, last, tmp)


# -- verdicts ----------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    code: int
    problems: list[str]
    summary: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def agent_verify(*args: str | Path) -> Verdict:
    """`posture-agent evidence verify ...` in-process."""
    r = CliRunner().invoke(app, ["evidence", "verify", *map(str, args)])
    assert r.exit_code in (0, 1), r.output
    problems = [x.removeprefix("FAIL ") for x in r.stderr.splitlines() if x.startswith("FAIL ")]
    return Verdict(r.exit_code, problems, r.stdout.strip())


def store_verdict(store: Store, *args: str | Path) -> Verdict:
    return agent_verify("--db", store.url, *args)


def bundle_verdict(bundle: Path, *args: str | Path) -> Verdict:
    """The agent and the standalone verifier on a bundle: they must agree on the verdict and on every problem."""
    agent = agent_verify(bundle, *args)
    blockdir = bundle.parent / "blocker"
    if not blockdir.is_dir():
        blockdir.mkdir()
        (blockdir / "sitecustomize.py").write_text(BLOCKER)
    alone = _standalone({"blockdir": blockdir}, bundle, *args)
    assert alone.returncode == agent.code, (alone.stdout, alone.stderr, agent)
    lines = alone.stdout.splitlines()
    assert lines[:-1] == agent.problems, (lines, agent.problems)
    assert lines[-1] == agent.summary and "Traceback" not in alone.stderr
    return agent


def named(verdict: Verdict, *fragments: str) -> bool:
    """Some problem holds every fragment."""
    return any(all(f in p for f in fragments) for p in verdict.problems)


def delete_checkpoints(store: Store, where: str) -> None:
    attack(store, f"DELETE FROM evidence_checkpoints WHERE {where}")


def head_at(store: Store, when: datetime) -> int:
    """The head seq of the checkpoint written at ``when``."""
    rows = {c["at"]: int(c["head_seq"]) for c in _checkpoints(store)}
    return rows[when.isoformat().replace("+00:00", "Z")]


def _checkpoints(store: Store) -> list[dict[str, object]]:
    from agent.evidence.store_records import load_store_records

    return load_store_records(store).checkpoints


@pytest.fixture
def history(store: Store, tmp_path: Path) -> History:
    return write_history(store, tmp_path, new_signer())


def pinned(h: History) -> tuple[str, Path]:
    return ("--public-key", h.pem())


def fingerprint(h: History) -> tuple[str, str]:
    assert h.signer is not None
    return ("--key-fingerprint", h.signer.fingerprint)


# -- untouched -------------------------------------------------------------------------------------------


def test_untouched_history_verifies_with_a_pinned_key(history: History) -> None:
    h = history
    for how in (pinned(h), fingerprint(h)):
        v = store_verdict(h.store, *how)
        assert v.ok and v.problems == [], v
        assert f"signed by pinned key {h.signer.key_id}" in v.summary  # type: ignore[union-attr]
    # a period ending mid-cadence: the bundle carries the checkpoint after its end
    bundle = h.export(h.at(1.5), h.at(3.33))
    for how in (pinned(h), fingerprint(h)):
        v = bundle_verdict(bundle, *how)
        assert v.ok, v
        assert "manifest signature verified" in v.summary


def test_without_a_pinned_key_it_says_nothing_proves_who_wrote_it(history: History) -> None:
    h = history
    r = CliRunner().invoke(app, ["evidence", "verify", "--db", h.store.url])
    assert r.exit_code == 0 and "nothing proves who wrote it" in r.stdout
    assert "NOTE no key pinned" in r.stderr
    r = CliRunner().invoke(app, ["evidence", "verify", "--db", h.store.url, "--json"])
    report = json.loads(r.stdout)
    assert report["pinned"] is False and report["authorship_proven"] is False
    assert any("nothing proves who wrote this evidence" in n for n in report["notes"])
    bundle = h.export(h.at(0), h.at(4))
    v = bundle_verdict(bundle)
    assert v.ok and "no key pinned" in v.summary


# -- removed checkpoints -----------------------------------------------------------------------------------


def test_last_checkpoint_removed(history: History) -> None:
    h = history
    bundle_before = h.export(h.at(1), h.at(3.5), name="before.zip")
    delete_checkpoints(h.store, "seq = (SELECT MAX(seq) FROM evidence_checkpoints)")
    v = store_verdict(h.store, *pinned(h))
    assert not v.ok and named(v, "evidence_checkpoints: no signed checkpoint covers", "cadence 1h", "unsigned tail"), v
    # a bundle made after the period: the checkpoint after its end was due, and is missing
    bundle = h.export(h.at(1), h.at(3.5))
    v = bundle_verdict(bundle, *pinned(h))
    assert not v.ok and named(v, "chain/checkpoints.jsonl: no signed checkpoint covers", "unsigned tail"), v
    assert bundle_verdict(bundle_before, *pinned(h)).ok  # the same period exported before verifies


def test_first_checkpoint_removed(history: History) -> None:
    h = history
    delete_checkpoints(h.store, "seq = 1")
    v = store_verdict(h.store, *pinned(h))
    assert named(v, "evidence_checkpoints seq 1: missing (removed)"), v
    assert named(v, "evidence_checkpoints seq 2: signed by key", "no earlier checkpoint announces"), v
    bundle = h.export(h.at(0), h.at(2.5))
    v = bundle_verdict(bundle, *pinned(h))
    assert named(
        v,
        "chain/checkpoints.jsonl: no signed checkpoint covers",
        "the checkpoint at or before the period start is missing",
    ), v
    assert named(v, "no earlier checkpoint announces"), v


def test_middle_checkpoint_removed(history: History) -> None:
    h = history
    delete_checkpoints(h.store, "seq = 3")
    v = store_verdict(h.store, *pinned(h))
    assert named(v, "evidence_checkpoints seq 3: missing (removed)"), v
    assert named(
        v,
        "evidence_checkpoints seq 2..4: 2h apart, more than the signed cadence 1h plus tolerance 10m: "
        "no signed checkpoint covers",
    ), v
    v = bundle_verdict(h.export(h.at(0.5), h.at(3.5)), *pinned(h))
    assert named(v, "evidence_checkpoints seq 3: missing (removed)") and named(v, "seq 2..4: 2h apart"), v


def test_all_checkpoints_removed(history: History) -> None:
    h = history
    delete_checkpoints(h.store, "seq > 0")
    v = store_verdict(h.store, *pinned(h))
    assert named(v, "evidence_checkpoints: no signed checkpoint covers", "the period has no signed checkpoint"), v
    v = bundle_verdict(h.export(h.at(0.5), h.at(3.5)), *pinned(h))
    assert named(v, "chain/checkpoints.jsonl: no signed checkpoint covers", "the period has no signed checkpoint"), v
    # without a pinned key the same store only checks what is there
    assert store_verdict(h.store).ok


def test_tail_truncated_with_rows_and_later_checkpoints(history: History) -> None:
    h = history
    truncate_after(h.store, head_at(h.store, h.at(2)))
    # consistent: nothing but the cadence says anything is missing
    assert store_verdict(h.store).ok
    v = store_verdict(h.store, *pinned(h))
    assert v.problems and all("no signed checkpoint covers" in p for p in v.problems), v
    assert named(v, "evidence_checkpoints: no signed checkpoint covers", "the last signed checkpoint is seq 3"), v
    v = bundle_verdict(h.export(h.at(1), h.at(3.5)), *pinned(h))
    assert named(v, "chain/checkpoints.jsonl: no signed checkpoint covers", "the last signed checkpoint is seq 3"), v


@pytest.mark.parametrize("backdated", [False, True], ids=["resigned-now", "resigned-backdated"])
def test_consistent_rewrite_resigned_with_the_same_key(history: History, backdated: bool) -> None:
    """The key holder rewrites the history after 2h (tail removed, other cycles written in its place)
    and signs new checkpoints. Signed now, the gap gives it away; backdated at the cadence, nothing in
    the store or the bundle does: that is what witnesses are for (posture_verify.witnesses)."""
    h = history
    truncate_after(h.store, head_at(h.store, h.at(2)))
    for i in range(8):  # the fabricated history: b1 always encrypted
        if backdated and i == 4:  # each checkpoint after the cycles of its hour, as the daemon writes them
            checkpoint_now(h.store, h.at(3), h.signer)
        cycle(h.store, h.at(2) + i * STEP + timedelta(minutes=1), [bucket("b0"), bucket("b1")])
    if backdated:
        checkpoint_now(h.store, h.at(4), h.signer)
    else:
        checkpoint_now(h.store, utcnow(), h.signer)
    store_v = store_verdict(h.store, *pinned(h))
    bundle_v = bundle_verdict(h.export(h.at(1), h.at(3.5)), *pinned(h))
    if backdated:
        assert store_v.ok and bundle_v.ok, (store_v, bundle_v)  # the limit of signatures alone
    else:
        for v in (store_v, bundle_v):
            assert named(v, "evidence_checkpoints seq 3..4:", "apart, more than the signed cadence 1h"), v


def test_unsigned_checkpoints_fail_with_a_pinned_key(store: Store, tmp_path: Path) -> None:
    h = write_history(store, tmp_path, None)
    key = new_signer()
    v = store_verdict(store, "--public-key", h.pem(key))
    assert named(v, "evidence_checkpoints seq 1..5: not signed, but a key is pinned"), v
    assert named(v, "no signed checkpoint covers", "the period has no signed checkpoint"), v
    v = bundle_verdict(h.export(h.at(0.5), h.at(3.5)), "--public-key", h.pem(key))
    assert named(v, "not signed, but a key is pinned") and named(v, "file manifest.sig: missing"), v
    assert store_verdict(store).ok  # consistent, but nothing proves who wrote it


def test_a_gap_in_the_agent_fails_and_says_so(store: Store, tmp_path: Path) -> None:
    """Silence is provable only where checkpoints were written: an agent stopped for 3h leaves a gap."""
    signer = new_signer()
    h = write_history(store, tmp_path, signer, hours=2, ago=timedelta(hours=4))
    checkpoint_now(store, h.last + 3 * HOUR, signer)  # restarted
    v = store_verdict(store, *pinned(h))
    assert named(v, "evidence_checkpoints seq 3..4: 3h apart", "or the agent stopped"), v


def test_the_cadence_is_signed_and_quiet_hours_are_covered(store: Store, tmp_path: Path) -> None:
    """Checkpoints on a quiet store (nothing appended) still cover it; a longer declared cadence is
    honoured because it is signed, and reported."""
    signer = new_signer()
    start = utcnow().replace(microsecond=0) - 5 * HOUR
    cycle(store, start, [bucket("b0")])
    for k in range(3):  # every 2h, declared
        checkpoint_now(store, start + timedelta(minutes=1) + k * 2 * HOUR, signer, cadence_s=7200)
    h = History(store, signer, start, start, tmp_path)
    out = CliRunner().invoke(app, ["evidence", "verify", "--db", store.url, "--public-key", str(h.pem()), "--json"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert report["ok"] and report["cadence_s"] == 7200 and report["pinned"] and report["authorship_proven"]


def test_the_daemon_checkpoints_at_start_and_on_its_cadence_even_when_idle(store: Store, tmp_path: Path) -> None:
    """The housekeeping job writes a checkpoint when the agent starts and every evidence.checkpoint_every,
    signing that cadence, whether or not anything was appended."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from agent.config import EvidenceConfig
    from agent.evidence.housekeeping import schedule
    from agent.evidence.store_records import load_store_records

    key_file = tmp_path / "signing.pem"
    signer_pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    key_file.write_bytes(signer_pem)
    cfg = EvidenceConfig.model_validate({"signing_key": f"file:{key_file}", "checkpoint_every": "2m"})
    cycle(store, utcnow() - timedelta(minutes=1), [bucket("b0")])
    scheduler = BackgroundScheduler(timezone="UTC")  # not started: the job is inspected and run by hand
    before = utcnow()
    schedule(scheduler, store, cfg)
    job = scheduler.get_job("evidence-checkpoint")
    assert job.trigger.interval == timedelta(minutes=2) and job.args[2] == 120
    assert before <= job.next_run_time <= utcnow()  # at start, not an interval later
    job.func(*job.args)
    (first,) = load_store_records(store).checkpoints
    assert first["cadence_s"] == 120 and first["announce"] and first["signature"]
    # idle: nothing appended since, and the next tick still checkpoints the same head
    signer = Signer(signer_pem)
    again = checkpoint_now(store, utcnow(), signer, cadence_s=120)
    assert again["head_seq"] == first["head_seq"] and again["seq"] == 2 and not again["announce"]
    pem = tmp_path / "public.pem"
    pem.write_bytes(public_pem(signer.public))
    assert store_verdict(store, "--public-key", pem).ok
