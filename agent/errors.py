"""Errors a user can act on. The CLI turns each into one clear line; libraries never exit."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AgentError", "ConfigError", "Problem", "StoreError", "UsageError"]


class AgentError(Exception):
    """Base for errors shown to the user as a message, never a traceback."""

    exit_code = 1


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
    exit_code = 2

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StoreError(AgentError):
    exit_code = 1


class UsageError(AgentError):
    exit_code = 2
