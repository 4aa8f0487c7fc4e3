"""`posture-agent drift --since 24h`: resource changes and finding transitions from the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from agent.cli.common import console, open_store, resolve_config, write_output
from agent.config import parse_duration
from agent.errors import UsageError
from agent.models import isoformat, utcnow
from agent.store.drift_reads import recent_drift

__all__ = ["register"]


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
        since: Annotated[str, typer.Option("--since", help="How far back: 30m, 24h, 7d.")] = "24h",
        source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
        kind: Annotated[
            list[str] | None,
            typer.Option(
                "--kind",
                help="added, removed, modified, regressed, resolved, new_failing, error, gone, excepted",
            ),
        ] = None,
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Store URL.")] = None,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
        limit: Annotated[int, typer.Option(help="At most this many events (newest first).")] = 500,
    ) -> None:
        """List drift events: resources added, removed or modified, and finding transitions."""
        try:
            cutoff = utcnow() - parse_duration(since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
        store = open_store(db, resolve_config(config) if config else None)
        try:
            rows = recent_drift(store, cutoff, source=source, kinds=kind, limit=limit)
        finally:
            store.close()
        if fmt == "json":
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
