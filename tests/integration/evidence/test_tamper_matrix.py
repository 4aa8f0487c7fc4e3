"""The tamper matrix (issue #13, "Done when"): what an operator holding the database, the signing key and
the clock does to their evidence, and what the auditor's verification says.

Every attack runs on SQLite and PostgreSQL. A store attack is verified in the store (`posture-agent
evidence verify --db`, in-process) and in the bundle the operator then exports, signed with their
current key and witnessed; a bundle attack edits the untouched history's bundle. Each bundle is checked
by `posture-agent evidence verify` and the standalone `python -m posture_verify` (only its own
dependencies importable): the same exit status and the same problem lines. The auditor pins what they
were given before the period: the key's fingerprint (store) or the key itself (bundle), the TSA's root
(--tsa-cert) and their Object Lock bucket (--anchor-bucket, --s3-endpoint). Every attack exits 1 with a
problem naming the record (`evidence_checkpoints seq 3`, `runs id R`, `file report.html`, `blobs H`).

| attack                                      | caught by                                                   |
|---------------------------------------------|-------------------------------------------------------------|
| tail truncated (rows, checkpoints, witness) | bucket copy: later checkpoints in the bucket, not in records |
| last checkpoint removed                     | bucket copy (truncated after the one before)                |
| first checkpoint removed                    | seqs and bucket copy (store), key announcement, cadence start|
| middle checkpoint removed                   | checkpoint seqs, bucket copy                                 |
| every checkpoint removed                    | cadence (no signed checkpoint), witness (nothing witnessed), |
|                                             |   bucket copies (named by the store's or manifest's id)      |
| consistent rewrite, re-signed, re-anchored  | bucket copy: the oldest version differs, written again       |
| a month fabricated, clock set back, witnessed| witness time (token and copy backdated)                     |
| the same month, not witnessed               | witness (none at all)                                        |
| a month backfilled before one honest        | --max-cadence (1d unless the auditor says otherwise) and the |
|   checkpoint signing a 32-day cadence       |   start rule at the capped cadence                           |
| a cycle dated weeks back, written after a   | entry times: an entry after a signed checkpoint is not dated |
|   witnessed checkpoint, signed by the next  |   before it                                                  |
| run, snapshot, finding event edited         | row digest (cycle entry); finding events also results hash   |
| drift event, document row, exception edited | row digest (the entry's content, column named)               |
| finding event or drift event deleted        | row digest (count)                                           |
| finding events reordered                    | row digest (events in id order)                              |
| blob body swapped for another valid blob    | blob address                                                 |
| key swapped (checkpoints 4.. by another)    | signature (pinned key, rotations), bucket copy, token        |
| re-signed with another key entirely         | signature, cadence, bucket copy, token, manifest signature   |
| report/OSCAL/CSV/document edited            | file hash in the manifest                                    |
| the same with the manifest's hashes fixed   | manifest signature, manifest token, manifest's bucket copy   |
| report/OSCAL/CSV edited, re-signed with the | summaries: the verifiers compute them again from the         |
|   key, re-timestamped, re-copied            |   verified records and compare bytes                         |
| framework.json edited and every summary     | framework pin: its SHA-256 is not the one the auditor pinned |
|   recomputed from it, re-signed, re-witnessed|   (--framework-sha256)                                      |
| timeline and drift log edited, re-signed,   | listings: the verifiers write them again from the verified   |
|   re-timestamped, re-copied                 |   records and compare bytes                                  |
| document swapped, re-signed and re-witnessed| row digest: the document's SHA-256 in its chain entry        |
| manifest.json edited                        | manifest signature, manifest token, manifest's bucket copy   |
| keys/signing-public.pem swapped             | manifest signature, key file vs the manifest's key           |
| manifest.sig removed                        | manifest signature (required with a pinned key)              |
| manifest.tsr altered                        | manifest token (its signature)                               |

And the other way round: the untouched store verifies, and so does its bundle re-zipped with Debian's
`zip -r` (directory entries, another order, another compression), with every pin.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from posture_demo.tsa import LocalTsa
from posture_verify.checkpoints import manifest_body

from agent.evidence.anchoring import Anchorer, witness_manifest
from agent.evidence.checkpoints import Signer, checkpoint_now, public_pem
from agent.mappings import load_mappings
from agent.models import isoformat, utcnow
from agent.store import Store
from tests.contract.test_verifier_standalone import _zip_tool
from tests.integration.evidence.helpers import CHECK, cycle
from tests.integration.evidence.tamper_lab import (
    OK,
    Lab,
    backfill_month,
    fabricate_month,
    new_signer,
    open_lab,
    remove_checkpoints,
    resign_from,
    resource_blob,
    tamper,
    truncate_after,
    write_history,
)
from tests.integration.evidence.test_checkpoints_v2 import Verdict, bundle_verdict, named, store_verdict
from tests.integration.evidence.test_manifest_signature import rewrite
from tests.integration.evidence.tsa import AnchorBucket, auditor_session


@pytest.fixture(scope="module")
def module_bucket(moto_server: str) -> Iterator[AnchorBucket]:
    """The auditor's Object Lock bucket for the module (tsa.anchor_bucket, with the module's lifetime)."""
    with pytest.MonkeyPatch.context() as mp:
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
            mp.delenv(var, raising=False)
        for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            mp.setenv(var, "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        s3 = auditor_session(moto_server).client("s3", endpoint_url=moto_server)
        name = f"anchors-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
        yield AnchorBucket(endpoint=moto_server, bucket=name, prefix="posture", s3=s3)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def lab(
    request: pytest.FixtureRequest, tsa: LocalTsa, module_bucket: AnchorBucket, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Lab]:
    if request.param == "postgresql":
        request.getfixturevalue("pg_base")  # skips loudly (fails in CI) without PostgreSQL
    tmp = tmp_path_factory.mktemp(f"tamper-{request.param}")
    yield from open_lab(
        request.param,
        tmp,
        new_signer(),
        module_bucket.anchors_config([tsa.url]),
        module_bucket,
        tsa.write_ca(tmp / "tsa-root.pem"),
    )


# -- store attacks: each leaves the attacked store in case.store ----------------------------------------------


@dataclass
class Case:
    lab: Lab
    store: Store | None = None
    export_key: Signer | None = None  # the key the operator exports with (default: the pinned one)
    period_start: datetime | None = None  # of the exported bundle (default: the history's)
    names: dict[str, object] = field(default_factory=dict)  # what the expected problems name

    def __post_init__(self) -> None:
        s = self.lab.facts.snapshots
        self.names.update(s0=s[0], s1=s[1], run1=self.lab.facts.runs[s[1]])

    def copy(self) -> Store:
        self.store = self.lab.store()
        return self.store

    def sql(self, *statements: str) -> None:
        tamper(self.copy(), *statements)


def tail_truncated(c: Case) -> None:
    truncate_after(c.copy(), c.lab.facts.heads[3])


def last_checkpoint_removed(c: Case) -> None:
    remove_checkpoints(c.copy(), "seq = 5")


def first_checkpoint_removed(c: Case) -> None:
    remove_checkpoints(c.copy(), "seq = 1")


def middle_checkpoint_removed(c: Case) -> None:
    remove_checkpoints(c.copy(), "seq = 3")


def every_checkpoint_removed(c: Case) -> None:
    remove_checkpoints(c.copy(), "seq > 0")


def consistent_rewrite(c: Case) -> None:
    """From checkpoint 3's head on: the cycle that left b0 open is gone, clean cycles written in its
    place (the writer recomputes every hash), the later checkpoints deleted and written anew, signed
    with the key and witnessed right away: valid tokens, and new versions of the copies in the bucket.
    On a history of its own: those copies must not meet the other attacks'."""
    c.store = c.lab.fresh()
    truncate_after(c.store, write_history(c.store, c.lab.signer, c.lab.anchors).heads[3])
    anchorer = Anchorer(c.store, c.lab.anchors)
    try:
        for _ in range(2):
            cycle(c.store, utcnow(), OK)
            checkpoint_now(c.store, utcnow(), c.lab.signer)
            assert anchorer.run().failed == 0
    finally:
        anchorer.close()


