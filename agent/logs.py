"""Logging: one JSON object per line in the daemon, a readable format on a terminal."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger import json as jsonlogger

__all__ = ["configure_logging"]

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(jsonlogger.JsonFormatter):
    """python-json-logger with the agent's field names: ts, level, logger, event, the extras, exception."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "message": "event", "exc_info": "exception"},
            # str() for anything else, as before: the library's encoder would expand a dataclass
            # field by field, while str() of a Secret is only its reference (env:NAME)
            json_default=str,
            json_ensure_ascii=False,
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z")
        super().add_fields(log_data, record, message_dict)
        log_data["level"] = record.levelname.lower()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_"))
        ts = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        line = f"{ts} {record.levelname.lower():7} {record.getMessage()}"
        if extras:
            line += f"  [{extras}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "text" if getattr(stream, "isatty", lambda: False)() else "json"
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "botocore",
        "boto3",
        "urllib3",
        "apscheduler",
        "httpx",
        "httpcore",
        "werkzeug",
        "alembic",
        "moto",
        "azure",
        "google",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
