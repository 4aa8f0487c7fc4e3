"""`posture-agent drift --since 24h`: resource changes and finding transitions from the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from agent.cli.common import check_duration, console, open_store, resolve_config, write_output
from agent.cli.core import OutputFormat
from agent.drift import DRIFT_KINDS
from agent.errors import UsageError
from agent.models import isoformat, utcnow

__all__ = ["KINDS", "register"]

KINDS = DRIFT_KINDS


def _summary(row: dict[str, Any]) -> str:
    detail = json.loads(row["detail"] or "{}")
    if row["kind"] == "modified":
        lines = detail.get("summary", [])
        more = f" (+{len(lines) - 3} more)" if len(lines) > 3 else ""
        return "; ".join(lines[:3]) + more
    if row["check_id"]:
        return f"{row['previous_status'] or 'new'} -> {row['status']}: {detail.get('message', '')}"
    return ""


def register(app: typer.Typer) -> None:
    @app.command()
    def drift(
        since: Annotated[str, typer.Option("--since", help="How far back: 30m, 24h, 7d (at most 3650d).")] = "24h",
        source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
        kind: Annotated[list[str] | None, typer.Option("--kind", help=", ".join(KINDS))] = None,
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Store URL.")] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
        limit: Annotated[
            int, typer.Option(min=1, max=1_000_000, help="At most this many events (newest first).")
        ] = 500,
    ) -> None:
        """List drift events: resources added, removed or modified, and finding transitions."""
        from agent.store.drift_reads import recent_drift

        window = check_duration("--since", since)
        bad = [k for k in kind or () if k not in KINDS]
        if bad:
            raise UsageError(f"--kind: unknown kind {bad[0]!r}; choose from {', '.join(KINDS)}")
        cfg = resolve_config(config) if config else None
        cutoff = utcnow() - window
        store = open_store(db, cfg)
        try:
            rows = recent_drift(store, cutoff, source=source, kinds=kind, limit=limit)
        finally:
            store.close()
        if fmt == OutputFormat.json:
            write_output(
                [
                    {
                        **{k: v for k, v in r.items() if k != "detail"},
                        "at": isoformat(r["at"]),
                        "detail": json.loads(r["detail"] or "{}"),
                    }
                    for r in rows
                ],
                None,
            )
            return
        table = Table(title=f"Drift since {isoformat(cutoff)}")
        for col in ("at", "source", "account", "kind", "check", "resource", "what changed"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(
                isoformat(r["at"]),
                r["source"],
                r["account"],
                r["kind"],
                r["check_id"] or "-",
                r["resource_id"],
                _summary(r),
            )
        console.print(table)
        console.print(f"{len(rows)} events")