def fabricated_month(c: Case) -> None:
    c.store, c.period_start = c.lab.fresh(), utcnow() - timedelta(days=31)
    fabricate_month(c.store, c.lab.signer, c.lab.anchors)


def fabricated_month_unwitnessed(c: Case) -> None:
    c.store, c.period_start = c.lab.fresh(), utcnow() - timedelta(days=31)
    fabricate_month(c.store, c.lab.signer, None)


def backfilled_month(c: Case) -> None:
    c.store, c.period_start = c.lab.fresh(), utcnow() - timedelta(days=31)
    backfill_month(c.store, c.lab.signer, c.lab.anchors)


def backdated_after_checkpoint(c: Case) -> None:
    """After the last witnessed checkpoint, a cycle dated three weeks back, then the next checkpoint on
    time, signed and witnessed: a later write slipped into the past. On a history of its own (its
    checkpoint 6 and its copy must not meet the other attacks')."""
    c.store, c.period_start = c.lab.fresh(), utcnow() - timedelta(days=31)
    write_history(c.store, c.lab.signer, c.lab.anchors)
    cycle(c.store, utcnow() - timedelta(days=21), OK)
    anchorer = Anchorer(c.store, c.lab.anchors)
    try:
        checkpoint_now(c.store, utcnow(), c.lab.signer)
        assert anchorer.run().failed == 0
    finally:
        anchorer.close()


