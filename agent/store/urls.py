"""Database URLs, read without opening them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["sqlite_file"]


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (``~`` expanded); None for another database or an in-memory one.
    Raises ValueError when ``url`` is not a database URL."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ValueError(f"invalid database URL {url!r}") from None
    if parsed.get_backend_name() != "sqlite":
        return None
    path = parsed.database or ""
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser()
