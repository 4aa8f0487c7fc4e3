"""The evidence format's test vectors (tests/fixtures/evidence-vectors, docs/evidence-format.md).

Fixed inputs give fixed bytes, hashes and a fixed Ed25519 signature. Each vector is checked three
ways: the agent's writers (a fresh store writes the same rows, entries, blobs and checkpoint), the
standalone verifier posture_verify (recomputes every hash from the recorded rows and verifies them),
and, for canonical JSON and the results hash, a reading of docs/evidence-format.md written here
from the document alone.

The vectors are frozen. Regenerate them (`.venv/bin/python -m tests.unit.test_evidence_format
--write`) only to add the vectors of a new format version: it refuses to overwrite a file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import posture_verify
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from posture_verify import canonical, checkpoints, lthash, manifests
from posture_verify.chain import CycleCommitment, entry_hash, entry_hash_of, run_fields, snapshot_fields
from posture_verify.records import STARVED_MESSAGE, Records

from agent.evidence.checkpoints import Signer, checkpoint_now, rotate_key
from agent.evidence.records import STARVED_MESSAGE as AGENT_STARVED_MESSAGE
from agent.evidence.store_records import load_store_records
from agent.models import Finding, Resource, Severity, Snapshot, Status, finding_uid
from agent.models import canonical_json as agent_canonical_json
from agent.models import isoformat as agent_isoformat
from agent.store import RunRecord, Store
from agent.store.db import STARVED
from agent.store.evidence_tables import evidence_store
from agent.store.resultset import ResultSetHash as AgentResultSetHash

VECTORS = Path(__file__).resolve().parents[1] / "fixtures" / "evidence-vectors"
SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"  # RFC 8032, test 1
SEED2_HEX = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"  # RFC 8032, test 2: the next key
STORE_ID = "5d0c3b2a19e8f7a6b5c4d3e2f1a0b9c8"  # fixed here; a store draws its own at random
GENESIS = "0" * 64
CHECK = "aws.s3.bucket_default_encryption"
ACCOUNT = "111122223333"
RUN_IDS = ("0194c1a0b2c3d4e5f60718293a4b5c6d", "0194c1a0b2c3d4e5f60718293a4b5c6e")
T1 = datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
T2 = T1 + timedelta(minutes=15)
T_CHECKPOINT = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
T_ROTATE = datetime(2026, 1, 1, 1, 30, tzinfo=UTC)


def load(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


# -- a reading of the spec, sharing no code with the agent or posture_verify ---------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def spec_canonical(v: Any) -> bytes:
    def enc(x: Any) -> str:
        if x is None:
            return "null"
        if x is True:
            return "true"
        if x is False:
            return "false"
        if isinstance(x, int):
            return str(x)
        if isinstance(x, str):
            return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in x) + '"'
        if isinstance(x, list):
            return "[" + ",".join(enc(i) for i in x) + "]"
        if isinstance(x, dict):
            return "{" + ",".join(enc(k) + ":" + enc(x[k]) for k in sorted(x, key=lambda k: [ord(c) for c in k])) + "}"
        raise TypeError(type(x))

    return enc(v).encode("utf-8")


def spec_results_hash(items: list[list[str]]) -> str:
    lanes = [0] * 1024
    for item in items:
        d = hashlib.shake_128(spec_canonical(item)).digest(2048)
        for i in range(1024):
            lanes[i] = (lanes[i] + (d[2 * i] << 8 | d[2 * i + 1])) % 65536
    return hashlib.sha256(b"".join(b"\x00\x00" + v.to_bytes(2, "big") for v in lanes)).hexdigest()


# -- generating the vectors -------------------------------------------------------------------------------

CANONICAL_CASES: list[tuple[str, Any]] = [
    ("scalars", [None, True, False, 0, -1, 9007199254740993, "", "a"]),
    (
        "keys sorted by code point, not by UTF-16 unit",
        {"b": 1, "a": 2, "B": 3, "é": 4, "aa": 5, "中": 6, "\uff61": 7, "😀": 8, "": 9},
    ),
    ("escapes", 'quote " backslash \\ slash / newline \n cr \r tab \t bs \b ff \f nul \x00 us \x1f del \x7f ls \u2028'),
    ("unicode as itself", "Zürich – 東京 – 😀"),
    ("nested, no whitespace", {"z": [3, {"y": None, "x": [True, False]}], "a": {}, "m": []}),
    (
        "a cycle entry's content",
        {"run": "cc969d28f36b4b4f", "snapshots": [[1, "2249357accdd9ba9", 2, "812893186f88bc51"]]},
    ),
]
TIMESTAMPS = [
    "2026-01-01T00:15:00+00:00",
    "2026-03-14T10:00:00.123456+00:00",
    "2026-03-14T12:00:00+02:00",
    "2026-03-14T10:00:00.5+00:00",
    "2026-03-14T10:00:00",
]


def _canonical_vectors() -> dict[str, Any]:
    cases = []
    for name, value in CANONICAL_CASES:
        data = canonical.canonical_json(value)
        cases.append(
            {
                "name": name,
                "value": value,
                "canonical": data.decode(),
                "utf8_hex": data.hex(),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    stamps = [{"input": s, "canonical": canonical.isoformat(datetime.fromisoformat(s))} for s in TIMESTAMPS]
    return {
        "about": "canonical JSON: value -> bytes (UTF-8); timestamps: ISO-8601 input -> canonical string "
        "(an input without offset is UTC)",
        "cases": cases,
        "timestamps": stamps,
    }


def _results_vectors() -> dict[str, Any]:
    items = [
        ["c3be75cdd607b6f4d23fdfe96fc1c056", "pass", "encrypted"],
        ["5b1f3c1e0e8b4a8c9d2e7f6a5b4c3d2e", "fail", "not encrypted"],
        ["0a1b2c3d4e5f60718293a4b5c6d7e8f9", "error", "Zoë's bucket: not readable"],
    ]
    first = hashlib.shake_128(canonical.canonical_json(items[0])).digest(2048)
    h = lthash.ResultSetHash(tuple(i) for i in items)
    return {
        "about": "results hash (LtHash, 1,024 lanes of 16 bits, SHA-256 of 4,096 packed bytes)",
        "items": items,
        "empty_set": lthash.ResultSetHash().hexdigest(),
        "first_item_shake128_first_8_bytes_hex": first[:8].hex(),
        "first_item_lanes_0_to_3": [first[2 * i] << 8 | first[2 * i + 1] for i in range(4)],
        "packed_lanes_first_16_bytes_hex": h.lanes()[:16].hex(),
        "results_hash": h.hexdigest(),
        "without_last_item": lthash.ResultSetHash(tuple(i) for i in items[:2]).hexdigest(),
        "legacy_results_hash": lthash.legacy_results_hash(tuple(i) for i in items),
    }


def _entry_vectors() -> dict[str, Any]:
    e = {
        "seq": 7,
        "at": "2026-01-01T00:15:00Z",
        "kind": "drift",
        "ref": "drift:2",
        "content_hash": hashlib.sha256(b'{"events":[]}').hexdigest(),
        "prev_hash": "ab" * 32,
    }
    return {
        "about": "entry_hash = SHA-256 of the canonical JSON of the six fields",
        "entry": e,
        "hashed": canonical.canonical_json(e).decode(),
        "entry_hash": entry_hash(**e),
    }


def _bucket(name: str, encrypted: bool, **attrs: Any) -> Resource:
    return Resource(
        provider="aws",
        account=ACCOUNT,
        region="us-east-1",
        type="aws.s3.bucket",
        id=f"arn:aws:s3:::{name}",
        name=name,
        attributes={"Encrypted": encrypted, **attrs},
    )


def _write_cycle(store: Store, run_id: str, at: datetime, resources: list[Resource]) -> None:
    findings = [
        Finding(
            uid=finding_uid(CHECK, r.id),
            check_id=CHECK,
            resource_id=r.id,
            resource_type=r.type,
            provider="aws",
            account=ACCOUNT,
            region=r.region,
            status=Status.PASS if r.attributes["Encrypted"] else Status.FAIL,
            severity=Severity.HIGH,
            message="encrypted" if r.attributes["Encrypted"] else "not encrypted",
            requirements=(),
            evaluated_at=at,
            source="prod",
        )
        for r in resources
    ]
    snap = Snapshot(
        source="prod",
        provider="aws",
        account=ACCOUNT,
        started_at=at - timedelta(minutes=1),
        finished_at=at,
        resources=tuple(resources),
        errors=(),
    )
    store.record_cycle(
        RunRecord(
            id=run_id,
            source="prod",
            provider="aws",
            started_at=at - timedelta(minutes=1),
            finished_at=at,
            status="complete",
        ),
        [(snap, findings)],
    )


def _signer(seed: str = SEED_HEX) -> Signer:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))
    return Signer(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def write_scenario(store: Store) -> Records:
    """Two cycles, a signed checkpoint announcing its key, and a key rotation, written by the agent's
    own store paths. Cycle 2 fixes b1, loses b0 and finds b2: a status change, a gone finding, a new
    one, and a delta manifest."""
    with store.transaction() as conn:  # the store's id is random; the vectors fix it
        conn.execute(sa.insert(evidence_store).values(id=1, store_id=STORE_ID, created_at=T1))
    _write_cycle(store, RUN_IDS[0], T1, [_bucket("b0", True), _bucket("b1", False)])
    _write_cycle(store, RUN_IDS[1], T2, [_bucket("b1", True), _bucket("b2", True, Tags={"owner": "Zoë"})])
    checkpoint_now(store, T_CHECKPOINT, _signer(), cadence_s=3600)
    rotate_key(store, T_ROTATE, _signer(), _signer(SEED2_HEX), cadence_s=3600)
    return load_store_records(store, now=T_ROTATE)


def _manifest_vector() -> dict[str, Any]:
    """A bundle manifest (as the exporter writes it, with two files) and its signature."""
    key = _signer()
    manifest = {
        "format": "posture-agent-evidence-bundle/3",
        "framework": "soc2",
        "from": "2026-01-01T00:00:00Z",
        "to": "2026-01-01T02:00:00Z",
        "generated_at": "2026-01-01T02:05:00Z",
        "entries": 2,
        "snapshots": 2,
        "signing_key_id": key.key_id,
        "key": key.fingerprint,
        "store": STORE_ID,
        "files": {
            "chain/entries.jsonl": {"sha256": hashlib.sha256(b"").hexdigest(), "size": 0},
            "report.html": {"sha256": hashlib.sha256(b"<p>report</p>").hexdigest(), "size": 13},
        },
    }
    body = checkpoints.manifest_body(manifest)
    return {
        "about": "manifest.sig = base64 Ed25519 (RFC 8032 test 1 key) over the canonical JSON of manifest.json's "
        "object; manifest.json itself may be written indented",
        "manifest": manifest,
        "body": body.decode(),
        "signature": key.sign(body),
    }


def _scenario_vectors(rec: Records) -> dict[str, Any]:
    blobs = {h: raw.decode() for h, _kind, _size, raw in rec.blob_rows() if isinstance(raw, bytes)}
    kinds = {h: kind for h, kind, _size, _raw in rec.blob_rows()}
    cycles = []
    for e in rec.entries:
        run = rec.runs[e["ref"]]
        sids = sorted(s for s, snap in rec.snapshots.items() if snap["run_id"] == run["id"])
        rows = [
            (
                sid,
                snapshot_fields(rec.snapshots[sid]),
                [{k: v for k, v in ev.items() if k != "id"} for ev in rec.events.get(sid, [])],
            )
            for sid in sids
        ]
        c = CycleCommitment(run_fields(run), rows)
        cycles.append(
            {
                "run": run,
                "snapshots": [rec.snapshots[s] for s in sids],
                "finding_events": [ev for s in sids for ev in rec.events.get(s, [])],
                "run_digest": c.run_digest,
                "snapshot_digests": [[sid, d, n, ed] for sid, (d, n, ed) in c.snapshot_digests.items()],
                "rows_digest_input": canonical.canonical_json(
                    {
                        "run": c.run_digest,
                        "snapshots": [[sid, d, n, ed] for sid, (d, n, ed) in c.snapshot_digests.items()],
                    }
                ).decode(),
                "rows_digest": c.rows_digest,
                "entry": e,
            }
        )
    manifests_ = {h: body for h, body in blobs.items() if kinds[h] == "manifest"}
    resolved = {h: manifests.resolve_manifest(h, lambda x: blobs[x].encode()) for h in manifests_}
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED_HEX)).public_key()
    next_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED2_HEX)).public_key()
    return {
        "cycle.json": {
            "about": "two cycles written by the agent: the rows, each digest, the rows digest and the "
            "chain entry (content_hash = SHA-256(content + LF + rows_digest))",
            "cycles": cycles,
        },
        "blobs.json": {
            "about": "blob address = SHA-256 of the uncompressed body",
            "blobs": [{"hash": h, "kind": kinds[h], "body": b} for h, b in sorted(blobs.items())],
        },
        "manifests.json": {
            "about": "manifest bodies (full and delta) and the mapping each resolves to",
            "manifests": [{"hash": h, "body": manifests_[h], "resolved": resolved[h]} for h in sorted(manifests_)],
        },
        "checkpoint-v2.json": {
            "about": "version-2 checkpoints: the store's first, announcing its key (RFC 8032 test 1), then a rotation "
            "signed by it naming the next key (RFC 8032 test 2), then the first checkpoint of the next key",
            "ed25519_seed_hex": SEED_HEX,
            "next_ed25519_seed_hex": SEED2_HEX,
            "public_key_hex": key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex(),
            "public_key_pem": key.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ).decode(),
            "fingerprint": checkpoints.fingerprint(key),
            "key_id": checkpoints.key_id(key),
            "next_fingerprint": checkpoints.fingerprint(next_key),
            "store": STORE_ID,
            "checkpoints": rec.checkpoints,
            "bodies": [checkpoints.body(c).decode() for c in rec.checkpoints],
        },
        "manifest-signature.json": _manifest_vector(),
    }


def _summaries_inputs() -> dict[str, Any]:
    """A small period as a bundle holds it: a failure open at the start and fixed, a new one still open, a
    collection gap, a document in force for part of the period, an exception."""
    at = "2026-01-01T{:02d}:{:02d}:00Z".format
    runs = [
        {"source": "prod", "finished_at": at(h, m), "status": "complete"}
        for h in range(0, 4)
        for m in (0, 15, 30, 45)
        if not 1 <= h < 2
    ]
    b1, b2 = "arn:aws:s3:::b1", "arn:aws:s3:::b2"
    uid1, uid2 = finding_uid(CHECK, b1), finding_uid(CHECK, b2)
    return {
        "scope": {
            "framework": "soc2",
            "name": "SOC 2",
            "version": "2017",
            "categories": [],
            "requirements": [
                {"ref": "SOC2:CC6.1", "title": "Logical access", "controls": ["CRYPTO", "POLICY"], "checks": [CHECK]},
                {"ref": "SOC2:CC1.1", "title": "Integrity and ethics", "controls": ["CONDUCT"], "checks": []},
            ],
            "controls": {
                "CRYPTO": {"title": "Encryption at rest", "kind": "automated", "evidence": None},
                "POLICY": {"title": "Access policy", "kind": "manual", "evidence": "a policy"},
                "CONDUCT": {"title": "Code of conduct", "kind": "manual", "evidence": "a code"},
            },
        },
        "start": "2026-01-01T00:00:00Z",
        "end": "2026-01-01T04:00:00Z",
        "generated": "2026-01-01T03:50:00Z",
        "runs": runs,
        "carried": [
            {
                "uid": uid1,
                "source": "prod",
                "account": ACCOUNT,
                "check_id": CHECK,
                "resource_id": b1,
                "status": "fail",
                "message": "not encrypted",
            }
        ],
        "events": [
            {
                "id": 7,
                "uid": uid1,
                "source": "prod",
                "check_id": CHECK,
                "resource_id": b1,
                "status": "pass",
                "message": "encrypted",
                "at": at(0, 30),
            },
            {
                "id": 8,
                "uid": uid2,
                "source": "prod",
                "check_id": CHECK,
                "resource_id": b2,
                "status": "fail",
                "message": "not encrypted",
                "at": at(3, 0),
            },
        ],
        "exceptions": [
            {
                "id": 1,
                "check_id": CHECK,
                "resource_pattern": "arn:aws:s3:::legacy-*",
                "owner": "alice",
                "reason": "migrating",
                "created_at": at(0, 5),
                "expires_at": "2026-02-01T00:00:00Z",
            }
        ],
        "documents": [
            {
                "id": 3,
                "control_id": "POLICY",
                "filename": "access.pdf",
                "sha256": "ab" * 32,
                "size": 10,
                "owner": "bob",
                "attached_at": at(1, 0),
                "review_every_days": 365,
                "next_review": "2027-01-01T01:00:00Z",
            }
        ],
        "files": {"3": "manual/3-access.pdf"},
        "entries": 14,
        "checkpoints": 4,
        "key": "cd" * 32,
    }


def _derived_from(inputs: dict[str, Any]) -> dict[str, bytes]:
    from posture_verify.coverage import Scope
    from posture_verify.summaries import derived

    return derived(
        Scope.from_dict(inputs["scope"]),
        start=canonical_time(inputs["start"]),
        end=canonical_time(inputs["end"]),
        generated=canonical_time(inputs["generated"]),
        runs=inputs["runs"],
        events=inputs["events"],
        carried=inputs["carried"],
        exceptions=inputs["exceptions"],
        documents=inputs["documents"],
        files={int(k): v for k, v in inputs["files"].items()},
        entries=inputs["entries"],
        checkpoints=inputs["checkpoints"],
        key=inputs["key"],
    )


def _summaries_vector() -> dict[str, Any]:
    inputs = _summaries_inputs()
    files = _derived_from(inputs)
    return {
        "about": "posture_verify.summaries.derived over these inputs (a bundle's records, framework.json and "
        "manifest fields): summary/requirements.json in full and the SHA-256 of every file it writes",
        "inputs": inputs,
        "requirements": json.loads(files["summary/requirements.json"]),
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }


def canonical_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def generate(tmp: Path) -> dict[str, Any]:
    store = Store(f"sqlite:///{tmp / 'vectors.db'}")
    store.upgrade()
    try:
        rec = write_scenario(store)
        out = {
            "canonical-json.json": _canonical_vectors(),
            "results-hash.json": _results_vectors(),
            "entry-hash.json": _entry_vectors(),
            "summaries.json": _summaries_vector(),
            **_scenario_vectors(rec),
        }
    finally:
        store.close()
    return out


# -- the checks ---------------------------------------------------------------------------------------------


def test_canonical_json_vectors() -> None:
    v = load("canonical-json.json")
    for case in v["cases"]:
        data = bytes.fromhex(case["utf8_hex"])
        assert data == case["canonical"].encode("utf-8")
        assert canonical.canonical_json(case["value"]) == data, case["name"]
        assert agent_canonical_json(case["value"]) == data, case["name"]  # the agent's own encoder agrees
        assert spec_canonical(case["value"]) == data, case["name"]  # and so does the document
        assert hashlib.sha256(data).hexdigest() == case["sha256"]
    for stamp in v["timestamps"]:
        ts = datetime.fromisoformat(stamp["input"])
        assert canonical.isoformat(ts) == agent_isoformat(ts) == stamp["canonical"]
        # a datetime inside a value is written as its timestamp by both encoders
        assert (
            canonical.canonical_json({"at": ts})
            == agent_canonical_json({"at": ts})
            == spec_canonical({"at": stamp["canonical"]})
        )


def test_verifier_canonical_json_refuses_what_is_not_json() -> None:
    with pytest.raises(TypeError):
        canonical.canonical_json({"x": {1, 2}})


def test_results_hash_vectors() -> None:
    v = load("results-hash.json")
    items = [tuple(i) for i in v["items"]]
    assert lthash.ResultSetHash().hexdigest() == hashlib.sha256(bytes(4096)).hexdigest() == v["empty_set"]
    for impl in (lthash.ResultSetHash, AgentResultSetHash):
        h = impl(items)
        assert h.hexdigest() == v["results_hash"]
        assert h.lanes()[:16].hex() == v["packed_lanes_first_16_bytes_hex"] and len(h.lanes()) == 4096
        h.remove(*items[-1])
        assert h.hexdigest() == v["without_last_item"]
    assert spec_results_hash(v["items"]) == v["results_hash"]
    assert spec_results_hash(v["items"][:2]) == v["without_last_item"]
    first = hashlib.shake_128(spec_canonical(v["items"][0])).digest(2048)
    assert first[:8].hex() == v["first_item_shake128_first_8_bytes_hex"]
    assert lthash.legacy_results_hash(items) == v["legacy_results_hash"]


def test_entry_hash_vector() -> None:
    v = load("entry-hash.json")
    assert canonical.canonical_json(v["entry"]).decode() == v["hashed"]
    assert hashlib.sha256(v["hashed"].encode()).hexdigest() == v["entry_hash"]
    assert entry_hash(**v["entry"]) == entry_hash_of(v["entry"]) == v["entry_hash"]
    at = datetime.fromisoformat(v["entry"]["at"].replace("Z", "+00:00"))
    assert entry_hash(**{**v["entry"], "at": at}) == v["entry_hash"]  # as the writer calls it


def test_verifier_recomputes_the_cycle_vectors() -> None:
    prev = GENESIS
    for c in load("cycle.json")["cycles"]:
        events = {}
        for ev in c["finding_events"]:
            events.setdefault(ev["snapshot_id"], []).append({k: x for k, x in ev.items() if k != "id"})
        commitment = CycleCommitment(
            run_fields(c["run"]), [(s["id"], snapshot_fields(s), events.get(s["id"], [])) for s in c["snapshots"]]
        )
        assert commitment.run_digest == c["run_digest"] == hashlib.sha256(spec_canonical(c["run"])).hexdigest()
        assert [[sid, d, n, e] for sid, (d, n, e) in commitment.snapshot_digests.items()] == c["snapshot_digests"]
        assert (
            spec_canonical({"run": c["run_digest"], "snapshots": c["snapshot_digests"]}).decode()
            == c["rows_digest_input"]
        )
        assert hashlib.sha256(c["rows_digest_input"].encode()).hexdigest() == c["rows_digest"] == commitment.rows_digest
        e = c["entry"]
        assert e["content"] == canonical.canonical_json(commitment.content()).decode()
        assert (
            hashlib.sha256(e["content"].encode() + b"\n" + c["rows_digest"].encode()).hexdigest()
            == e["content_hash"]
            == commitment.content_hash(e["content"].encode())
        )
        assert e["prev_hash"] == prev and entry_hash_of(e) == e["entry_hash"]
        prev = e["entry_hash"]


def test_blob_and_manifest_vectors() -> None:
    blobs = {b["hash"]: b["body"].encode() for b in load("blobs.json")["blobs"]}
    for h, body in blobs.items():
        assert hashlib.sha256(body).hexdigest() == h
    found = load("manifests.json")["manifests"]
    assert {m["body"].startswith('{"base":null') for m in found} == {True, False}  # a full one and a delta
    for m in found:
        assert manifests.Manifest.decode(m["body"].encode()).encode().decode() == m["body"]
        assert manifests.resolve_manifest(m["hash"], lambda x: blobs[x]) == m["resolved"]


def test_checkpoint_vector() -> None:
    v = load("checkpoint-v1.json")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["ed25519_seed_hex"])).public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw.hex() == v["public_key_hex"]
    assert v["key_id"] == hashlib.sha256(raw).hexdigest()[:16] == checkpoints.key_id(key)
    pem_key = checkpoints.load_public_key(v["public_key_pem"].encode())
    cp = v["checkpoint"]
    assert checkpoints.body(cp).decode() == v["body"]
    assert hashlib.sha256(v["body"].encode()).hexdigest() == cp["checkpoint_hash"]
    assert checkpoints.verify_signature(cp, pem_key)
    Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(cp["signature"]), v["body"].encode())
    assert _signer().sign(v["body"].encode()) == cp["signature"]  # Ed25519 is deterministic
    assert not checkpoints.verify_signature({**cp, "head_seq": cp["head_seq"] + 1}, pem_key)


def test_checkpoint_v2_vector() -> None:
    """Version 2: the body with its store, cadence and key; the first announcing its key, a rotation
    naming the next; each signature verifies with the key its fingerprint names, the next key's
    by the announcement the rotation carries."""
    v = load("checkpoint-v2.json")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["ed25519_seed_hex"])).public_key()
    nxt = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(v["next_ed25519_seed_hex"])).public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert raw.hex() == v["public_key_hex"] and v["fingerprint"] == hashlib.sha256(raw).hexdigest()
    assert v["key_id"] == v["fingerprint"][:16]
    first, rotation, after = v["checkpoints"]
    assert [c["v"] for c in v["checkpoints"]] == [2, 2, 2] and {c["store"] for c in v["checkpoints"]} == {v["store"]}
    for c, b in zip(v["checkpoints"], v["bodies"], strict=True):
        assert checkpoints.body(c).decode() == b and spec_canonical(json.loads(b)).decode() == b
        assert hashlib.sha256(b.encode()).hexdigest() == c["checkpoint_hash"]
        assert c["cadence_s"] == 3600 and json.loads(b)["key"] == c["key_id"]
    # the first announces its own key, the rotation the next one (signed by the current key)
    assert first["announce"] == base64.b64encode(raw).decode() and first["key_id"] == v["fingerprint"]
    assert rotation["key_id"] == v["fingerprint"] and rotation["rotate_to"] == v["next_fingerprint"]
    assert checkpoints.fingerprint(checkpoints.public_from_announce(rotation["announce"])) == v["next_fingerprint"]
    assert after["key_id"] == v["next_fingerprint"] and after["announce"] is None and after["rotate_to"] is None
    assert "announce" not in json.loads(v["bodies"][2]) and "rotate_to" not in json.loads(v["bodies"][0])
    for c, k in ((first, key), (rotation, key), (after, nxt)):
        assert checkpoints.verify_signature(c, k)
        Ed25519PublicKey.from_public_bytes(
            k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).verify(base64.b64decode(c["signature"]), checkpoints.body(c))
    assert _signer().sign(v["bodies"][0].encode()) == first["signature"]
    assert _signer(SEED2_HEX).sign(v["bodies"][2].encode()) == after["signature"]
    assert not checkpoints.verify_signature({**first, "cadence_s": 86400}, key)  # the cadence is signed


def test_manifest_signature_vector() -> None:
    v = load("manifest-signature.json")
    body = checkpoints.manifest_body(v["manifest"])
    assert body.decode() == v["body"] == spec_canonical(v["manifest"]).decode()
    # manifest.json may be indented: the body is the canonical JSON of the object it holds
    assert checkpoints.manifest_body(json.loads(json.dumps(v["manifest"], indent=1))) == body
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SEED_HEX)).public_key()
    key.verify(base64.b64decode(v["signature"]), body)
    assert _signer().sign(body) == v["signature"]
    assert v["manifest"]["key"] == checkpoints.fingerprint(key)


def test_summaries_vector() -> None:
    """The coverage files of a bundle are a function of its records: the vector's inputs give its outputs."""
    v = load("summaries.json")
    files = _derived_from(v["inputs"])
    assert {name: hashlib.sha256(data).hexdigest() for name, data in files.items()} == v["sha256"]
    assert json.loads(files["summary/requirements.json"]) == v["requirements"]
    reqs = {r["requirement"]: r for r in v["requirements"]["requirements"]}
    assert reqs["SOC2:CC6.1"]["status"] == "failing" and reqs["SOC2:CC6.1"]["open_failures"] == 1
    assert reqs["SOC2:CC1.1"]["status"] == "not evidenced"
    [check] = v["requirements"]["checks"]
    assert [f["open_at_start"] for f in check["failures"]] == [True, False]


