"""Errors a user can act on. The CLI turns each into one clear line; libraries never exit.

Each error carries the process exit code the CLI ends with (agent/cli/main.py turns them into exit
statuses in one place); the codes are the same for every command:

    0  EXIT_OK        the command did what was asked
    1  EXIT_FINDINGS  it did, and the result is bad: failing findings at or above --fail-on, or a
                      record that fails verification
    2  EXIT_USAGE     bad input: an argument, the config file, a database URL, or a store that cannot
                      be used (unreachable, not a database, not ours); nothing was done
    3  EXIT_FAILED    the work failed: collection failed (or was partial beyond --max-errors), a
                      channel or the store failed while working
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EXIT_FAILED",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "EXIT_USAGE",
    "AgentError",
    "CollectionFailed",
    "ConfigError",
    "Problem",
    "StoreError",
    "StoreUnusable",
    "UsageError",
]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_FAILED = 3


class AgentError(Exception):
    """Base for errors shown to the user as a message, never a traceback."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Problem:
    key: str
    message: str
    file: str = ""
    line: int = 0

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where = f"{where}:{self.line}"
        prefix = f"{where}: " if where else ""
        key = f"{self.key}: " if self.key else ""
        return f"{prefix}{key}{self.message}"


class ConfigError(AgentError):
    exit_code = EXIT_USAGE

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StoreError(AgentError):
    """The store failed while working (a write refused, a record missing)."""

    exit_code = EXIT_FAILED


class StoreUnusable(StoreError):
    """The store named by --db or the config cannot be used at all: a bad URL, unreachable, not a
    database, not a posture-agent store. Raised before anything is read or written."""

    exit_code = EXIT_USAGE


class UsageError(AgentError):
    exit_code = EXIT_USAGE


class CollectionFailed(AgentError):
    """A scan's collection failed, or was partial beyond the allowed number of errors."""

    exit_code = EXIT_FAILED
