"""`posture-agent exceptions add|list`: risk acceptance of failing findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agent.cli.common import console, open_store, resolve_config, write_output
from agent.cli.core import OutputFormat
from agent.errors import UsageError
from agent.models import isoformat, utcnow

__all__ = ["register", "parse_expiry"]


def parse_expiry(value: str) -> datetime:
    """A date (valid through that day, UTC) or an ISO timestamp."""
    bad = UsageError(f"--expires: {value[:40]!r} is not a date (YYYY-MM-DD) or ISO timestamp")
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
            return day + timedelta(days=1)
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return ts.astimezone(UTC) if ts.tzinfo else ts.replace(tzinfo=UTC)
    except ValueError:
        raise bad from None
    except OverflowError:  # past the first or the last day a date can hold, in UTC
        raise UsageError(f"--expires: {value[:40]!r} is out of range") from None


def register(app: typer.Typer) -> None:
    exc_app = typer.Typer(help="Risk-acceptance exceptions.", no_args_is_help=True)
    app.add_typer(exc_app, name="exceptions")

    @exc_app.command("add")
    def add(
        check: Annotated[str, typer.Option("--check", help="Check id, e.g. aws.s3.bucket_versioning")],
        resource: Annotated[
            str, typer.Option("--resource", help="Resource id or fnmatch pattern (arn:aws:s3:::public-*)")
        ],
        reason: Annotated[str, typer.Option("--reason", help="Why the risk is accepted")],
        owner: Annotated[str, typer.Option("--owner", help="Who accepted it")],
        expires: Annotated[str, typer.Option("--expires", help="YYYY-MM-DD (valid through that day, UTC)")],
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Store URL.")] = None,
    ) -> None:
        """Accept the risk of CHECK failing on matching resources until a date."""
        from agent.exceptions import add_exception
        from agent.registry import load_checks

        if check not in load_checks():
            raise UsageError(f"--check: no check {check!r} (see `posture-agent checks list`)")
        expires_at = parse_expiry(expires)
        if expires_at <= utcnow():
            raise UsageError(f"--expires {isoformat(expires_at)} is in the past")
        for name, value in (("--reason", reason), ("--owner", owner), ("--resource", resource)):
            if not value.strip():
                raise UsageError(f"{name} must not be empty")
        store = open_store(db, resolve_config(config) if config else None, write=True)
        try:
            new_id = add_exception(
                store,
                check_id=check,
                resource_pattern=resource,
                reason=reason,
                owner=owner,
                expires_at=expires_at,
            )
        finally:
            store.close()
        typer.echo(f"exception #{new_id}: {check} on {resource} accepted by {owner} until {isoformat(expires_at)}")

    @exc_app.command("list")
    def list_(
        config: Annotated[Path | None, typer.Option("--config", "-c", help="Config file (YAML).")] = None,
        db: Annotated[str | None, typer.Option("--db", help="Store URL.")] = None,
        fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    ) -> None:
        """Every exception with its state (active, expiring within a week, expired)."""
        from agent.exceptions import list_exceptions

        store = open_store(db, resolve_config(config) if config else None)
        try:
            rules = list_exceptions(store)
        finally:
            store.close()
        now = utcnow()
        if fmt == OutputFormat.json:
            write_output([r.to_dict(now) for r in rules], None)
            return
        table = Table(title="Exceptions")
        for col in ("id", "check", "resources", "owner", "expires", "state", "reason"):
            table.add_column(col, overflow="fold")
        for r in rules:
            table.add_row(
                str(r.id),
                r.check_id,
                r.resource_pattern,
                r.owner,
                isoformat(r.expires_at),
                r.state(now),
                r.reason,
            )
        console.print(table)