def test_the_agent_writes_the_vectors(tmp_path: Path) -> None:
    """The agent's store, given the same inputs, writes byte for byte the rows, entries, blobs and
    checkpoints of the vectors; and the standalone verifier accepts them with the pinned key,
    following the rotation to the next key."""
    from posture_verify.trust import Trust

    written = generate(tmp_path)
    assert "checkpoint-v1.json" not in written  # frozen: the agent writes version 2 now
    for name, expected in written.items():
        assert load(name) == json.loads(json.dumps(expected)), name
    store = Store(f"sqlite:///{tmp_path / 'vectors.db'}")
    try:
        v = load("checkpoint-v2.json")
        key = checkpoints.load_public_key(v["public_key_pem"].encode())
        rec = load_store_records(store, now=T_ROTATE)
        pinned = posture_verify.verify_records(rec, trust=Trust(public_keys=(key,)))
        by_fingerprint = posture_verify.verify_records(rec, trust=Trust(fingerprints=(v["fingerprint"],)))
    finally:
        store.close()
    for report in (pinned, by_fingerprint):
        assert report.ok and report.signatures_checked == 3, report.issues
        assert report.signed_by == sorted([v["fingerprint"], v["next_fingerprint"]])


def test_starved_message_is_the_stores() -> None:
    assert STARVED_MESSAGE == STARVED == AGENT_STARVED_MESSAGE


def main(argv: list[str]) -> None:
    if argv != ["--write"]:
        sys.exit("usage: python -m tests.unit.test_evidence_format --write")
    import tempfile

    VECTORS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in generate(Path(tmp)).items():
            path = VECTORS / name
            if path.exists():
                print(f"kept {path} (frozen; delete it first to regenerate)")
                continue
            path.write_text(json.dumps(content, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
            print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
