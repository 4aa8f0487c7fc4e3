"""Manual evidence: policy documents and other proof attached to manual controls.

Append-only in spirit: attaching again for the same control adds a row, and the latest row per
control is the one in force. The document itself is stored (zstd) with its SHA-256, and each
attachment is also entered in the evidence hash chain (kind ``manual_evidence``).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from agent.errors import StoreError, UsageError
from agent.store.blobs import compress, decompress
from agent.store.schema import UTCDateTime, metadata

if TYPE_CHECKING:
    from agent.mappings import Mappings

__all__ = [
    "EvidenceRecord",
    "MAX_BYTES",
    "Prepared",
    "attach",
    "latest_by_control",
    "list_evidence",
    "manual_evidence",
    "prepare",
    "read_content",
    "resolve_control",
    "store_prepared",
]

MAX_BYTES = 100 * 1024 * 1024

manual_evidence = Table(
    "manual_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("control_id", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("owner", String(128), nullable=False),
    Column("attached_at", UTCDateTime, nullable=False),
    Column("review_every_days", Integer, nullable=False),
    Column("next_review", UTCDateTime, nullable=False),
    Column("content", LargeBinary, nullable=False),  # zstd of the document's bytes
    Index("ix_manual_evidence_control", "control_id", "attached_at"),
)

_COLUMNS = [c for c in manual_evidence.c if c.name != "content"]


@dataclass(frozen=True, kw_only=True)
class EvidenceRecord:
    id: int
    control_id: str
    filename: str
    sha256: str
    size: int
    owner: str
    attached_at: datetime
    review_every_days: int
    next_review: datetime

    def overdue(self, now: datetime) -> bool:
        return now > self.next_review

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["attached_at"] = self.attached_at.isoformat()
        d["next_review"] = self.next_review.isoformat()
        return d


def _record(row: Any) -> EvidenceRecord:
    return EvidenceRecord(**{c.name: getattr(row, c.name) for c in _COLUMNS})


def _check_control(control_id: str, controls: Mapping[str, Any]) -> None:
    control = controls.get(control_id)
    if control is None:
        close = difflib.get_close_matches(control_id.upper(), list(controls), n=1)
        hint = f"; did you mean {close[0]}?" if close else "; see `posture-agent controls`"
        raise UsageError(f"unknown control id {control_id!r}{hint}")
    if getattr(control, "kind", "manual") != "manual":
        raise UsageError(
            f"control {control_id} is automated (tested by checks); evidence can be attached to manual controls only"
        )


def resolve_control(control: str, mappings: Mappings) -> str:
    """The manual control ``control`` names: a control id as given, or for a framework requirement ref
    (``SOC2:CC1.2``) the one manual control that covers it. Raises UsageError, in one line, when the
    requirement is unknown, covered by no manual control, or by several (naming them)."""
    if control in mappings.controls or ":" not in control:
        return control  # a control id: prepare() checks it
    req = mappings.requirement(control)
    if req is None:
        raise UsageError(f"unknown control id or requirement {control!r} (e.g. POL-INFOSEC or SOC2:CC1.2)")
    manual = mappings.manual_controls(req)
    if len(manual) == 1:
        return manual[0]
    if not manual:
        raise UsageError(
            f"{req.ref} is covered by automated controls only ({len(req.controls)}, tested by checks): "
            "there is no document to attach for it"
        )
    raise UsageError(
        f"{req.ref} is covered by {len(manual)} manual controls: {', '.join(manual)}; "
        "attach the document to one of them with --control"
    )


def _read_file(path: Path) -> bytes:
    try:  # exists() itself raises for a name the system refuses (too long, a loop of links)
        found, regular = path.exists(), path.is_file()
    except OSError as exc:
        raise UsageError(f"cannot read evidence file {_short(path)}: {exc.strerror or exc}") from None
    if not found:
        raise UsageError(f"evidence file not found: {path}")
    if not regular:
        raise UsageError(f"evidence path is not a regular file: {path}")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise UsageError(f"evidence file {path} is {size} bytes; the limit is {MAX_BYTES}")
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read evidence file {path}: {exc.strerror or exc}") from None
    if not data:
        raise UsageError(f"evidence file {path} is empty")
    return data


def _short(path: Path, limit: int = 120) -> str:
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 2 :]} ({len(text)} characters)"


@dataclass(frozen=True)
class Prepared:
    """An attachment checked and read, not yet stored."""

    control_id: str
    filename: str
    owner: str
    review_every_days: int
    data: bytes


def prepare(
    *, control_id: str, path: str | Path, owner: str, review_every: timedelta, controls: Mapping[str, Any]
) -> Prepared:
    """Check the control, owner and interval and read the file; raises UsageError on any problem."""
    _check_control(control_id, controls)
    owner = owner.strip()
    if not owner:
        raise UsageError("--owner must name the person responsible for the document")
    if len(owner) > 128:
        raise UsageError("--owner is longer than 128 characters")
    if review_every < timedelta(days=1) or review_every % timedelta(days=1):
        raise UsageError("--review-every must be a whole number of days, e.g. 90d or 365d")
    p = Path(path).expanduser()
    data = _read_file(p)
    return Prepared(
        control_id=control_id, filename=p.name[:255], owner=owner, review_every_days=review_every.days, data=data
    )


def store_prepared(store: Any, prepared: Prepared, now: datetime | None = None) -> EvidenceRecord:
    """Store the document and its evidence-chain entry in one transaction."""
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    data = prepared.data
    row: dict[str, Any] = {
        "control_id": prepared.control_id,
        "filename": prepared.filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
        "owner": prepared.owner,
        "attached_at": at,
        "review_every_days": prepared.review_every_days,
        "next_review": at + timedelta(days=prepared.review_every_days),
    }
    try:
        with store.transaction() as conn:
            new_id = conn.execute(
                insert(manual_evidence).values(**row, content=compress(data)).returning(manual_evidence.c.id)
            ).scalar_one()
            store.append_evidence(
                conn, at=at, kind="manual_evidence", ref=f"manual_evidence:{new_id}", content={**row, "id": new_id}
            )
    except SQLAlchemyError as exc:
        raise StoreError(f"could not store evidence: {type(exc).__name__}: {getattr(exc, 'orig', exc)}") from None
    return EvidenceRecord(id=new_id, **row)


def attach(
    store: Any,
    *,
    control_id: str,
    path: str | Path,
    owner: str,
    review_every: timedelta,
    controls: Mapping[str, Any],
    now: datetime | None = None,
) -> EvidenceRecord:
    """Validate everything first (control, file, owner, interval), then store the document and its
    evidence-chain entry in one transaction. Raises UsageError with nothing stored."""
    prepared = prepare(control_id=control_id, path=path, owner=owner, review_every=review_every, controls=controls)
    return store_prepared(store, prepared, now)


def list_evidence(store: Any, *, control_ids: Iterable[str] = ()) -> list[EvidenceRecord]:
    """Every attachment (without the document bytes), by control then time."""
    if not store.has_table("manual_evidence"):
        return []
    q = select(*_COLUMNS)
    ids = list(control_ids)
    if ids:
        q = q.where(manual_evidence.c.control_id.in_(ids))
    q = q.order_by(manual_evidence.c.control_id, manual_evidence.c.attached_at, manual_evidence.c.id)
    with store.engine.connect() as conn:
        return [_record(r) for r in conn.execute(q)]


def records_in(conn: Any) -> list[EvidenceRecord]:
    """Every attachment, read through the caller's connection (e.g. inside a cycle's transaction)."""
    return [_record(r) for r in conn.execute(select(*_COLUMNS))]


def latest_by_control(records: Iterable[EvidenceRecord]) -> dict[str, EvidenceRecord]:
    """The attachment in force for each control: the latest one."""
    out: dict[str, EvidenceRecord] = {}
    for r in records:
        cur = out.get(r.control_id)
        if cur is None or (r.attached_at, r.id) > (cur.attached_at, cur.id):
            out[r.control_id] = r
    return out


def read_content(store: Any, evidence_id: int) -> bytes:
    """The stored document, verified against its SHA-256."""
    with store.engine.connect() as conn:
        row = conn.execute(
            select(manual_evidence.c.content, manual_evidence.c.sha256).where(manual_evidence.c.id == evidence_id)
        ).first()
    if row is None:
        raise StoreError(f"no manual evidence {evidence_id}")
    data = decompress(row.content)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise StoreError(f"manual evidence {evidence_id} does not match its recorded SHA-256")
    return data
