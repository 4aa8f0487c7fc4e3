"""The channel-neutral alert message stored in the outbox and rendered per channel at send time."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from agent.models import SEVERITY_RANK  # one severity order: keys are str-valued Severity members

__all__ = ["Alert", "SEVERITY_RANK"]


@dataclass(frozen=True, kw_only=True)
class Alert:
    # failure | resolution | digest | exception_expiring | exception_expired | test
    kind: str
    title: str
    severity: str = "info"
    transition: str = ""  # regressed | new_failing | resolved | gone (finding alerts)
    source: str = ""
    provider: str = ""
    account: str = ""
    region: str = ""
    check_id: str = ""
    check_title: str = ""
    resource_id: str = ""
    resource_type: str = ""
    previous_status: str = ""
    status: str = ""
    message: str = ""  # the check's reason
    controls: tuple[str, ...] = ()
    frameworks: tuple[str, ...] = ()  # framework ids the controls belong to (routing)
    remediation: str = ""
    changes: tuple[str, ...] = ()  # attribute changes of the resource in the same cycle
    link: str = ""
    at: str = ""
    # digest only: counts by check and severity, and the first few items
    total: int = 0
    by_check: dict[str, int] = field(default_factory=dict)
    by_severity: dict[str, int] = field(default_factory=dict)
    items: tuple[dict[str, str], ...] = ()

    @property
    def rank(self) -> int:
        return SEVERITY_RANK.get(self.severity, 0)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Alert:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for name in ("controls", "frameworks", "changes"):
            kw[name] = tuple(kw.get(name, ()))
        kw["items"] = tuple(kw.get("items", ()))
        return cls(**kw)
