"""Observations: attribute paths of a resource that tick with time rather than with configuration
(a trail's last delivery, a device's last check-in, a database's latest restorable time).

Each resource type declares its observations where the type is defined (the AWS table's rows, the
GCP and Azure type tables, the endpoint device model). Checks see them as collected; the body that
is content-addressed, chained and diffed for drift leaves them out, so an untouched resource keeps
its hash and a poll adds nothing to the store (docs/evidence.md, "What is kept of observations").

A path is dot-separated keys; ``[]`` steps into every item of a list: ``Status.LatestDeliveryTime``,
``antivirus[].definitions_updated``. A path that is absent on a resource is ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["parse_path", "strip_observations", "validate_paths"]


def parse_path(path: str) -> tuple[str, ...]:
    """The steps of a path (``[]`` is its own step). Raises ValueError on an empty step."""
    steps: list[str] = []
    for part in path.split("."):
        key, brackets = part, 0
        while key.endswith("[]"):
            key, brackets = key[:-2], brackets + 1
        if not key:
            raise ValueError(f"observation path {path!r} has an empty key")
        steps.append(key)
        steps.extend(["[]"] * brackets)
    if steps[-1] == "[]":
        raise ValueError(f"observation path {path!r} ends in a list: name the key of its items")
    return tuple(steps)


def validate_paths(paths: Iterable[str]) -> tuple[str, ...]:
    """The paths, sorted and without repeats, each checked with ``parse_path``."""
    out = tuple(sorted(set(paths)))
    for p in out:
        parse_path(p)
    return out


def _strip(value: Any, steps: tuple[str, ...]) -> Any:
    """``value`` without the leaf at ``steps``; containers on the way are copied, never changed."""
    head, rest = steps[0], steps[1:]
    if head == "[]":
        return [_strip(v, rest) for v in value] if isinstance(value, list) else value
    if not isinstance(value, Mapping) or head not in value:
        return value
    if not rest:
        return {k: v for k, v in value.items() if k != head}
    return {**value, head: _strip(value[head], rest)}


def strip_observations(attributes: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A copy of ``attributes`` without the observations at ``paths``."""
    out: Any = dict(attributes)
    for p in paths:
        out = _strip(out, parse_path(p))
    return dict(out)
