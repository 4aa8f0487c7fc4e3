"""Jinja2 templates (autoescaped; a key an older stored body lacks renders empty, never a 500) and the
small filters they use."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse

__all__ = ["page_response", "templates"]


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return "" if value is None else str(value)


def _value(value: Any) -> str:
    """An attribute value as a person reads it: JSON for structures, text otherwise."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def _pretty(value: Any) -> str:
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str)


templates = Environment(
    loader=PackageLoader("agent.console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _compact(value: Any) -> str:
    """A changed value exactly as stored (drift: old -> new), as compact JSON."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


templates.filters.update(when=_when, value=_value, pretty=_pretty, compact=_compact)


def page_response(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)
