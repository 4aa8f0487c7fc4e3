"""RFC 3161 tokens checked in a second process while the chain is checked in this one.

A year of hourly checkpoints carries some 9,000 tokens: about a fifth of a verification, and independent
of the chain. Above ``PARALLEL_TOKENS`` they are checked by a spawned worker (a fresh interpreter: no
state of this process is shared, so the outcome is the one an in-process check gives), started before
the chain and collected when the witnesses are judged. Where no process can be started, or the worker
fails, the tokens are checked here as before.
"""

from __future__ import annotations

import base64
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from posture_verify import checkpoints as cps
from posture_verify.records import Records
from posture_verify.rfc3161 import Checked, TsaCerts, check_token, parse_response

__all__ = ["PARALLEL_TOKENS", "TokenChecks", "TokenJob", "check_tokens", "recorded_certs", "token_job"]

PARALLEL_TOKENS = 512

# (der, the checkpoint body it is about, the request's nonce)
TokenJob = tuple[bytes, bytes, int | None]


def token_job(w: dict[str, Any], checkpoint: dict[str, Any] | None) -> TokenJob | None:
    """What checking token record ``w`` needs, or None when it cannot be checked (its checkpoint missing,
    its data not base64 DER, its nonce not a number): the caller names those."""
    if checkpoint is None:
        return None
    try:
        der = base64.b64decode(str(w.get("data") or ""), validate=True)
        nonce_text = (w.get("detail") or {}).get("nonce")
        nonce = int(nonce_text) if nonce_text is not None else None
    except (ValueError, TypeError):
        return None
    return der, cps.body(checkpoint), nonce


def check_tokens(jobs: Sequence[TokenJob], pinned: Sequence[bytes], recorded: Sequence[str]) -> list[Checked]:
    """Every job's outcome, in order: the TSA certificates pinned (PEM) and recorded with the tokens
    (PEM), each token parsed once and the chains checked at their first and last genTime."""
    certs = TsaCerts(pinned)
    for pem in recorded:
        try:
            certs.add_pem(pem)
        except ValueError:
            continue  # named by the caller
    parsed: list[Any] = []
    for der, _, _ in jobs:
        try:
            parsed.append(parse_response(der))
        except ValueError:
            parsed.append(None)
    certs.expect(p for p in parsed if p is not None)
    return [check_token(der, body, certs, nonce, p) for (der, body, nonce), p in zip(jobs, parsed, strict=True)]


def recorded_certs(rec: Records) -> list[str]:
    """The TSA certificates (PEM) recorded with the tokens, once per TSA."""
    return [
        str(pem)
        for w in rec.witnesses
        if w.get("kind") == "rfc3161-certs"
        for pem in (w.get("detail") or {}).get("certs", [])
    ]


class TokenChecks:
    """The outcome of every checkable token of ``rec`` by the id() of its record, computed in a worker
    process when there are ``parallel_from`` or more (``start``), else on demand (``results``)."""

    def __init__(self, rec: Records, pinned: Sequence[bytes], parallel_from: int = PARALLEL_TOKENS) -> None:
        self._parallel_from = parallel_from
        by_seq = {int(c["seq"]): c for c in rec.checkpoints}
        self._ids: list[int] = []
        self._jobs: list[TokenJob] = []
        for w in rec.witnesses:
            if w.get("kind") != "rfc3161":
                continue
            job = token_job(w, by_seq.get(int(w.get("checkpoint_seq") or 0)))
            if job is not None:
                self._ids.append(id(w))
                self._jobs.append(job)
        self._pinned, self._recorded = list(pinned), recorded_certs(rec)
        self._pool: ProcessPoolExecutor | None = None
        self._future: Future[list[Checked]] | None = None

    def start(self) -> TokenChecks:
        if self._jobs and len(self._jobs) >= self._parallel_from:
            try:
                self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
                self._future = self._pool.submit(check_tokens, self._jobs, self._pinned, self._recorded)
            except (OSError, RuntimeError, ValueError):
                self._close()
        return self

    def results(self) -> dict[int, Checked]:
        out: list[Checked] | None = None
        if self._future is not None:
            try:
                out = self._future.result()
            except Exception:  # the worker died or could not start: checked here instead  # noqa: BLE001
                out = None
            self._close()
        if out is None or len(out) != len(self._jobs):
            out = check_tokens(self._jobs, self._pinned, self._recorded)
        return dict(zip(self._ids, out, strict=True))

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool, self._future = None, None
