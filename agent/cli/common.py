"""Helpers shared by CLI commands: config and store resolution, output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from agent.config import Config, default_database_url, load_config
from agent.errors import UsageError
from agent.store import Store

__all__ = ["console", "err_console", "open_store", "resolve_config", "write_output"]

# Piped output is read by tools and people with wide screens: don't fold ids at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 240)
err_console = Console(stderr=True)


def resolve_config(path: Path | None) -> Config:
    """The config file if given, else defaults (embedded SQLite store, SOC 2 security scope)."""
    if path is None:
        return Config()
    return load_config(path)


def open_store(db: str | None, config: Config | None, *, upgrade: bool = True) -> Store:
    """--db wins, then the config's database, then the embedded SQLite file."""
    url = db or (config.database if config is not None else default_database_url())
    store = Store(url)
    if upgrade:
        store.upgrade()
    return store


def write_output(data: Any, output: Path | None) -> None:
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