def run_edited(c: Case) -> None:
    c.sql(f"UPDATE runs SET status = 'failed' WHERE id = '{c.names['run1']}'")


def snapshot_edited(c: Case) -> None:
    c.sql(f"UPDATE snapshots SET resource_count = 3 WHERE id = {c.names['s1']}")


def finding_event_edited(c: Case) -> None:
    c.sql(
        f"UPDATE finding_events SET status = 'pass', message = 'encrypted' WHERE snapshot_id = {c.names['s1']} "
        "AND status = 'fail'"
    )


def drift_event_edited(c: Case) -> None:
    c.sql("UPDATE drift_events SET resource_id = 'arn:aws:s3:::other'")


def manual_document_edited(c: Case) -> None:
    c.sql("UPDATE manual_evidence SET review_every_days = 3650")  # a lapsed review made to look current


def exception_edited(c: Case) -> None:
    c.sql("UPDATE exceptions SET resource_pattern = 'arn:aws:s3:::*'")  # an exception widened to every bucket


def finding_event_deleted(c: Case) -> None:
    c.sql(f"DELETE FROM finding_events WHERE snapshot_id = {c.names['s1']} AND status = 'fail'")


def drift_event_deleted(c: Case) -> None:
    c.sql("DELETE FROM drift_events")


def finding_events_reordered(c: Case) -> None:
    """The two events of the first snapshot swap places (their ids), every column kept."""
    store = c.copy()
    with store.engine.connect() as conn:
        a, b = (
            conn.execute(sa.text(f"SELECT id FROM finding_events WHERE snapshot_id = {c.names['s0']} ORDER BY id"))
            .scalars()
            .all()
        )
    tamper(
        store,
        f"UPDATE finding_events SET id = -1 WHERE id = {a}",
        f"UPDATE finding_events SET id = {a} WHERE id = {b}",
        f"UPDATE finding_events SET id = {b} WHERE id = -1",
    )


def blob_swapped(c: Case) -> None:
    """The stored body of b1 left unencrypted replaced by its (valid) encrypted body."""
    store = c.copy()
    shown, hidden = resource_blob(store, "b1", True), resource_blob(store, "b1", False)
    c.names["blob"] = hidden
    tamper(
        store,
        (
            "UPDATE blobs SET body = (SELECT body FROM blobs WHERE hash = :shown_hash) WHERE hash = :hidden_hash",
            {"shown_hash": shown, "hidden_hash": hidden},
        ),
    )


def key_swapped(c: Case) -> None:
    """Checkpoints 4 on signed by another key, which announces itself (a key replaced without a
    rotation); the bundle is exported with it."""
    c.export_key = new_signer()
    resign_from(c.copy(), c.export_key, 4)


def resigned_with_another_key(c: Case) -> None:
    c.export_key = new_signer()
    resign_from(c.copy(), c.export_key, 1)


# -- bundle attacks: (case, the untouched bundle, the tampered bundle to write) -------------------------------


