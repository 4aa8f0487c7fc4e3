"""Snapshot + checks + mappings -> findings. Pure: no I/O, no clock but the snapshot's."""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from agent.models import CollectionError, Finding, Resource, Snapshot, Status, finding_uid
from checks.base import Check, CheckMeta, Context, MissingInput, Verdict

__all__ = ["evaluate", "scope_id"]

log = logging.getLogger(__name__)


def scope_id(snapshot: Snapshot, region: str, resource_type: str) -> str:
    """The id a finding carries when a whole scope could not be seen."""
    return f"scope:{snapshot.provider}/{snapshot.account}/{region or 'global'}/{resource_type}"


def _covers(err: CollectionError, resource: Resource) -> bool:
    return err.region in ("", "global", resource.region) or resource.region == "global"


def _run_one(chk: Check, resource: Resource, ctx: Context, starving: list[CollectionError]) -> Verdict:
    for err in starving:
        if _covers(err, resource):
            return Verdict(Status.ERROR, f"input missing: {err.summary()}")
    try:
        verdict = chk(resource, ctx)
    except MissingInput as exc:
        return Verdict(Status.ERROR, str(exc))
    except Exception as exc:  # a bug in one check must not sink the cycle
        log.exception("check %s crashed on %s", chk.id, resource.id)
        return Verdict(Status.ERROR, f"check failed to evaluate: {type(exc).__name__}: {exc}")
    if not isinstance(verdict, Verdict):
        return Verdict(Status.ERROR, f"check returned {type(verdict).__name__}, not a Verdict")
    return verdict


def evaluate(
    snapshot: Snapshot,
    checks: Iterable[Check],
    *,
    requirements: Mapping[str, tuple[str, ...]] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    uncollected: Collection[str] = (),
) -> list[Finding]:
    """Every check of the snapshot's provider over every resource of its type.

    A collection error on the check's own resource type yields one ``error`` finding for that
    (account, region, type) scope; an error on a type it ``requires`` turns each affected
    resource's result into ``error``, and so does a required type in ``uncollected`` (types the
    source leaves out, e.g. by its ``services``): an empty list there means "not looked", not "none".
    Nothing missing is ever reported as ``pass``.
    """
    requirements = requirements or {}
    params = params or {}
    now = snapshot.finished_at
    findings: list[Finding] = []
    for chk in checks:
        meta = chk.meta
        if meta.provider != snapshot.provider:
            continue
        ctx = Context(snapshot=snapshot, params={**meta.params, **params.get(meta.id, {})}, now=now)
        tags = requirements.get(meta.id, ())

        def emit(
            resource_id: str,
            rtype: str,
            region: str,
            verdict: Verdict,
            meta: CheckMeta = meta,
            tags: tuple[str, ...] = tags,
        ) -> None:
            findings.append(
                Finding(
                    uid=finding_uid(meta.id, resource_id),
                    check_id=meta.id,
                    resource_id=resource_id,
                    resource_type=rtype,
                    provider=snapshot.provider,
                    account=snapshot.account,
                    region=region,
                    status=verdict.status,
                    severity=meta.severity,
                    message=verdict.reason,
                    requirements=tags,
                    evaluated_at=now,
                    source=snapshot.source,
                    observed=verdict.observed,
                )
            )

        own_errors = snapshot.errors_for([meta.resource_type])
        seen_scopes: set[str] = set()
        for err in own_errors:
            sid = scope_id(snapshot, err.region, meta.resource_type)
            if sid in seen_scopes:
                continue
            seen_scopes.add(sid)
            emit(
                sid,
                meta.resource_type,
                err.region or "global",
                Verdict(Status.ERROR, f"could not list {meta.resource_type}: {err.summary()}"),
            )
        starving = snapshot.errors_for(meta.requires) if meta.requires else []
        unseen = sorted(set(meta.requires) & set(uncollected))
        for resource in snapshot.of_type(meta.resource_type):
            if unseen:
                verdict = Verdict(
                    Status.ERROR,
                    f"needs {', '.join(unseen)}, which this source does not collect (its services setting)",
                )
            else:
                verdict = _run_one(chk, resource, ctx, starving)
            emit(resource.id, resource.type, resource.region, verdict)
    return findings
