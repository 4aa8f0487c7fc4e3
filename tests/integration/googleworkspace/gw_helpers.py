"""Running the Google Workspace collector against the fake, and reading what it gave (not a test module)."""

from __future__ import annotations

from typing import Any

from posture_demo.fake_googleworkspace import FakeWorkspace
from posture_demo.googleworkspace_data import DEMO_DOMAIN, user_key

from agent.evaluate import evaluate
from agent.models import Finding, Snapshot
from agent.registry import checks_in
from collectors import CollectContext
from collectors.googleworkspace.collection import collect
from collectors.googleworkspace.directory import customer_id_of, user_id_of

CHECKS = checks_in("checks.googleworkspace")
ACCOUNT = DEMO_DOMAIN  # admin_email's domain: the account of a my_customer source


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None]] = []

    def __call__(self, service: str, operation: str, code: str | None) -> None:
        self.seen.append((service, operation, code))


def run(fake: FakeWorkspace, **extra: Any) -> tuple[Snapshot, Calls]:
    calls = Calls()
    snaps = collect(fake.source(**extra), CollectContext(on_api_call=calls, cancel=_no_wait()))
    assert len(snaps) == 1
    return snaps[0], calls


def _no_wait() -> Any:
    """A cancel event whose wait returns at once: the retries' pauses cost nothing in tests."""
    import threading

    class Instant(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            return False

    return Instant()


def rid(local: str) -> str:
    """The resource id of a demo user by local part, or of the customer for "customer"."""
    if local == "customer":
        return customer_id_of(ACCOUNT)
    return user_id_of(ACCOUNT, user_key(local))


def findings(snap: Snapshot, params: dict[str, dict[str, Any]] | None = None) -> list[Finding]:
    return evaluate(snap, CHECKS, params=params)
