"""`posture-agent console`: the read-only web console over any store, and `console hash-password`."""

from __future__ import annotations

import getpass
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from agent.cli.common import check_listen, check_port_free, listen_error, open_store, resolve_config
from agent.config import secret_problems
from agent.errors import ConfigError, UsageError

__all__ = ["register"]

DEFAULT_LISTEN = "127.0.0.1:9465"


def _read_password() -> str:
    """From the terminal (asked twice, not echoed), or the first line of standard input; never argv."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise UsageError("the two passwords differ")
        return first
    line = sys.stdin.readline(4096) if sys.stdin is not None else ""
    return line.removesuffix("\n").removesuffix("\r")


def _hash_password() -> None:
    from agent.console.passwords import hash_password

    try:
        password = _read_password()
    except UnicodeDecodeError:
        raise UsageError("the password on standard input is not UTF-8 text") from None
    try:
        typer.echo(hash_password(password))
    except ValueError as exc:
        raise UsageError(f"{exc}: give it on standard input, or type it at the prompt") from None


def _serve(config: Path | None, db: str | None, listen: str) -> int:
    from prometheus_client import CollectorRegistry

    from agent.console.register import mount_console
    from agent.http import AgentHTTPServer, limits_from
    from agent.logs import configure_logging

    host, port = check_listen("--listen", listen)
    cfg = resolve_config(config)
    if not cfg.console.users:
        where = f"{config}" if config is not None else "a config file (--config)"
        raise UsageError(f"no console users: add a console: section with users to {where} (README: Web console)")
    problems = secret_problems(cfg)
    if problems:
        raise ConfigError(problems)
    check_port_free("--listen", host, port)
    configure_logging(cfg.log.level, cfg.log.format)
    store = open_store(db, cfg)
    try:
        try:
            http = AgentHTTPServer(
                host, port, CollectorRegistry(), lambda: (store.ping(), {}), limits=limits_from(cfg.http)
            )
        except OSError as exc:
            raise UsageError(listen_error("--listen", host, port, exc)) from None
        try:
            mount_console(http, cfg, store)
        except BaseException:
            http.stop()
            raise
        stop = threading.Event()

        def on_signal(signum: int, _frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        http.start()
        bound_host, bound_port = http.address
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        typer.echo(f"console: http://{shown}:{bound_port}{cfg.console.path}/  (Ctrl-C stops it)", err=False)
        sys.stdout.flush()
        while not stop.wait(1.0):
            if not http.alive:
                return 3
        http.stop()
    finally:
        store.close()
    return 0


def register(app: typer.Typer) -> None:
    console_app = typer.Typer(
        help="The read-only web console (README: Web console).", no_args_is_help=False, add_completion=False
    )

    @console_app.callback(invoke_without_command=True)
    def console(
        ctx: typer.Context,
        config: Annotated[
            Path | None, typer.Option("--config", "-c", help="Config file: console users, scope, database.")
        ] = None,
        db: Annotated[str | None, typer.Option("--db", help="Store URL (default: the config's database).")] = None,
        listen: Annotated[str, typer.Option("--listen", help="HOST:PORT to serve on.")] = DEFAULT_LISTEN,
    ) -> None:
        """Serve the web console over a store until Ctrl-C (users and scope from --config)."""
        if ctx.invoked_subcommand is not None:
            return
        raise typer.Exit(_serve(config, db, listen))

    @console_app.command("hash-password")
    def hash_password_cmd() -> None:
        """Print the scrypt hash of a password for console.users[].password_hash; the password is read
        from the terminal (twice) or from standard input, never from the command line."""
        _hash_password()

    app.add_typer(console_app, name="console")
