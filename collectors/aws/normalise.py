"""Turn boto3 responses into the stored attribute shape: JSON types only, UTC ``...Z`` times."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from urllib.parse import unquote

from agent.models import isoformat

__all__ = ["normalise", "policy_document"]


def normalise(value: Any) -> Any:
    """Recursively: datetimes -> ISO UTC strings ending in Z, drop ResponseMetadata, tuples -> lists."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def policy_document(doc: Any) -> Any:
    """A policy document as a dict: IAM may return it URL-encoded, S3 as a JSON string."""
    if isinstance(doc, str):
        text = doc
        if text.lstrip().startswith("%7B") or "%22" in text:
            text = unquote(text)
        try:
            return json.loads(text)
        except ValueError:
            return json.loads(unquote(text))
    return doc
