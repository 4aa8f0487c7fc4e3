"""The Google Workspace collector: one snapshot per customer (collectors/googleworkspace/directory.py).

Credentials that cannot be used (an unreadable key, a grant the token endpoint refuses) are recorded
as CollectionErrors on the snapshot, like any other read that failed: every check then reports
error, and findings that passed before do not stay pass while nothing can be read.
"""

from __future__ import annotations

import logging

from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.googleworkspace.auth import CredentialsError, read_key
from collectors.googleworkspace.config import WorkspaceSource
from collectors.googleworkspace.directory import collect_directory, failed
from collectors.googleworkspace.http import WorkspaceHttp

__all__ = ["collect"]

log = logging.getLogger(__name__)


def collect(source: WorkspaceSource, ctx: CollectContext) -> list[Snapshot]:
    """Read-only collection of one Google Workspace customer."""
    started = utcnow()
    ctx.progress.add_total(1)
    resources: list[Resource]
    errors: list[CollectionError]
    try:
        key = read_key(source.credentials)
    except CredentialsError as exc:
        log.warning("googleworkspace credentials unusable", extra={"source": source.name, "why": str(exc)})
        resources, errors = [], failed("InvalidCredentials", str(exc))
    else:
        with WorkspaceHttp(source, key, ctx) as http:
            resources, errors = collect_directory(http, source)
    ctx.progress.advance(1, f"google workspace {source.account}")
    return [
        Snapshot(
            source=source.name,
            provider="googleworkspace",
            account=source.account,
            started_at=started,
            finished_at=utcnow(),
            resources=tuple(resources),
            errors=tuple(errors),
        )
    ]
