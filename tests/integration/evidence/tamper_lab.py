"""The tamper matrix's laboratory (tests/integration/evidence/test_tamper_matrix.py).

One pristine history per database, written the way the daemon writes it: signed checkpoints, each
witnessed right away by OpenSSL's TSA on loopback and copied to an Object Lock bucket in moto, with
cycles, a drift event, an exception and a manual document between them. It is built once per module
and database; every attack gets a copy (SQLite: the backup API; PostgreSQL: CREATE DATABASE ...
TEMPLATE) or, when the attack writes to the bucket itself, a history of its own (a store id of its
own, so its copies never meet the pristine one's).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from posture_verify.checkpoints import announce_value, body

from agent.config import AnchorsConfig
from agent.evidence.anchoring import Anchorer
from agent.evidence.checkpoints import Signer, checkpoint_now, public_pem
from agent.evidence.export import export_bundle
from agent.evidence.store_records import load_store_records
from agent.exceptions import add_exception
from agent.mappings import Mappings, load_mappings
from agent.models import sha256_hex, utcnow
from agent.store import Store
from agent.store.blobs import decompress
from agent.store.manual import Prepared, store_prepared
from agent.store.schema import Sha256Hex, blobs
from tests.conftest import IN_CI, PG_URL
from tests.integration.evidence.helpers import CHECK, bucket, cycle, drift
from tests.integration.evidence.tsa import AnchorBucket

OK = (bucket("b0"), bucket("b1"))
B1_OPEN = (bucket("b0"), bucket("b1", encrypted=False))
B0_OPEN = (bucket("b0", encrypted=False), bucket("b1"))
DOCUMENT = b"%PDF access policy, reviewed yearly"


def new_signer() -> Signer:
    return Signer(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


# -- SQL by someone holding the database ---------------------------------------------------------------


def tamper(store: Store, *statements: str | tuple[str, dict[str, Any]]) -> None:
    """Statements run with the append-only triggers out of the way: dropped on SQLite, disabled on
    every table on PostgreSQL (the owner of the tables may)."""
    with store.engine.begin() as conn:
        if store.dialect == "sqlite":
            for (name,) in conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all():
                conn.execute(sa.text(f'DROP TRIGGER "{name}"'))
        else:
            for (table,) in conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).all():
                conn.execute(sa.text(f'ALTER TABLE "{table}" DISABLE TRIGGER USER'))
        for stmt in statements:
            sql, params = (stmt, {}) if isinstance(stmt, str) else stmt
            # a parameter named *_hash is a SHA-256 column: bytea on PostgreSQL (agent.store.schema.Sha256Hex)
            typed = [sa.bindparam(k, type_=Sha256Hex()) for k in params if k.endswith("_hash")]
            conn.execute(sa.text(sql).bindparams(*typed), params)


# a checkpoint's own witness rows; a TSA's certificate row stays: it holds the chain and the reference
# token the later tokens are packed against, and an operator covering their tracks keeps it
WITNESS_ROWS = "kind IN ('rfc3161', 's3')"


def truncate_after(store: Store, seq: int) -> None:
    """The chain after entry ``seq`` removed with the rows it committed to, every checkpoint committing
    to it and their witness rows: what is left is consistent."""
    later = f"SELECT ref FROM evidence_log WHERE seq > {seq} AND kind = 'cycle'"
    witnessed = f"SELECT seq FROM evidence_checkpoints WHERE head_seq > {seq}"
    tamper(
        store,
        f"DELETE FROM finding_events WHERE snapshot_id IN (SELECT id FROM snapshots WHERE run_id IN ({later}))",
        f"DELETE FROM snapshots WHERE run_id IN ({later})",
        f"DELETE FROM runs WHERE id IN ({later})",
        f"DELETE FROM evidence_log WHERE seq > {seq}",
        f"DELETE FROM evidence_anchors WHERE {WITNESS_ROWS} AND checkpoint_seq IN ({witnessed})",
        f"DELETE FROM evidence_checkpoints WHERE head_seq > {seq}",
    )
    store._states.clear()  # what the writer remembers of the removed cycles


def remove_checkpoints(store: Store, where: str) -> None:
    """Checkpoints removed with their witness rows (``where`` on seq), nothing else."""
    tamper(
        store,
        f"DELETE FROM evidence_anchors WHERE {WITNESS_ROWS} AND checkpoint_seq IN "
        f"(SELECT seq FROM evidence_checkpoints WHERE {where})",
        f"DELETE FROM evidence_checkpoints WHERE {where}",
    )


def resign_from(store: Store, signer: Signer, first: int) -> None:
    """Checkpoints ``first`` on signed again by ``signer``, consistently: the links and hashes
    recomputed, the first of them announcing the key (as a key that replaced another without a
    rotation does). The witness rows are left as they were."""
    prev, stmts = "0" * 64, []
    for c in load_store_records(store).checkpoints:
        if c["seq"] >= first:
            c = {
                **c,
                "prev_hash": prev,
                "key_id": signer.fingerprint,
                "rotate_to": None,
                "announce": announce_value(signer.public) if c["seq"] == first else None,
            }
            data = body(c)
            c["checkpoint_hash"], c["signature"] = sha256_hex(data), signer.sign(data)
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
        prev = c["checkpoint_hash"]
    tamper(store, *stmts)


def resource_blob(store: Store, name: str, encrypted: bool) -> str:
    """The address of the stored body of bucket ``name`` in the given state."""
    with store.engine.connect() as conn:
        b = blobs  # through the table: the hash is bytea on PostgreSQL, hex to the code
        for h, raw in conn.execute(sa.select(b.c.hash, b.c.body).where(b.c.kind == "resource")).all():
            doc = json.loads(decompress(bytes(raw)))
            if doc["name"] == name and doc["attributes"]["Encrypted"] is encrypted:
                return str(h)
    raise AssertionError(f"no blob of {name} encrypted={encrypted}")


# -- the history ---------------------------------------------------------------------------------------------


@dataclass
class Facts:
    """What the attacks aim at, read from the history once it is written."""

    heads: dict[int, int]  # checkpoint seq -> the entry seq it commits to
    snapshots: list[int]  # in order: s[1] and s[2] leave b1 unencrypted, s[3] b0
    runs: dict[int, str]  # snapshot id -> run id
    start: datetime


def _checkpointer(
    store: Store, signer: Signer, anchorer: Anchorer | None, cadence_s: int | None = None
) -> Callable[[datetime | None], None]:
    def write(at: datetime | None) -> None:
        """A checkpoint at the agent's clock ``at`` (default: the real one), anchored right away as the
        daemon does: its witnesses' times are the TSA's and the bucket's, whatever the agent's clock."""
        when = at or utcnow()
        checkpoint_now(store, when, signer, cadence_s=cadence_s)
        if anchorer is not None:
            res = anchorer.run(now=when)
            assert res.failed == 0 and res.anchored == 2, res

    return write


def write_history(store: Store, signer: Signer, anchors: AnchorsConfig) -> Facts:
    """Five witnessed checkpoints around six cycles, a drift event, an exception and a document."""
    start = utcnow()
    anchorer = Anchorer(store, anchors)
    try:
        checkpoint = _checkpointer(store, signer, anchorer)
        checkpoint(None)  # 1: the agent starts, announcing its key
        s = [cycle(store, utcnow(), OK), cycle(store, utcnow(), B1_OPEN)]
        drift(store, utcnow(), s[1], "arn:aws:s3:::b1")
        add_exception(
            store,
            check_id=CHECK,
            resource_pattern="arn:aws:s3:::legacy-*",
            reason="migrating",
            owner="alice",
            expires_at=utcnow() + timedelta(days=30),
            now=utcnow(),
        )
        checkpoint(None)  # 2
        store_prepared(
            store,
            Prepared(control_id="POL-ACCESS", filename="access.pdf", owner="bob", review_every_days=365, data=DOCUMENT),
            now=utcnow(),
        )
        s.append(cycle(store, utcnow(), B1_OPEN))
        checkpoint(None)  # 3
        s += [cycle(store, utcnow(), B0_OPEN), cycle(store, utcnow(), OK)]
        checkpoint(None)  # 4
        s.append(cycle(store, utcnow(), OK))
        checkpoint(None)  # 5: the last
    finally:
        anchorer.close()
    with store.engine.connect() as conn:
        heads = {int(a): int(b) for a, b in conn.execute(sa.text("SELECT seq, head_seq FROM evidence_checkpoints"))}
        runs = {int(a): str(b) for a, b in conn.execute(sa.text("SELECT id, run_id FROM snapshots"))}
    return Facts(heads=heads, snapshots=s, runs=runs, start=start)


def fabricate_month(store: Store, signer: Signer, anchors: AnchorsConfig | None) -> None:
    """A month written today by the key holder with the agent's clock set back: a checkpoint a day
    (the cadence they sign), two cycles a day, b1 always encrypted; witnessed as the daemon would
    (``anchors``), or not at all."""
    now = utcnow()
    past = now - timedelta(days=30)
    anchorer = Anchorer(store, anchors) if anchors is not None else None
    try:
        checkpoint = _checkpointer(store, signer, anchorer, cadence_s=86400)
        for day in range(31):
            at = past + timedelta(days=day)
            checkpoint(at)
            if day < 30:
                cycle(store, at + timedelta(hours=1), OK)
                cycle(store, at + timedelta(hours=13), OK)
    finally:
        if anchorer is not None:
            anchorer.close()


def backfill_month(store: Store, signer: Signer, anchors: AnchorsConfig) -> None:
    """A month of cycles written today with the clock set back, then one checkpoint at the real time,
    witnessed right away, that signs a cadence longer than the month: its own time and its witnesses
    agree, and the cadence it declares covers every entry before it."""
    now = utcnow()
    for day in range(30):
        cycle(store, now - timedelta(days=30 - day), OK)
    anchorer = Anchorer(store, anchors)
    try:
        _checkpointer(store, signer, anchorer, cadence_s=32 * 86400)(None)
    finally:
        anchorer.close()


# -- databases -----------------------------------------------------------------------------------------------


class Databases:
    """Stores of one kind: empty ones, and copies of a closed one; all closed and dropped by close()."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind, self.tmp = kind, tmp
        self._created: list[str] = []
        self._open: list[Store] = []
        self._admin: sa.Engine | None = None
        if kind == "postgresql":
            self._admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                allowed = conn.execute(
                    sa.text("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
                ).scalar()
            if not allowed:
                msg = f"the PostgreSQL user of {PG_URL} may not CREATE DATABASE: the tamper matrix copies its store"
                if IN_CI:
                    pytest.fail(msg, pytrace=False)
                pytest.skip(f"LOUD SKIP: {msg}")

    def _url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.tmp / (name + '.db')}"
        return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        assert self._admin is not None
        with self._admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self._created.append(name)

    def empty(self) -> tuple[str, Store]:
        name = f"tamper_{uuid.uuid4().hex[:12]}"
        if self.kind == "postgresql":
            self._create(name)
        store = Store(self._url(name))
        self._open.append(store)
        store.upgrade()
        return name, store

    def copy(self, name: str) -> Store:
        """A copy of the closed store ``name``."""
        new = f"tamper_{uuid.uuid4().hex[:12]}"
        if self.kind == "postgresql":
            self._create(new, template=name)
        else:
            with sqlite3.connect(self.tmp / f"{name}.db") as src, sqlite3.connect(self.tmp / f"{new}.db") as dst:
                src.backup(dst)
            src.close()
            dst.close()
        store = Store(self._url(new))
        self._open.append(store)
        return store

    def close(self) -> None:
        for store in self._open:
            store.close()
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            for name in self._created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


