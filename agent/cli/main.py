"""Entry point: `posture-agent`. Each command module exposes register(app).

Exit codes: 0 success; 1 failing findings at or above --fail-on, or a runtime error;
2 bad input (config, arguments, files) — always one clear line per problem, never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from agent.errors import AgentError, ConfigError

app = typer.Typer(
    name="posture-agent",
    help="Continuous compliance monitoring: snapshots, checks mapped to SOC 2, evidence, drift.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# One line per command module; each defines register(app: typer.Typer).
COMMAND_MODULES = (
    "agent.cli.core",
    "agent.cli.mappings_cmd",
    "agent.cli.evidence_cmd",
    "agent.cli.drift_cmd",
    "agent.cli.alerts_cmd",
    "agent.cli.exceptions_cmd",
    "agent.cli.evidence_export_cmd",
)

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except AgentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
