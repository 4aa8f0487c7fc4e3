"""Entry point: `posture-agent`. Each command module exposes register(app).

Exit codes, the same for every command (agent/errors.py defines them; ``exit_code`` below is the one
place an outcome becomes one):

    0  success
    1  failing findings at or above --fail-on (which ones are printed), or records failing verification
    2  usage or configuration error: an argument, the config file, the database URL, a store that
       cannot be used (unreachable, not a database, not ours); one line per problem, nothing done
    3  the work failed: collection failed or was partial beyond --max-errors (the errors summarised
       on stderr), a channel or the store failed while working

Never a traceback: an error nobody anticipated is one line too (POSTURE_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from agent import __version__
from agent.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE, AgentError, ConfigError

__all__ = ["app", "exit_code", "main", "report"]


class _RootGroup(TyperGroup):
    """Refuses a NUL byte in any argument before a command sees it (a path or URL with one would
    reach the OS or the database driver, which answer with an exception)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        for arg in args:
            if "\x00" in arg:
                shown = arg.encode("unicode_escape").decode("ascii")[:80]
                raise typer.BadParameter(f"an argument contains a NUL byte: {shown!r}")
        return list(super().parse_args(ctx, args))


app = typer.Typer(
    name="posture-agent",
    cls=_RootGroup,
    help="Continuous compliance monitoring: snapshots, checks mapped to SOC 2, evidence, drift.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"posture-agent {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Continuous compliance monitoring: snapshots, checks mapped to SOC 2, evidence, drift."""


# One line per command module; each defines register(app: typer.Typer).
COMMAND_MODULES = (
    "agent.cli.core",
    "agent.cli.mappings_cmd",
    "agent.cli.evidence_cmd",
    "agent.cli.drift_cmd",
    "agent.cli.alerts_cmd",
    "agent.cli.exceptions_cmd",
    "agent.cli.evidence_export_cmd",
    "agent.cli.sweeps_cmd",
    "agent.cli.console_cmd",
)

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def _database_error(exc: BaseException) -> str | None:
    """One line for a database error that escaped a command (the store went away mid-way)."""
    from agent.store.opening import error_line

    module = type(exc).__module__.partition(".")[0]
    if module not in ("sqlalchemy", "sqlite3", "psycopg"):
        return None
    return f"database error: {error_line(exc)}"


def exit_code(exc: BaseException) -> int:
    """The exit code of an exception that ended a command."""
    if isinstance(exc, AgentError):
        return int(exc.exit_code)
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else (EXIT_OK if exc.code is None else EXIT_FAILED)
    return EXIT_FAILED


def report(exc: BaseException) -> int:
    """Print ``exc`` as one line per problem on stderr and return its exit code."""
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
    elif isinstance(exc, AgentError):
        print(f"error: {exc}", file=sys.stderr)
    elif isinstance(exc, OSError) and exc.errno == errno.EPIPE:
        return EXIT_OK  # the reader went away (`| head`): nothing to say
    elif (line := _database_error(exc)) is not None:
        print(f"error: {line}", file=sys.stderr)
    else:
        if os.environ.get("POSTURE_DEBUG"):
            traceback.print_exception(exc)
        detail = str(exc).splitlines()[0][:300] if str(exc) else ""
        print(
            f"error: internal error: {type(exc).__name__}: {detail} (a bug: please report it; POSTURE_DEBUG=1 "
            "shows the traceback)",
            file=sys.stderr,
        )
    return exit_code(exc)


def _usage_line(exc: Any) -> str:
    """A click usage error as one line, naming the command and where its help is."""
    ctx = getattr(exc, "ctx", None)
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    message = exc.format_message().strip().replace("\n", " ")
    return f"error: {message}{where}"


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default: sys.argv) and return the exit code; never raises."""
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    try:
        rv = app(args=list(argv) if argv is not None else None, standalone_mode=False, prog_name="posture-agent")
    except NoArgsIsHelpError as exc:
        exc.show()
        return EXIT_USAGE
    except ClickException as exc:
        print(_usage_line(exc), file=sys.stderr)
        return EXIT_USAGE
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return exit_code(exc)
    except BaseException as exc:  # the one place every error becomes a line and a code
        return report(exc)
    return rv if isinstance(rv, int) else EXIT_OK


def main() -> None:
    code = run()
    with contextlib.suppress(OSError):  # stdout closed by the reader
        sys.stdout.flush()
    sys.exit(code)


def entry() -> None:
    """The ``posture-agent`` process: ``main``, then an exit that skips the interpreter's teardown.
    Every command has closed its store and files by the time it returns; freeing each object of a
    large scan one by one took 0.3 to 0.4 s (measured on the large benchmark account) for nothing."""
    code = run()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed by the reader, or already
            stream.flush()
    logging.shutdown()  # flush every log handler (a file handler included)
    os._exit(code)


if __name__ == "__main__":
    entry()
