"""The evidence_anchors table: the witnesses of checkpoints (agent.evidence.anchoring obtains them).

Tokens of one TSA differ in a few fields (imprint, serial, time, nonce, digest, signature): each is
stored zstd-compressed against the first token of its TSA certificate, kept in that certificate's
rfc3161-certs row (about 190 bytes instead of 630 for OpenSSL's TSA). Readers get the DER back, so
the verifier and bundles never see the packing (like zstd blob bodies).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from agent.store.db import Store
from agent.store.evidence_tables import evidence_anchors as an
from agent.store.evidence_tables import evidence_checkpoints as cp
from agent.store.rows import norm

__all__ = [
    "CertificateRow",
    "certificate_rows",
    "insert_receipt",
    "insert_token",
    "load_witness_rows",
    "recent",
]


@dataclass(frozen=True)
class CertificateRow:
    """An rfc3161-certs row: a TSA's certificate chain (``detail``: JSON) and its reference token."""

    id: int
    witness: str
    detail: str
    reference: bytes


def _zstd_dict(reference: bytes) -> Any:
    import zstandard

    return zstandard.ZstdCompressionDict(reference, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _pack(token: bytes, reference: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(
        level=19, dict_data=_zstd_dict(reference), write_checksum=False, write_dict_id=False
    ).compress(token)


def _unpack(packed: bytes, reference: bytes) -> bytes:
    import zstandard

    try:
        return zstandard.ZstdDecompressor(dict_data=_zstd_dict(reference)).decompress(packed, max_output_size=1 << 20)
    except zstandard.ZstdError:
        return packed  # altered: handed over as is, and the verifier names an unreadable token


def _row_json(r: Any, references: dict[int, bytes]) -> dict[str, Any]:
    out = norm({k: getattr(r, k) for k in ("checkpoint_seq", "kind", "witness", "at")})
    try:
        detail = json.loads(r.detail)
    except ValueError:
        detail = {"unreadable": r.detail}  # an altered row: the verifier names it
    data = bytes(r.data) if r.data is not None and r.kind == "rfc3161" else None
    if data is not None and isinstance(detail, dict) and "ref" in detail:
        data = _unpack(data, references.get(int(detail.pop("ref") or 0), b""))
    out["detail"] = detail
    out["data"] = base64.b64encode(data).decode() if data is not None else None
    return out


def load_witness_rows(conn: Connection, seqs: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """Witness rows in the verifier's JSON form (tokens as their DER): every row (``seqs`` None), or
    those of the given checkpoints plus every TSA certificate row (a bundle needs the chains)."""
    rows = conn.execute(select(an).order_by(an.c.id)).all()
    references = {int(r.id): bytes(r.data) for r in rows if r.kind == "rfc3161-certs" and r.data is not None}
    wanted = set(seqs) if seqs is not None else None
    return [
        _row_json(r, references)
        for r in rows
        if wanted is None or r.kind == "rfc3161-certs" or int(r.checkpoint_seq) in wanted
    ]


def certificate_rows(store: Store) -> list[CertificateRow]:
    """Every TSA certificate row, oldest first."""
    with store.engine.connect() as conn:
        return [
            CertificateRow(int(r.id), r.witness, r.detail, bytes(r.data or b""))
            for r in conn.execute(
                select(an.c.id, an.c.witness, an.c.detail, an.c.data)
                .where(an.c.kind == "rfc3161-certs")
                .order_by(an.c.id)
            )
        ]


def _with_store(conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Version-2 checkpoint rows with the store id their bodies name (kept once, in evidence_store)."""
    if not any(r.get("v") for r in rows):
        return rows
    try:
        store_id = conn.execute(text("SELECT store_id FROM evidence_store WHERE id = 1")).scalar()
    except SQLAlchemyError:
        store_id = None
    for r in rows:
        if r.get("v"):
            r.setdefault("store", store_id)
    return rows


def recent(store: Store, *, checkpoints: int, witnesses: int) -> tuple[list[dict[str, Any]], set[tuple[int, str, str]]]:
    """The last ``checkpoints`` checkpoints, newest first, in the verifier's JSON form (with their
    store); and (checkpoint seq, kind, witness) of the last ``witnesses`` witness rows."""
    with store.engine.connect() as conn:
        recent = _with_store(
            conn, [norm(r) for r in conn.execute(select(cp).order_by(cp.c.seq.desc()).limit(checkpoints))]
        )
        done = {
            (int(r.checkpoint_seq), r.kind, r.witness)
            for r in conn.execute(
                select(an.c.checkpoint_seq, an.c.kind, an.c.witness).order_by(an.c.id.desc()).limit(witnesses)
            )
        }
    return recent, done


def insert_token(
    store: Store,
    *,
    checkpoint_seq: int,
    witness: str,
    at: datetime,
    der: bytes,
    nonce: int,
    reference: tuple[int, bytes] | None,
    certs: list[str] | None = None,
) -> tuple[int, bytes]:
    """Record an RFC 3161 token of a checkpoint, packed against ``reference`` (the id and token of its
    TSA certificate's row). Without a reference, the certificate row is written first in the same
    transaction (``certs``: the chain as PEM) with this token as the reference. Returns the reference."""
    with store.transaction() as conn:
        if reference is None:
            detail = {"certs": list(certs or [])}
            row_id = conn.execute(
                insert(an).values(
                    checkpoint_seq=checkpoint_seq,
                    kind="rfc3161-certs",
                    witness=witness,
                    at=at,
                    data=der,
                    detail=json.dumps(detail, separators=(",", ":")),
                )
            ).inserted_primary_key
            assert row_id is not None
            reference = (int(row_id[0]), der)
        conn.execute(
            insert(an).values(
                checkpoint_seq=checkpoint_seq,
                kind="rfc3161",
                witness=witness,
                at=at,
                data=_pack(der, reference[1]),
                detail=json.dumps({"nonce": str(nonce), "ref": reference[0]}, separators=(",", ":")),
            )
        )
    return reference


def insert_receipt(store: Store, *, checkpoint_seq: int, witness: str, at: datetime, detail: str) -> None:
    """Record the receipt of a checkpoint's copy in an Object Lock bucket (``detail``: JSON)."""
    with store.transaction() as conn:
        conn.execute(
            insert(an),
            [
                {
                    "checkpoint_seq": checkpoint_seq,
                    "kind": "s3",
                    "witness": witness,
                    "at": at,
                    "data": None,
                    "detail": detail,
                }
            ],
        )