# -- the laboratory -------------------------------------------------------------------------------------------


@dataclass
class Lab:
    """A pristine history (closed: attacks get copies), its bundle, and the auditor's pins."""

    dbs: Databases
    name: str
    signer: Signer
    anchors: AnchorsConfig
    bucket: AnchorBucket
    tsa_pem: Path
    key_pem: Path
    facts: Facts
    bundle: Path
    tmp: Path

    def store(self) -> Store:
        """A copy of the pristine store."""
        return self.dbs.copy(self.name)

    def fresh(self) -> Store:
        """An empty store (a store id of its own once it checkpoints)."""
        return self.dbs.empty()[1]

    def witnesses(self) -> list[str]:
        return [
            "--tsa-cert",
            str(self.tsa_pem),
            "--anchor-bucket",
            self.bucket.url,
            "--s3-endpoint",
            self.bucket.endpoint,
        ]

    def by_key(self) -> list[str]:
        """The auditor pinned the public key, and every witness."""
        return ["--public-key", str(self.key_pem), *self.witnesses()]

    def by_fingerprint(self) -> list[str]:
        """The auditor pinned the key's fingerprint, and every witness."""
        return ["--key-fingerprint", self.signer.fingerprint, *self.witnesses()]

    def export(
        self,
        store: Store,
        signer: Signer | None = None,
        start: datetime | None = None,
        mappings: Mappings | None = None,
    ) -> Path:
        """The operator's export of the period, signed with their current key and witnessed."""
        out = self.tmp / f"{uuid.uuid4().hex[:8]}" / "bundle.zip"
        out.parent.mkdir()
        export_bundle(
            store,
            mappings or load_mappings(),
            framework="soc2",
            start=start or self.facts.start - timedelta(hours=1),
            end=utcnow() + timedelta(hours=1),
            out=out,
            signer=signer or self.signer,
            anchors=self.anchors,
        )
        return out

    def workdir(self) -> Path:
        out = self.tmp / f"{uuid.uuid4().hex[:8]}"
        out.mkdir()
        return out


def open_lab(
    kind: str, tmp: Path, signer: Signer, anchors: AnchorsConfig, bucket_: AnchorBucket, tsa_pem: Path
) -> Iterator[Lab]:
    """The pristine history written, exported (signed and witnessed), closed; its copies dropped after."""
    dbs = Databases(kind, tmp)
    try:
        name, store = dbs.empty()
        key_pem = tmp / "signing-public.pem"
        key_pem.write_bytes(public_pem(signer.public))
        try:
            lab = Lab(
                dbs=dbs,
                name=name,
                signer=signer,
                anchors=anchors,
                bucket=bucket_,
                tsa_pem=tsa_pem,
                key_pem=key_pem,
                facts=write_history(store, signer, anchors),
                bundle=tmp / "pristine" / "bundle.zip",
                tmp=tmp,
            )
            lab.bundle.parent.mkdir()
            shutil.copy(lab.export(store), lab.bundle)
        finally:
            store.close()  # PostgreSQL copies it as a template: no connection may stay open
        yield lab
    finally:
        dbs.close()