def _edited(src: Path, name: str, old: bytes, new: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(src) as zf:
        data = zf.read(name)
    assert old in data, (name, old)
    return {name: data.replace(old, new)}


REPORT = ("report.html", b"Failing", b"Passing")
OSCAL = ("oscal/assessment-results.json", b'"not-satisfied"', b'"satisfied"')
CSV = ("summary/requirements.csv", b"failing", b"passing")
TIMELINE = (f"timelines/{CHECK}.csv", b",fail,", b",pass,")  # a listing: written again by the verifiers
DRIFT_LOG = ("logs/drift.csv", b"arn:aws:s3:::b1", b"arn:aws:s3:::b9")


def edited(what: tuple[str, bytes, bytes], *, listed: bool) -> Callable[[Case, Path, Path], None]:
    """``what`` edited; ``listed``: and its hash in manifest.json rewritten to match (not signed again)."""

    def attack(c: Case, src: Path, dst: Path) -> None:
        rewrite(src, dst, _edited(src, *what), manifest=listed)

    return attack


def document_swapped(listed: bool) -> Callable[[Case, Path, Path], None]:
    def attack(c: Case, src: Path, dst: Path) -> None:
        with zipfile.ZipFile(src) as zf:
            (name,) = [n for n in zf.namelist() if n.startswith("manual/")]
        rewrite(src, dst, {name: b"%PDF a policy written after the audit began"}, manifest=listed)

    return attack


def manifest_edited(c: Case, src: Path, dst: Path) -> None:
    with zipfile.ZipFile(src) as zf:
        m = json.loads(zf.read("manifest.json"))
    m["from"] = "2025-01-01T00:00:00Z"  # a longer period claimed, every file hash left as it was
    rewrite(src, dst, {"manifest.json": json.dumps(m, indent=1, sort_keys=True).encode()}, manifest=False)


def key_file_swapped(c: Case, src: Path, dst: Path) -> None:
    rewrite(src, dst, {"keys/signing-public.pem": public_pem(new_signer().public)})


def manifest_sig_removed(c: Case, src: Path, dst: Path) -> None:
    rewrite(src, dst, drop=["manifest.sig"], manifest=False)


def manifest_tsr_altered(c: Case, src: Path, dst: Path) -> None:
    with zipfile.ZipFile(src) as zf:
        tsr = zf.read("manifest.tsr")
    rewrite(src, dst, {"manifest.tsr": tsr[:-1] + bytes([tsr[-1] ^ 0x01])}, manifest=False)


def resigned(*edits: tuple[str, bytes, bytes], document: bool = False) -> Callable[[Case, Path, Path], None]:
    """``edits`` made (``document``: and the document swapped), then what the exporter does after writing
    the files, done again by the key holder: the manifest lists the new hashes, is signed with the key,
    timestamped by the TSA and copied to the anchor bucket (the agent's own PutObject)."""

    def attack(c: Case, src: Path, dst: Path) -> None:
        with zipfile.ZipFile(src) as zf:
            items = {n: zf.read(n) for n in zf.namelist()}
        for what in edits:
            items.update(_edited(src, *what))
        changed = [name for name, _old, _new in edits]
        if document:
            (name,) = [n for n in items if n.startswith("manual/")]
            items[name] = b"%PDF a policy written after the audit began"
            changed.append(name)
        m = json.loads(items["manifest.json"])
        for name in changed:
            m["files"][name] = {"sha256": hashlib.sha256(items[name]).hexdigest(), "size": len(items[name])}
        m["generated_at"] = isoformat(utcnow())
        items["manifest.json"] = json.dumps(m, indent=1, sort_keys=True).encode()
        items["manifest.sig"] = c.lab.signer.sign(manifest_body(m)).encode()
        tsr = witness_manifest(c.lab.anchors, manifest_body(m), m["store"])
        assert tsr is not None
        items["manifest.tsr"] = tsr
        with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in items.items():
                zf.writestr(name, data)

    return attack


# -- the table ------------------------------------------------------------------------------------------------

Says = tuple[tuple[str, ...], ...]  # each tuple: the fragments one problem line holds


@dataclass(frozen=True)
class Attack:
    name: str
    store: Callable[[Case], None] | None = None  # on a store; its bundle is then exported from it
    bundle: Callable[[Case, Path, Path], None] | None = None  # on the untouched history's bundle
    says: Says = ()  # in the store and in the bundle
    store_says: Says = ()
    bundle_says: Says = ()
    hole: str | None = None  # not caught: why (a strict xfail)

    def param(self) -> object:
        return pytest.param(
            self, id=self.name, marks=[pytest.mark.xfail(strict=True, reason=self.hole)] if self.hole else []
        )


def in_bucket(seq: int, *more: str) -> tuple[str, ...]:
    return (f"evidence_checkpoints seq {seq}: is in the anchor bucket (s3://", *more)


def copy_differs(seq: int) -> tuple[str, ...]:
    return (
        f"evidence_checkpoints seq {seq}: its copy s3://",
        "differs from the checkpoint (in ",
        "rewritten after it was anchored",
    )


NOT_PINNED = "neither pinned nor reached from a pinned key through a rotation"
MANIFEST_BROKEN: Says = (
    ("file manifest.sig: the Ed25519 signature over manifest.json does not verify",),
    ("file manifest.tsr: its message imprint is not the SHA-256 of the manifest",),
    ("file manifest.json: has no copy s3://", "/bundles/", "in the anchor bucket"),
)

ATTACKS = [
    Attack(
        "tail-truncated",
        tail_truncated,
        says=(in_bucket(4, "truncated after checkpoint 3"), in_bucket(5, "truncated after checkpoint 3")),
    ),
    Attack("last-checkpoint-removed", last_checkpoint_removed, says=(in_bucket(5, "truncated after checkpoint 4"),)),
    Attack(
        "first-checkpoint-removed",
        first_checkpoint_removed,
        store_says=(
            ("evidence_checkpoints seq 1: missing (removed)",),
            in_bucket(1, "(checkpoint removed)"),
            ("evidence_checkpoints seq 2: signed by the trusted key", "announcing it is missing"),
        ),
        bundle_says=(
            ("evidence_checkpoints seq 2: signed by key", "which no earlier checkpoint announces"),
            (
                "chain/checkpoints.jsonl: no signed checkpoint covers",
                "the checkpoint at or before the period start is missing",
            ),
        ),
    ),
    Attack(
        "middle-checkpoint-removed",
        middle_checkpoint_removed,
        says=(("evidence_checkpoints seq 3: missing (removed)",), in_bucket(3, "(checkpoint removed)")),
    ),
    Attack(
        "every-checkpoint-removed",
        every_checkpoint_removed,
        says=(
            ("has no checkpoints, so nothing in it is witnessed",),
            ("no signed checkpoint covers", "the period has no signed checkpoint"),
            ("evidence_checkpoints seq 1..5: 5 in the anchor bucket (s3://", "every checkpoint removed"),
        ),
        store_says=(("evidence_checkpoints: no signed checkpoint covers",),),
        bundle_says=(("chain/checkpoints.jsonl: no signed checkpoint covers",),),
    ),
    Attack(
        "consistent-rewrite",
        consistent_rewrite,
        says=(
            copy_differs(4),
            copy_differs(5),
            ("evidence_checkpoints seq 4: its copy s3://", "was written again", "with other content"),
        ),
    ),
    Attack(
        "fabricated-month-witnessed",
        fabricated_month,
        says=(
            ("evidence_checkpoints seq 30: RFC 3161 token of", "after its own time", "(backdated;"),
            ("evidence_checkpoints seq 30: its copy s3://", "after its own time", "(backdated;"),
            ("evidence_checkpoints seq ", "no valid witness", "is not from its time"),
        ),
        store_says=(("evidence_checkpoints seq 1: RFC 3161 token of", "(backdated;"),),
    ),
    Attack(
        "fabricated-month-unwitnessed",
        fabricated_month_unwitnessed,
        says=(("carries no witnesses at all", "rest on the operator's word alone"),),
        store_says=(("store: carries no witnesses at all", "its 31 checkpoints"),),
    ),
    Attack(
        "backfilled-month-long-cadence",
        backfilled_month,
        says=(
            (
                "evidence_checkpoints seq 1: signs a cadence of 32d, longer than the longest accepted (1d, "
                "--max-cadence)",
            ),
            ("evidence_log seq 1..", "before the first signed checkpoint (seq 1 at", "more than its signed cadence 1d"),
        ),
    ),
    Attack(
        "backdated-after-checkpoint",
        backdated_after_checkpoint,
        says=(("evidence_log seq ", "written after signed checkpoint seq 5 at", "dated before it", "(backdated)"),),
    ),
    Attack("run-edited", run_edited, says=(("runs id {run1}: does not match what evidence_log seq",),)),
    Attack("snapshot-edited", snapshot_edited, says=(("snapshots id {s1}: does not match what evidence_log seq",),)),
    Attack(
        "finding-event-edited",
        finding_event_edited,
        says=(
            ("finding_events of snapshot {s1}: rows do not match the chain entry",),
            ("finding_events up to snapshot {s1}: the result set replayed", "results_hash"),
        ),
    ),
    Attack(
        "drift-event-edited",
        drift_event_edited,
        says=(("drift_events id 1: resource_id is 'arn:aws:s3:::other' but the chain entry says 'arn:aws:s3:::b1'",),),
    ),
    Attack(
        "manual-document-edited",
        manual_document_edited,
        says=(("manual_evidence id 1: review_every_days is 3650 but the chain entry says 365",),),
    ),
    Attack(
        "exception-edited",
        exception_edited,
        says=(("exceptions id 1: resource_pattern is 'arn:aws:s3:::*' but the chain entry says",),),
    ),
    Attack(
        "finding-event-deleted",
        finding_event_deleted,
        says=(("finding_events of snapshot {s1}: 0 rows but the chain entry records 1",),),
    ),
    Attack(
        "drift-event-deleted",
        drift_event_deleted,
        says=(("drift_events of snapshot {s1}: 0 rows but the chain entry records 1",),),
    ),
    Attack(
        "finding-events-reordered",
        finding_events_reordered,
        says=(("finding_events of snapshot {s0}: rows do not match the chain entry (rows altered or reordered)",),),
    ),
    Attack("blob-swapped", blob_swapped, says=(("blobs {blob}: body does not hash to its address (altered)",),)),
    Attack(
        "key-swapped",
        key_swapped,
        says=(
            ("evidence_checkpoints seq 4..5: signed by key", NOT_PINNED),
            copy_differs(4),
            ("evidence_checkpoints seq 4: RFC 3161 token of", "its message imprint is not the SHA-256"),
        ),
        bundle_says=(("manifest.json: signed by key", NOT_PINNED),),
    ),
    Attack(
        "resigned-with-another-key",
        resigned_with_another_key,
        says=(
            ("evidence_checkpoints seq 1..5: signed by key", NOT_PINNED),
            copy_differs(1),
            ("no signed checkpoint covers", "the period has no signed checkpoint"),
        ),
        bundle_says=(("manifest.json: signed by key", NOT_PINNED),),
    ),
    Attack(
        "report-edited",
        bundle=edited(REPORT, listed=False),
        says=(("file report.html: SHA-256 differs from the manifest (altered)",),),
    ),
    Attack("report-edited-manifest-fixed", bundle=edited(REPORT, listed=True), says=MANIFEST_BROKEN),
    Attack(
        "oscal-edited",
        bundle=edited(OSCAL, listed=False),
        says=(("file oscal/assessment-results.json: SHA-256 differs from the manifest (altered)",),),
    ),
    Attack("oscal-edited-manifest-fixed", bundle=edited(OSCAL, listed=True), says=MANIFEST_BROKEN),
    Attack(
        "csv-edited",
        bundle=edited(CSV, listed=False),
        says=(("file summary/requirements.csv: SHA-256 differs from the manifest (altered)",),),
    ),
    Attack("csv-edited-manifest-fixed", bundle=edited(CSV, listed=True), says=MANIFEST_BROKEN),
    Attack(
        "document-swapped",
        bundle=document_swapped(listed=False),
        says=(
            ("file manual/1-access.pdf: SHA-256 differs from the manifest (altered)",),
            ("manual_evidence id 1: the stored document does not match its SHA-256 (document altered)",),
        ),
    ),
    Attack(
        "document-swapped-manifest-fixed",
        bundle=document_swapped(listed=True),
        says=(
            ("manual_evidence id 1: the stored document does not match its SHA-256 (document altered)",),
            *MANIFEST_BROKEN,
        ),
    ),
    Attack(
        "summaries-edited-resigned-rewitnessed",
        bundle=resigned(REPORT, OSCAL, CSV),
        says=(
            ("file report.html: differs from the same file computed from the verified records", "(summary altered)"),
            ("file oscal/assessment-results.json: differs from the same file computed",),
            ("file summary/requirements.csv: differs from the same file computed",),
        ),
    ),
    Attack(
        "listings-edited-resigned-rewitnessed",
        bundle=resigned(TIMELINE, DRIFT_LOG),
        says=(
            (f"file timelines/{CHECK}.csv: differs from the same listing written from the verified records",),
            ("file logs/drift.csv: differs from the same listing written from the verified records",),
        ),
    ),
    Attack(
        "document-swapped-resigned-rewitnessed",
        bundle=resigned(document=True),
        says=(("manual_evidence id 1: the stored document does not match its SHA-256 (document altered)",),),
    ),
    Attack("manifest-edited", bundle=manifest_edited, says=MANIFEST_BROKEN),
    Attack(
        "key-file-swapped",
        bundle=key_file_swapped,
        says=(("file keys/signing-public.pem: holds key", "(key file swapped)"), *MANIFEST_BROKEN),
    ),
    Attack(
        "manifest-sig-removed",
        bundle=manifest_sig_removed,
        says=(("file manifest.sig: missing: manifest.json is not signed",),),
    ),
    Attack(
        "manifest-tsr-altered",
        bundle=manifest_tsr_altered,
        says=(("file manifest.tsr: its signature does not verify", "(token altered)"),),
    ),
]


def _expect(v: Verdict, says: Says, names: dict[str, object]) -> None:
    assert v.code == 1 and v.problems, v
    for fragments in says:
        wanted = [f.format(**names) for f in fragments]
        assert named(v, *wanted), (wanted, v.problems)


@pytest.mark.parametrize("attack", [a.param() for a in ATTACKS])
def test_attack_is_caught(lab: Lab, attack: Attack) -> None:
    case = Case(lab)
    if attack.store is not None:
        attack.store(case)
        assert case.store is not None
        _expect(store_verdict(case.store, *lab.by_fingerprint()), attack.says + attack.store_says, case.names)
        bundle = lab.export(case.store, signer=case.export_key, start=case.period_start)
    else:
        assert attack.bundle is not None
        bundle = lab.workdir() / "tampered.zip"
        attack.bundle(case, lab.bundle, bundle)
    _expect(bundle_verdict(bundle, *lab.by_key()), attack.says + attack.bundle_says, case.names)


def test_framework_edited_with_every_summary_recomputed(lab: Lab) -> None:
    """The key holder runs the exporter with a mapping in which CC6.1 relies on no control: every summary
    agrees with that mapping, the manifest is signed and witnessed. Only the auditor's pin of the framework
    mapping (--framework-sha256) tells it from the one agreed on."""
    mappings = load_mappings()
    fw = mappings.frameworks["soc2"]
    edited_fw = replace(
        fw, requirements=tuple(replace(r, controls=()) if r.ref == "SOC2:CC6.1" else r for r in fw.requirements)
    )
    bundle = lab.export(lab.store(), mappings=replace(mappings, frameworks={**mappings.frameworks, "soc2": edited_fw}))
    with zipfile.ZipFile(lab.bundle) as zf:
        agreed = hashlib.sha256(zf.read("framework.json")).hexdigest()
    with zipfile.ZipFile(bundle) as zf:
        stated = hashlib.sha256(zf.read("framework.json")).hexdigest()
    assert stated != agreed
    assert bundle_verdict(bundle, *lab.by_key()).ok  # consistent: nothing inside the bundle betrays the edit
    v = bundle_verdict(bundle, *lab.by_key(), "--framework-sha256", agreed)
    assert v.problems == [
        f"file framework.json: SHA-256 {stated[:16]}... is not the framework mapping you pinned "
        f"({agreed[:16]}...): the summaries are computed for another mapping"
    ], v
    assert bundle_verdict(lab.bundle, *lab.by_key(), "--framework-sha256", agreed).ok


# -- untouched -----------------------------------------------------------------------------------------------


def test_untouched_store_verifies(lab: Lab) -> None:
    store = lab.store()
    for pins in (lab.by_key(), lab.by_fingerprint()):
        v = store_verdict(store, *pins)
        assert v.ok and v.problems == [], v
        assert "5 signatures verified" in v.summary


def test_untouched_bundle_verifies_also_rezipped_by_zip(lab: Lab) -> None:
    unpacked = lab.workdir()
    with zipfile.ZipFile(lab.bundle) as zf:
        zf.extractall(unpacked)
    rezipped = lab.workdir() / "rezipped.zip"
    subprocess.run([_zip_tool(), "-q", "-r", str(rezipped), "."], cwd=unpacked, check=True)
    with zipfile.ZipFile(rezipped) as zf:
        assert any(n.endswith("/") for n in zf.namelist())  # directory entries, in zip's own order
    for bundle in (lab.bundle, rezipped):
        for pins in (lab.by_key(), lab.by_fingerprint()):
            v = bundle_verdict(bundle, *pins)
            assert v.ok and v.problems == [] and "manifest signature verified" in v.summary, v
