"""Running the real GitHub collector against the fake, and reading its findings (shared by the tests)."""

from __future__ import annotations

from typing import Any

from agent.evaluate import evaluate
from agent.models import Finding, Snapshot
from agent.registry import load_checks
from checks.base import Check
from collectors import CollectContext
from collectors.github import collect
from collectors.github.config import GitHubSource

GITHUB_CHECKS: list[Check] = [c for c in load_checks().values() if c.meta.provider == "github"]


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, service: str, operation: str, code: str | None) -> None:
        self.seen.append((service, operation, code))


def run(config: dict[str, Any], calls: Calls | None = None) -> Snapshot:
    [snap] = collect(GitHubSource.model_validate(config), CollectContext(on_api_call=calls or Calls()))
    return snap


def findings(snap: Snapshot) -> list[Finding]:
    return evaluate(snap, GITHUB_CHECKS)


def by_status(found: list[Finding], check_id: str, status: str) -> set[str]:
    return {f.resource_id for f in found if f.check_id == check_id and f.status.value == status}
