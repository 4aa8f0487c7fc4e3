"""The broker is an input surface: whatever a message's body holds (a malformed or hostile task, a
task of an unknown sweep, source or account), a worker answers with a named outcome, never a
traceback, and stores nothing for it."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agent.config import parse_config
from agent.cycle import Pipeline
from agent.scale.sweeps import Task
from agent.scale.worker import WorkerRuntime
from agent.store import Store

OUTCOMES = {"malformed", "unknown_source", "duplicate"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=12,
)
FIELDS = ("sweep", "source", "provider", "account", "role_arn")
task_like = st.fixed_dictionaries({}, optional={k: json_values | st.text(max_size=300) for k in FIELDS})


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = f"sqlite:///{tmp_path_factory.mktemp('worker') / 'posture.db'}"
    cfg = parse_config(
        f"database: {db}\nsources:\n  - {{name: org, provider: aws, regions: [us-east-1], schedule: {{interval: 1h}}}}\n"
        "  - {name: gcp, provider: gcp, scope: organizations/1, schedule: {interval: 1h}}\n",
        env={},
    )
    store = Store(db)
    store.upgrade()
    rt = WorkerRuntime(cfg, Pipeline(cfg, store), "amqp://guest:guest@127.0.0.1:1//", ["posture.aws", "posture.gcp"])
    yield rt
    store.close()


def _runs(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM runs")).scalar_one())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | task_like)
def test_any_message_body_gets_a_named_outcome_and_stores_nothing(runtime: Any, body: Any) -> None:
    assert runtime.handle(body) in OUTCOMES
    assert _runs(runtime.pipeline.store) == 0


@settings(max_examples=200, deadline=None)
@given(
    sweep=st.text(max_size=40),
    source=st.text(max_size=40),
    provider=st.text(max_size=40),
    account=st.text(max_size=40),
    role=st.none() | st.text(max_size=80),
)
def test_a_task_survives_its_message_unchanged(
    sweep: str, source: str, provider: str, account: str, role: str | None
) -> None:
    task = Task(sweep, source, provider, account, role)
    assert Task.from_message(task.to_message()) == task


def test_a_known_source_in_an_unknown_sweep_is_skipped_before_any_collection(runtime: Any) -> None:
    body = Task("no-such-sweep", "org", "aws", "123456789012", None).to_message()
    assert runtime.handle(body) == "duplicate"
    assert _runs(runtime.pipeline.store) == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(account=st.text(min_size=1, max_size=60).filter(lambda a: a != "organizations/1"))
def test_a_gcp_task_for_a_part_the_source_cannot_hold_is_named_not_collected(runtime: Any, account: str) -> None:
    """Scheduler and worker configs that disagree on a GCP scope: a part that is no project id is
    refused with a named outcome (the account stays pending: a gap at the deadline), never a traceback."""
    body = Task("some-sweep", "gcp", "gcp", account, None).to_message()
    assert runtime.handle(body) in OUTCOMES
    assert _runs(runtime.pipeline.store) == 0


def test_config_of_the_roles_names_each_bad_key() -> None:
    from agent.errors import ConfigError

    with pytest.raises(ConfigError, match=r"scale\.queue_prefix"):
        parse_config("scale: {queue_prefix: Bad Prefix!}\n", env={})
    with pytest.raises(ConfigError, match=r"scale\.sweep_deadline"):
        parse_config("scale: {sweep_deadline: 5s}\n", env={})
