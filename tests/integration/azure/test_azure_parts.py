"""An Azure source split for the workers of a scaled deployment (agent/scale/): its directory and
each subscription one task, each collected alone against the fake tenant on the wire, together the
same snapshots as the whole source."""

from __future__ import annotations

from posture_demo.fake_azure import DEMO_SUBSCRIPTION, DEMO_TENANT, FakeAzure

from agent.scale.sweeps import Task
from agent.scale.worker import for_account
from collectors import CollectContext
from collectors.azure import collect
from collectors.azure.collection import part_of, parts
from collectors.azure.config import AzureSource


def _source(fake: FakeAzure, **extra: object) -> AzureSource:
    return AzureSource.model_validate(fake.source_config(**extra))


def test_the_directory_and_each_subscription_are_a_part(fake: FakeAzure) -> None:
    source = _source(fake)
    assert parts(source, CollectContext()) == [DEMO_TENANT, DEMO_SUBSCRIPTION]
    whole = {s.account: s for s in collect(source, CollectContext())}
    for part in parts(source, CollectContext()):
        (snap,) = collect(part_of(source, part), CollectContext())
        assert snap.account == part
        assert {r.id for r in snap.resources} == {r.id for r in whole[part].resources}


def test_a_listed_subscription_the_agent_cannot_see_keeps_its_task(fake: FakeAzure) -> None:
    source = _source(fake, subscriptions=[DEMO_SUBSCRIPTION, "not-visible"], entra=False)
    assert parts(source, CollectContext()) == [DEMO_SUBSCRIPTION, "not-visible"]


def test_a_worker_narrows_an_azure_task_to_its_part(fake: FakeAzure) -> None:
    source = _source(fake)
    directory = for_account(source, Task("s", source.name, "azure", DEMO_TENANT))
    subscription = for_account(source, Task("s", source.name, "azure", DEMO_SUBSCRIPTION))
    assert (directory.entra, directory.arm) == (True, False)
    assert (subscription.entra, subscription.arm, subscription.subscriptions) == (False, True, [DEMO_SUBSCRIPTION])
    assert for_account(source, Task("s", source.name, "azure", "")) is source


def test_the_scheduler_expands_an_azure_source_or_keeps_it_whole(fake: FakeAzure) -> None:
    from agent.config import parse_config
    from agent.cycle import Pipeline
    from agent.scale.scheduler import expand

    pipeline = Pipeline(parse_config("", env={}), None)
    source = _source(fake)
    tasks, detail = expand(source, pipeline)
    assert [t.account for t in tasks] == [DEMO_TENANT, DEMO_SUBSCRIPTION] and detail["expanded"]
    fake.fail("arm", r"^/subscriptions$", 403, times=-1)  # the listing is refused
    tasks, detail = expand(source, pipeline)
    assert [t.account for t in tasks] == [""] and not detail["expanded"] and "403" in detail["error"]
