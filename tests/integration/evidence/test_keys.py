"""Keys the auditor pins (issue #13): the store's first checkpoint announces its key, a rotation is
a checkpoint signed by the old key naming the new one, and verification follows rotations from the
key or fingerprint the auditor was given before the period. Re-signing with another key, a key
swapped in the bundle's keys/ file, a retired key used after its rotation all fail; the store and
the bundle, SQLite and PostgreSQL, the agent and the standalone verifier alike."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from agent.cli.main import app
from agent.errors import UsageError
from agent.evidence.checkpoints import Signer, announce_value, body, checkpoint_now, public_pem, rotate_key
from agent.evidence.store_records import load_store_records
from agent.models import sha256_hex, utcnow
from agent.store import Store
from tests.integration.evidence.helpers import STEP, bucket, cycle
from tests.integration.evidence.tamper_lab import tamper as attack
from tests.integration.evidence.test_checkpoints_v2 import (
    HOUR,
    History,
    bundle_verdict,
    delete_checkpoints,
    named,
    new_signer,
    store_verdict,
    write_history,
)


@dataclass
class Rotated:
    h: History
    old: Signer
    new: Signer


def rotated_history(store: Store, tmp: Path) -> Rotated:
    """Key A from t0, rotated to key B at t0+2h30m (seq 4 names B, seq 5 is B's first), B until t0+4h."""
    a, b = new_signer(), new_signer()
    last = utcnow().replace(microsecond=0) - timedelta(minutes=30)
    t0 = last - 4 * HOUR
    checkpoint_now(store, t0, a)
    for i in range(16):
        cycle(store, t0 + i * STEP + timedelta(minutes=1), [bucket("b0"), bucket("b1", encrypted=i % 3 != 1)])
        if i == 9:
            rotate_key(store, t0 + 2.5 * HOUR, a, b)
        if i % 4 == 3:
            checkpoint_now(store, t0 + (i // 4 + 1) * HOUR, a if i < 9 else b)
    return Rotated(History(store, b, t0, last, tmp), a, b)


def test_rotation_verifies_from_the_old_key(store: Store, tmp_path: Path) -> None:
    r = rotated_history(store, tmp_path)
    h = r.h
    kinds = [
        (int(c["seq"]), c["key_id"][:8], bool(c["announce"]), bool(c["rotate_to"]))
        for c in load_store_records(store).checkpoints
    ]
    assert kinds[3] == (4, r.old.fingerprint[:8], True, True) and kinds[4] == (5, r.new.fingerprint[:8], False, False)
    for how in (("--public-key", h.pem(r.old)), ("--key-fingerprint", r.old.fingerprint)):
        v = store_verdict(store, *how)
        assert v.ok, v
        assert f"signed by pinned key {', '.join(sorted([r.old.key_id, r.new.key_id]))}" in v.summary
    # a bundle spanning the rotation, and one after it: the old key reaches the new one through the
    # rotation checkpoint, which the bundle carries (chain/key-checkpoints.jsonl)
    spanning = h.export(h.at(1), h.at(3.5), signer=r.new, name="spanning.zip")
    after = h.export(h.at(3.1), h.at(3.9), signer=r.new, name="after.zip")
    for bundle in (spanning, after):
        for how in (("--public-key", h.pem(r.old)), ("--key-fingerprint", r.old.fingerprint)):
            v = bundle_verdict(bundle, *how)
            assert v.ok, (bundle.name, v)
    with zipfile.ZipFile(after) as zf:
        keyed = [json.loads(x) for x in zf.read("chain/key-checkpoints.jsonl").splitlines()]
    assert [int(c["seq"]) for c in keyed] == [1, 4]
    # the new key pinned: the bundle after the rotation verifies, the history signed by the old key does not
    assert bundle_verdict(after, "--public-key", h.pem(r.new)).ok
    v = store_verdict(store, "--public-key", h.pem(r.new))
    assert named(v, "evidence_checkpoints seq 1..4: signed by key", "neither pinned nor reached"), v


def test_the_rotation_checkpoint_removed(store: Store, tmp_path: Path) -> None:
    r = rotated_history(store, tmp_path)
    delete_checkpoints(store, "seq = 4")
    v = store_verdict(store, "--public-key", r.h.pem(r.old))
    assert named(v, "evidence_checkpoints seq 4: missing (removed)"), v
    assert named(v, "evidence_checkpoints seq 5..7: signed by key", "neither pinned nor reached"), v


def test_retired_key_used_after_its_rotation(store: Store, tmp_path: Path) -> None:
    r = rotated_history(store, tmp_path)
    checkpoint_now(store, utcnow(), r.old)  # an agent still holding the old key
    v = store_verdict(store, "--public-key", r.h.pem(r.old))
    assert named(
        v,
        "evidence_checkpoints seq 8: signed by key",
        "which checkpoint seq 4 rotated to key",
        "a retired key used after its rotation",
    ), v


def resign(store: Store, signer: Signer, first_announces: bool = True) -> None:
    """The key holder's rewrite of every checkpoint, consistent and signed by ``signer``: the same
    times and heads, the links and hashes recomputed."""
    prev = "0" * 64
    stmts: list[str | tuple[str, dict[str, object]]] = []
    for c in load_store_records(store).checkpoints:
        c = {
            **c,
            "prev_hash": prev,
            "key_id": signer.fingerprint,
            "announce": announce_value(signer.public) if c["seq"] == 1 and first_announces else None,
            "rotate_to": None,
        }
        data = body(c)
        c["checkpoint_hash"], c["signature"] = sha256_hex(data), signer.sign(data)
        prev = c["checkpoint_hash"]
        stmts.append(
            (
                "UPDATE evidence_checkpoints SET prev_hash = :prev_hash, key_id = :k, announce = :a, "
                "rotate_to = NULL, checkpoint_hash = :checkpoint_hash, signature = :s WHERE seq = :q",
                {
                    "prev_hash": c["prev_hash"],
                    "k": c["key_id"],
                    "a": c["announce"],
                    "checkpoint_hash": c["checkpoint_hash"],
                    "s": c["signature"],
                    "q": c["seq"],
                },
            )
        )
    attack(store, *stmts)


def test_resigned_with_another_key(store: Store, tmp_path: Path) -> None:
    """Every checkpoint signed again with another key: consistent, signed, and rejected because the
    auditor pinned the real key."""
    h = write_history(store, tmp_path, new_signer())
    other = new_signer()
    resign(store, other)
    assert store_verdict(store, "--public-key", h.pem(other)).ok  # internally consistent
    for how in (("--public-key", h.pem()), ("--key-fingerprint", h.signer.fingerprint)):  # type: ignore[union-attr]
        v = store_verdict(store, *how)
        assert named(v, "evidence_checkpoints seq 1..5: signed by key", "neither pinned nor reached"), v
        assert named(v, "no signed checkpoint covers", "the period has no signed checkpoint"), v
        bundle = h.export(h.at(1), h.at(3.5), signer=other)
        v = bundle_verdict(bundle, *how)
        assert named(v, "evidence_checkpoints seq 2..5: signed by key", "neither pinned nor reached"), v
        assert named(v, "manifest.json: signed by key", "neither pinned nor reached"), v


def _swap_key_file(bundle: Path, out: Path, key: Signer, *, rewrite_manifest: bool) -> None:
    with zipfile.ZipFile(bundle) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    items["keys/signing-public.pem"] = public_pem(key.public)
    if rewrite_manifest:  # the exporter holds everything but the auditor's key: it rewrites the manifest
        manifest = json.loads(items["manifest.json"])
        data = items["keys/signing-public.pem"]
        manifest["files"]["keys/signing-public.pem"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        items["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in items.items():
            zf.writestr(n, data)


def test_key_swapped_in_the_bundle_keys_file(store: Store, tmp_path: Path) -> None:
    h = write_history(store, tmp_path, new_signer())
    bundle = h.export(h.at(1), h.at(3.5))
    other = new_signer()
    swapped, rewritten = tmp_path / "swapped.zip", tmp_path / "rewritten.zip"
    _swap_key_file(bundle, swapped, other, rewrite_manifest=False)
    _swap_key_file(bundle, rewritten, other, rewrite_manifest=True)
    fp = ("--key-fingerprint", h.signer.fingerprint)  # type: ignore[union-attr]
    v = bundle_verdict(swapped, *fp)
    assert named(v, "file keys/signing-public.pem: SHA-256 differs from the manifest (altered)"), v
    assert named(v, "file keys/signing-public.pem: holds key", "(key file swapped)"), v
    v = bundle_verdict(rewritten, *fp)
    assert named(v, "file manifest.sig: the Ed25519 signature over manifest.json does not verify"), v
    assert named(v, "(key file swapped)"), v
    # the checkpoints still verify: the pinned fingerprint takes its key from the store's first checkpoint
    assert not named(v, "evidence_checkpoints")
    # without a pinned key the swap is still seen, though nothing is proven
    assert named(bundle_verdict(rewritten), "(key file swapped)")


def test_first_checkpoint_must_announce_its_key(store: Store, tmp_path: Path) -> None:
    h = write_history(store, tmp_path, new_signer(), hours=2)
    assert h.signer is not None
    resign(store, h.signer, first_announces=False)  # the key holder's own rewrite, without the announcement
    v = store_verdict(store, "--public-key", h.pem())
    assert v.problems == ["evidence_checkpoints seq 1: the store's first checkpoint does not announce its signing key"]
    # pinned by fingerprint only, the key itself is nowhere to be found
    v = store_verdict(store, "--key-fingerprint", h.signer.fingerprint)
    assert named(v, "evidence_checkpoints seq 1: signed by the trusted key", "whose public key is not known"), v
    # an announcement edited in place breaks the checkpoint's hash and signature
    attack(
        store,
        ("UPDATE evidence_checkpoints SET announce = :a WHERE seq = 1", {"a": announce_value(new_signer().public)}),
    )
    v = store_verdict(store, "--public-key", h.pem())
    assert named(v, "evidence_checkpoints seq 1: checkpoint_hash does not match its content"), v
    assert named(v, "evidence_checkpoints seq 1: announces key", "(altered)"), v


# -- the command line -------------------------------------------------------------------------------------


def _key_file(tmp: Path) -> tuple[Signer, Path]:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = Signer(pem)
    path = tmp / f"{signer.key_id}.key"
    path.write_bytes(pem)
    return signer, path


def _config(tmp: Path, store: Store, key: Path, name: str = "agent.yaml") -> Path:
    cfg: dict[str, object] = {
        "database": store.url,
        "evidence": {"signing_key": f"file:{key}", "checkpoint_every": "30m"},
    }
    path = tmp / name
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_rotate_key_command_and_checkpoint_command(store: Store, tmp_path: Path) -> None:
    (old, old_file), (new, new_file) = _key_file(tmp_path), _key_file(tmp_path)
    h = write_history(store, tmp_path, old, hours=2, ago=timedelta(minutes=5))
    runner = CliRunner()
    old_cfg, new_cfg = _config(tmp_path, store, old_file), _config(tmp_path, store, new_file, "new.yaml")
    out = runner.invoke(app, ["evidence", "checkpoint", "--config", str(old_cfg)])
    assert out.exit_code == 0 and f"signed by key {old.fingerprint}" in out.stdout and "cadence 1800s" in out.stdout
    new_ref = f"file:{new_file}"
    out = runner.invoke(app, ["evidence", "rotate-key", "--config", str(old_cfg), "--new-key", new_ref])
    assert out.exit_code == 0, out.output
    assert f"rotating to key {new.fingerprint}" in out.stdout and f"signed by key {new.fingerprint}" in out.stdout
    assert "set evidence.signing_key to" in out.stdout
    out = runner.invoke(app, ["evidence", "checkpoint", "--config", str(new_cfg)])
    assert out.exit_code == 0 and f"signed by key {new.fingerprint}" in out.stdout
    assert store_verdict(store, "--public-key", h.pem(old)).ok
    # a second rotation from the old key is refused: the store already moved on
    out = runner.invoke(app, ["evidence", "rotate-key", "--config", str(old_cfg), "--new-key", new_ref])
    assert isinstance(out.exception, UsageError) and "cannot rotate: key" in str(out.exception), out.output
    assert "was rotated to key" in str(out.exception)
    out = runner.invoke(app, ["evidence", "rotate-key", "--config", str(old_cfg), "--new-key", "not-a-ref"])
    assert isinstance(out.exception, UsageError) and str(out.exception).startswith("--new-key: "), out.output


def test_both_commands_refuse_bad_trust_options_with_the_same_message(store: Store, tmp_path: Path) -> None:
    from tests.contract.test_verifier_standalone import BLOCKER, _standalone

    h = write_history(store, tmp_path, new_signer(), hours=1)
    bundle = h.export(h.at(0), h.at(1))
    blockdir = tmp_path / "blocker"
    blockdir.mkdir()
    (blockdir / "sitecustomize.py").write_text(BLOCKER)
    bad_pem = tmp_path / "bad.pem"
    bad_pem.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    for args, message in (
        (["--key-fingerprint", "abc"], "--key-fingerprint abc: not a key fingerprint"),
        (["--public-key", str(bad_pem)], f"--public-key {bad_pem}: "),
        (["--tolerance", "soon"], "--tolerance soon: not a duration"),
        (["--anchor-bucket", "bucket"], "--anchor-bucket bucket: not an S3 URL"),
    ):
        alone = _standalone({"blockdir": blockdir}, bundle, *args)
        assert alone.returncode == 2 and alone.stderr.startswith(f"posture-verify: {message}"), alone.stderr
        agent = CliRunner().invoke(app, ["evidence", "verify", str(bundle), *args])
        assert isinstance(agent.exception, UsageError) and agent.exception.exit_code == 2, agent.output
        assert str(agent.exception) == alone.stderr.removeprefix("posture-verify: ").strip()
    # a fingerprint with colons and capitals is the same fingerprint
    fp = h.signer.fingerprint.upper()  # type: ignore[union-attr]
    assert bundle_verdict(bundle, "--key-fingerprint", ":".join(fp[i : i + 2] for i in range(0, 64, 2))).ok


def test_version_1_checkpoints_still_verify_and_lead_into_version_2(store: Store, tmp_path: Path) -> None:
    """A store upgraded from version-1 checkpoints (16-hex key id, no cadence, no announcement): they
    verify with the pinned key, and the first version-2 checkpoint announces the key."""
    import sqlalchemy as sa

    from agent.store.evidence_tables import evidence_checkpoints
    from agent.store.schema import evidence_log

    signer = new_signer()
    t0 = utcnow().replace(microsecond=0) - 3 * HOUR
    prev = "0" * 64
    for k in range(2):  # what the agent wrote before version 2: hourly, version 1
        cycle(store, t0 + k * HOUR, [bucket("b0")])
        with store.transaction() as conn:
            el = evidence_log
            head = conn.execute(sa.select(el.c.seq, el.c.entry_hash).order_by(el.c.seq.desc()).limit(1)).one()
            row = {
                "seq": k + 1,
                "at": t0 + k * HOUR + timedelta(minutes=5),
                "head_seq": head.seq,
                "head_hash": head.entry_hash,
                "pruned_through": 0,
                "pruned_hash": "0" * 64,
                "prev_hash": prev,
            }
            data = body(row)
            row.update(checkpoint_hash=sha256_hex(data), key_id=signer.key_id, signature=signer.sign(data))
            conn.execute(sa.insert(evidence_checkpoints).values(**row))
            prev = row["checkpoint_hash"]
    cycle(store, t0 + 2 * HOUR, [bucket("b0")])
    third = checkpoint_now(store, t0 + 2 * HOUR + timedelta(minutes=5), signer)
    assert third["v"] == 2 and third["announce"] and third["key_id"] == signer.fingerprint
    rows = load_store_records(store).checkpoints
    assert [c["v"] for c in rows] == [None, None, 2] and rows[0]["key_id"] == signer.key_id
    h = History(store, signer, t0, t0 + 2 * HOUR, tmp_path)
    for how in (("--public-key", h.pem()), ("--key-fingerprint", signer.fingerprint)):
        v = store_verdict(store, *how)  # by fingerprint, the key comes from the later announcement
        assert v.ok and "3 signatures verified" in v.summary, v
    bundle = h.export(t0, t0 + 2 * HOUR + timedelta(minutes=5))
    assert bundle_verdict(bundle, "--public-key", h.pem()).ok
    # an altered version-1 checkpoint is still caught
    attack(store, "UPDATE evidence_checkpoints SET head_seq = head_seq + 1 WHERE seq = 1")
    v = store_verdict(store, "--public-key", h.pem())
    assert named(v, "evidence_checkpoints seq 1: checkpoint_hash does not match") and named(
        v, "evidence_checkpoints seq 1: Ed25519 signature does not verify"
    ), v
