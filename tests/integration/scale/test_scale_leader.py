"""Leader election through PostgreSQL (agent/store/leader.py) on the real server: one leader among
candidates, a standby takes over on release, on SIGKILL of the leader's process and on termination of
its backend; the fencing epoch strictly increases and refuses the writes of a stale leader. Nothing
here asserts on timing: what happens asynchronously is polled up to a generous deadline."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from agent.errors import StoreUnusable
from agent.store.leader import SCHEDULER, Leadership, LeadershipLost, check_epoch, lock_key

ROOT = Path(__file__).resolve().parents[3]
DEADLINE_S = 90.0


def eventually(what: Callable[[], bool], *, deadline: float = DEADLINE_S) -> bool:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if what():
            return True
        time.sleep(0.05)
    return what()


@pytest.fixture
def candidates(leases_url: str, lock_name: str) -> Iterator[Callable[[], Leadership]]:
    made: list[Leadership] = []

    def make() -> Leadership:
        lead = Leadership(leases_url, lock_name, retry_every=0.05, holder=f"test-{len(made)}")
        made.append(lead)
        return lead

    yield make
    for lead in made:
        lead.close()


def test_the_lock_key_is_stable_and_differs_by_name() -> None:
    assert lock_key(SCHEDULER) == 4443164196986513988  # a new key would let an old and a new scheduler both lead
    assert lock_key("a") != lock_key("b") and -(2**63) <= lock_key("x" * 200) < 2**63


@pytest.mark.postgres
def test_one_of_two_leads_and_the_other_takes_over_on_release(candidates: Callable[[], Leadership]) -> None:
    a, b = candidates(), candidates()
    assert a.try_acquire() and a.is_leader() and a.epoch == 1 and a.lease is not None
    a_lease = a.lease
    assert not b.try_acquire() and not b.is_leader() and b.epoch is None
    assert a.try_acquire() and a.epoch == 1  # asking again while leading changes nothing
    a.release()
    assert not a.is_leader() and a.lease is None
    assert b.try_acquire() and b.is_leader()
    assert b.lease is not None and b.lease.epoch == 2 and b.lease.holder == "test-1"
    assert b.lease.acquired_at.tzinfo is not None and b.lease.acquired_at >= a_lease.acquired_at
    assert not a.try_acquire()


@pytest.mark.postgres
def test_the_epoch_strictly_increases_across_takeovers(candidates: Callable[[], Leadership]) -> None:
    pool = [candidates() for _ in range(3)]
    epochs = []
    for i in range(7):
        lead = pool[i % 3]
        assert lead.try_acquire()
        assert all(not other.try_acquire() for other in pool if other is not lead)
        assert lead.epoch is not None
        epochs.append(lead.epoch)
        lead.release()
    assert epochs == sorted(set(epochs)) and len(epochs) == 7


CHILD = """
import sys, time
from agent.store.leader import Leadership
lead = Leadership(sys.argv[1], sys.argv[2], holder="child")
assert lead.try_acquire(), lead.last_error
print(lead.epoch, flush=True)
time.sleep(600)
"""


@pytest.mark.postgres
def test_a_standby_takes_over_from_a_leader_killed_with_sigkill(
    candidates: Callable[[], Leadership], leases_url: str, lock_name: str
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, leases_url, lock_name], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        child_epoch = int(child.stdout.readline())  # printed once the child leads
        standby = candidates()
        assert not standby.try_acquire()
        child.kill()
        child.wait(timeout=60)
        assert eventually(standby.try_acquire), standby.last_error
        assert standby.epoch is not None and standby.epoch > child_epoch
        assert standby.is_leader()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=60)
        if child.stdout is not None:
            child.stdout.close()


@pytest.mark.postgres
def test_is_leader_turns_false_when_the_backend_is_terminated(
    candidates: Callable[[], Leadership], pg_base: str
) -> None:
    a, b = candidates(), candidates()
    assert a.try_acquire() and a.lease is not None
    engine = sa.create_engine(pg_base)
    try:
        with engine.connect() as admin:
            assert admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": a.lease.backend_pid}).scalar()
        assert eventually(lambda: not a.is_leader())
        assert a.lease is None and a.last_error
        assert eventually(b.try_acquire), b.last_error
        assert not a.try_acquire()  # a reconnects as a standby
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_stale_leader_is_fenced_out_of_the_store(
    candidates: Callable[[], Leadership], leases_url: str, lock_name: str
) -> None:
    a, b = candidates(), candidates()
    assert a.try_acquire() and a.epoch == 1
    engine = sa.create_engine(leases_url)
    try:
        with engine.begin() as conn:
            a.fence(conn)  # the leader's write goes through
        a.release()
        assert b.try_acquire() and b.epoch == 2
        with engine.begin() as conn:
            with pytest.raises(LeadershipLost, match="not held"):
                a.fence(conn)
            with pytest.raises(LeadershipLost, match="epoch 1 is stale"):
                check_epoch(conn, lock_name, 1)  # a leader that has not noticed yet
            b.fence(conn)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_takeover_waits_for_a_fenced_write_to_end(
    candidates: Callable[[], Leadership], leases_url: str, lock_name: str
) -> None:
    """The fence holds the lease row shared: a successor's acquisition cannot bump the epoch under a write
    that was allowed, so a fenced write commits before the takeover or is refused after it."""
    a, b = candidates(), candidates()
    assert a.try_acquire() and a.epoch is not None
    a_epoch = a.epoch
    engine = sa.create_engine(leases_url)
    result: list[bool] = []
    try:
        with engine.begin() as write:
            a.fence(write)
            a.release()  # a's session ends while its fenced write is still open
            taker = threading.Thread(target=lambda: result.append(b.try_acquire()))
            taker.start()

            def blocked() -> bool:
                with engine.connect() as look:
                    return bool(
                        look.execute(
                            sa.text(
                                "SELECT count(*) FROM pg_stat_activity WHERE application_name = :n "
                                "AND wait_event_type = 'Lock'"
                            ),
                            {"n": f"posture-agent leader {lock_name}"[:63]},
                        ).scalar()
                    )

            assert eventually(blocked)
            assert not result  # b holds the advisory lock, its epoch waits for this transaction
        taker.join(timeout=DEADLINE_S)
        assert result == [True] and b.epoch == a_epoch + 1
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_wait_until_leader_returns_when_the_leader_goes_or_stop_is_set(candidates: Callable[[], Leadership]) -> None:
    a, b, c = candidates(), candidates(), candidates()
    assert a.try_acquire()
    stop = threading.Event()
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(b.wait_until_leader(stop)))
    waiter.start()
    a.release()
    waiter.join(timeout=DEADLINE_S)
    assert got == [True] and b.is_leader()
    stop_c = threading.Event()
    stop_c.set()
    assert c.wait_until_leader(stop_c) is False


@pytest.mark.postgres
def test_a_store_without_the_leases_table_is_named(pg_url: str, lock_name: str) -> None:
    with Leadership(pg_url, lock_name) as lead, Leadership(pg_url, lock_name) as again:
        with pytest.raises(StoreUnusable, match="no scale_leases table: run `posture-agent db upgrade`"):
            lead.try_acquire()
        with pytest.raises(StoreUnusable, match="no scale_leases table"):
            again.try_acquire()  # not False: lead's failed attempt left no lock behind


def test_sqlite_and_an_unreachable_server_are_clear() -> None:
    with pytest.raises(StoreUnusable, match="leader election needs PostgreSQL"):
        Leadership("sqlite:///posture.db")
    with Leadership("postgresql+psycopg://postgres@127.0.0.1:1/test?connect_timeout=5", "x") as lead:
        assert lead.try_acquire() is False and not lead.is_leader()
        assert lead.last_error is not None and "cannot reach database" in lead.last_error
