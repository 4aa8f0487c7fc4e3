"""The incremental results hash: a function of the set only, whatever order or history built it."""

from __future__ import annotations

import random

from agent.store import resultset
from agent.store.resultset import ResultSetHash, legacy_results_hash


def _items(n: int, status: str = "pass") -> list[tuple[str, str, str]]:
    return [(f"uid{i:05d}", status, f"message {i}") for i in range(n)]


def test_order_does_not_matter() -> None:
    items = _items(200)
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    assert ResultSetHash(items).hexdigest() == ResultSetHash(shuffled).hexdigest()


def test_remove_undoes_add_and_empty_set_is_stable() -> None:
    h = ResultSetHash(_items(50))
    for uid, status, message in _items(50):
        h.remove(uid, status, message)
    assert h.hexdigest() == ResultSetHash().hexdigest()


def test_updates_equal_a_fresh_hash_of_the_final_set() -> None:
    """A status change is a removal and an addition; the result equals hashing the final set."""
    rng = random.Random(11)
    state = {uid: (s, m) for uid, s, m in _items(300)}
    h = ResultSetHash((u, s, m) for u, (s, m) in state.items())
    for _ in range(2000):
        uid = f"uid{rng.randrange(400):05d}"
        old = state.pop(uid, None)
        if old is not None:
            h.remove(uid, *old)
        if rng.random() < 0.8:
            new = (rng.choice(["pass", "fail", "error"]), f"m{rng.randrange(5)}")
            state[uid] = new
            h.add(uid, *new)
    assert h.hexdigest() == ResultSetHash((u, s, m) for u, (s, m) in state.items()).hexdigest()


def test_reduction_keeps_lanes_exact_past_the_carry_headroom() -> None:
    """More updates than the headroom between reductions: lanes never carry into each other."""
    h = ResultSetHash()
    for _ in range(resultset._REDUCE_EVERY // 2 + 5):
        h.add("uid", "fail", "x")
        h.remove("uid", "fail", "x")
    h.add("uid", "pass", "ok")
    assert h.hexdigest() == ResultSetHash([("uid", "pass", "ok")]).hexdigest()


def test_every_field_counts() -> None:
    base = ResultSetHash([("a", "pass", "ok"), ("b", "fail", "open")]).hexdigest()
    for changed in (
        [("a", "fail", "ok"), ("b", "fail", "open")],
        [("a", "pass", "ok!"), ("b", "fail", "open")],
        [("c", "pass", "ok"), ("b", "fail", "open")],
        [("a", "pass", "ok")],
    ):
        assert ResultSetHash(changed).hexdigest() != base


def test_legacy_definition_is_the_sorted_set() -> None:
    items = _items(5)
    assert legacy_results_hash(reversed(items)) == legacy_results_hash(items)
    assert legacy_results_hash(items) != ResultSetHash(items).hexdigest()
