"""`posture-agent sweeps --since 7d`: the scheduler's sweeps (run --role scheduler) and, for each,
how many accounts were expected, recorded, failed, or are gaps: a dead worker shows here."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agent.cli.common import check_duration, console, open_store, resolve_config, write_output
from agent.cli.core import OutputFormat
from agent.models import isoformat, utcnow

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command()
    def sweeps(
        since: Annotated[str, typer.Option("--since", help="How far back: 30m, 24h, 7d (at most 3650d).")] = "7d",
        source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Store URL.")] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    ) -> None:
        """List the sweeps of a scaled deployment: accounts expected, recorded, failed and gaps."""
        window = check_duration("--since", since)
        cfg = resolve_config(config) if config else None
        store = open_store(db, cfg)
        try:
            if not store.has_table("sweeps"):
                rows = []
            else:
                from agent.store.sweep_rows import sweep_summaries

                rows = sweep_summaries(store, utcnow() - window, source=source)
        finally:
            store.close()
        if fmt == OutputFormat.json:
            write_output(
                [
                    {
                        "id": r.id,
                        "source": r.source,
                        "started_at": isoformat(r.started_at),
                        "deadline": isoformat(r.deadline),
                        "closed_at": isoformat(r.closed_at) if r.closed_at else None,
                        "expected": r.expected,
                        "recorded": r.recorded,
                        "failed": r.failed,
                        "gaps": r.gaps,
                        "waiting": r.waiting,
                    }
                    for r in rows
                ],
                None,
            )
            return
        table = Table(title=f"Sweeps since {isoformat(utcnow() - window)}")
        for col in ("started", "source", "sweep", "expected", "recorded", "failed", "gaps", "waiting", "closed"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(
                isoformat(r.started_at),
                r.source,
                r.id,
                str(r.expected),
                str(r.recorded),
                str(r.failed),
                str(r.gaps),
                str(r.waiting),
                isoformat(r.closed_at) if r.closed_at else f"open (deadline {isoformat(r.deadline)})",
            )
        console.print(table)
        console.print(f"{len(rows)} sweeps")
