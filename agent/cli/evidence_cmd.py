"""`posture-agent evidence ...`: manual evidence for manual controls.

The sub-app ``evidence_app`` is shared: other command modules add their own subcommands to it
(``@evidence_app.command("export")``) and it is registered once here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from agent.cli.mappings_cmd import ConfigOpt, DbOpt, FormatOpt, OutputFormat, open_store, resolve_scope
from agent.config import parse_duration
from agent.errors import UsageError

__all__ = ["evidence_app", "register"]

evidence_app = typer.Typer(name="evidence", help="Evidence: attach and list manual evidence.", no_args_is_help=True)


@evidence_app.command("attach")
def attach(
    control: Annotated[
        str,
        typer.Option(
            "--control",
            help="Manual control id, e.g. POL-INFOSEC, or a framework requirement covered by one manual control, "
            "e.g. SOC2:CC1.2",
        ),
    ],
    file: Annotated[Path, typer.Option("--file", help="The document to attach")],
    owner: Annotated[str, typer.Option("--owner", help="Person responsible for the document")],
    review_every: Annotated[str, typer.Option("--review-every", help="Review interval: 90d, 365d")] = "365d",
    config: ConfigOpt = None,
    db: DbOpt = None,
) -> None:
    """Store a document (SHA-256, size, name, owner, next review date and the bytes) for a manual control."""
    from agent.mappings import load_mappings
    from agent.store import manual

    try:
        interval = parse_duration(review_every)
    except ValueError as exc:
        raise UsageError(f"--review-every: {exc}") from None
    mappings = load_mappings()
    control_id = manual.resolve_control(control, mappings)
    # every check (control, file, owner, interval) before the database is touched
    prepared = manual.prepare(
        control_id=control_id, path=file, owner=owner, review_every=interval, controls=mappings.controls
    )
    scope = resolve_scope(config, db)
    store = open_store(scope.database, create=True)
    assert store is not None  # create=True always opens
    try:
        store.upgrade()
        rec = manual.store_prepared(store, prepared)
    finally:
        store.close()
    via = f" (the manual control behind {control})" if control_id != control else ""
    typer.echo(
        f"attached {rec.filename} to {rec.control_id}{via}: sha256 {rec.sha256}, {rec.size} bytes, "
        f"owner {rec.owner}, next review {rec.next_review.date().isoformat()}"
    )


@evidence_app.command("list")
def list_(
    control: Annotated[list[str] | None, typer.Option("--control", help="Only these controls")] = None,
    config: ConfigOpt = None,
    db: DbOpt = None,
    output: FormatOpt = OutputFormat.table,
) -> None:
    """Every attachment, with its state: current, overdue, or superseded by a later one."""
    from agent.store import manual

    scope = resolve_scope(config, db)
    store = open_store(scope.database)
    records = []
    if store is not None:
        try:
            records = manual.list_evidence(store, control_ids=control or ())
        finally:
            store.close()
    now = datetime.now(UTC)
    latest = {r.id for r in manual.latest_by_control(records).values()}
    rows = [
        {**r.to_dict(), "state": ("overdue" if r.overdue(now) else "current") if r.id in latest else "superseded"}
        for r in records
    ]
    if output is OutputFormat.json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no manual evidence attached; use `posture-agent evidence attach`")
        return
    typer.echo(
        f"{'ID':>4} {'CONTROL':<26} {'STATE':<10} {'NEXT REVIEW':<11} {'ATTACHED':<16} {'SIZE':>9} "
        f"{'SHA256':<12} {'OWNER':<16} FILE"
    )
    for r in rows:
        typer.echo(
            f"{r['id']:>4} {r['control_id']:<26} {r['state']:<10} {r['next_review'][:10]:<11} "
            f"{r['attached_at'][:16].replace('T', ' '):<16} {r['size']:>9} {r['sha256'][:12]:<12} "
            f"{r['owner'][:16]:<16} {r['filename']}"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(evidence_app, name="evidence")
