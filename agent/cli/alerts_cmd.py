"""`posture-agent alerts pending` and `posture-agent alerts test CHANNEL`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agent.alerts.model import Alert
from agent.cli.common import console, open_store, resolve_config, write_output
from agent.cli.core import OutputFormat
from agent.errors import EXIT_FAILED, UsageError
from agent.models import isoformat, utcnow

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    alerts_app = typer.Typer(help="The alert outbox and channels.", no_args_is_help=True)
    app.add_typer(alerts_app, name="alerts")

    @alerts_app.command("pending")
    def pending(
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Store URL.")] = None,
        parked: Annotated[bool, typer.Option("--parked/--all", help="Only parked messages.")] = False,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    ) -> None:
        """Messages not delivered yet (pending) or given up on (parked)."""
        from agent.store import outbox

        store = open_store(db, resolve_config(config) if config else None)
        try:
            with store.engine.connect() as conn:
                rows = outbox.list_rows(conn, ("parked",) if parked else ("pending", "parked"))
        finally:
            store.close()
        if fmt == OutputFormat.json:
            write_output(
                [
                    {
                        "id": r.id,
                        "channel": r.channel,
                        "state": r.state,
                        "kind": r.kind,
                        "attempts": r.attempts,
                        "created_at": isoformat(r.created_at),
                        "next_attempt_at": isoformat(r.next_attempt_at),
                        "last_error": r.last_error,
                        "title": r.alert.title,
                        "resource_id": r.alert.resource_id,
                    }
                    for r in rows
                ],
                None,
            )
            return
        table = Table(title="Alert outbox")
        for col in ("id", "channel", "state", "attempts", "created", "next attempt", "alert", "last error"):
            table.add_column(col, overflow="fold")
        for r in rows:
            table.add_row(
                str(r.id),
                r.channel,
                r.state,
                str(r.attempts),
                isoformat(r.created_at),
                isoformat(r.next_attempt_at) if r.state == "pending" else "-",
                f"{r.alert.title} {r.alert.resource_id}".strip(),
                r.last_error,
            )
        console.print(table)
        console.print(
            f"{sum(r.state == 'pending' for r in rows)} pending, {sum(r.state == 'parked' for r in rows)} parked"
        )

    @alerts_app.command("test")
    def test(
        channel: Annotated[str, typer.Argument(help="Channel name from alerts.channels.")],
        config: Annotated[Path, typer.Option("--config", "-c", help="Config file (YAML).", envvar="POSTURE_CONFIG")],
    ) -> None:
        """Send a test message to one channel now (not through the outbox); exit 3 if it is not delivered."""
        import httpx

        from agent.alerts.dispatcher import deliver

        cfg = resolve_config(config)
        chan = next((c for c in cfg.alerts.channels if c.name == channel), None)
        if chan is None:
            names = ", ".join(c.name for c in cfg.alerts.channels) or "none configured"
            raise UsageError(f"no alert channel {channel!r} in {config} ({names})")
        alert = Alert(
            kind="test",
            title="posture-agent test message",
            severity="info",
            message=f"Channel {channel} is set up: alerts from posture-agent will arrive here.",
            link=cfg.external_url or "",
            at=isoformat(utcnow()),
        )
        with httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
            result = deliver(client, chan, alert, f"test:{utcnow().timestamp():.0f}")
        if result.ok:
            typer.echo(f"sent a test message to {channel} (HTTP {result.status})")
            return
        typer.echo(f"error: {channel}: {result.error}", err=True)
        raise typer.Exit(EXIT_FAILED)
