"""A GCP source split for the workers of a scaled deployment (agent/scale/): what is set above the
projects one task, each project one task, each collected alone against the Cloud Asset fake on the
wire, together the same snapshots as the whole source."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from posture_demo.fake_gcp import FOLDER, ORG, FakeCloudAsset, Fault, demo_identity_policies, demo_org

from agent.errors import AgentError
from agent.models import Snapshot
from agent.scale.sweeps import Task
from agent.scale.worker import for_account
from collectors import CollectContext
from collectors.gcp import collect
from collectors.gcp.collection import part_of, parts
from collectors.gcp.config import GcpSource

PROJECTS = ["shop-prod", "shop-sandbox"]


@pytest.fixture
def fake() -> Iterator[FakeCloudAsset]:
    server = FakeCloudAsset(demo_org(), identity_policies=demo_identity_policies(), max_page=2)
    server.start()
    yield server
    server.stop()


def _source(fake: FakeCloudAsset, scope: str = ORG, **kw: object) -> GcpSource:
    return GcpSource.model_validate(
        {
            "name": "gcp",
            "provider": "gcp",
            "scope": scope,
            "endpoint": fake.url,
            "timeout": "5s",
            "cloud_identity_admin": "admin@example.com",
            **kw,
        }
    )


def _by_account(snaps: list[Snapshot]) -> dict[str, Snapshot]:
    out: dict[str, Snapshot] = {}
    for snap in snaps:
        assert snap.account not in out, f"{snap.account} collected twice"
        out[snap.account] = snap
    return out


def _errors(snap: Snapshot) -> list[tuple[str, str, str, str]]:
    """What failed (the message names the call's URL, which differs between a part and the whole)."""
    return sorted((e.service, e.operation, e.code, e.resource_type) for e in snap.errors)


def _union_of_parts(source: GcpSource) -> dict[str, Snapshot]:
    return _by_account(
        [s for part in parts(source, CollectContext()) for s in collect(part_of(source, part), CollectContext())]
    )


@pytest.mark.parametrize(
    ("scope", "refused"),
    [
        (ORG, ""),
        (FOLDER, ""),
        (ORG, ":searchAllIamPolicies"),  # a call every part makes: each account carries the same error
        (FOLDER, ":searchAllIamPolicies"),
        # a folder's source that may not read its organization: the projects still inherit from the
        # folder; the part above them never reads the organization, so does not carry its errors
        (FOLDER, f"/v1/{ORG}/assets"),
    ],
    ids=["org", "folder", "org-iam-search-refused", "folder-iam-search-refused", "folder-org-refused"],
)
def test_the_parts_together_collect_what_the_whole_source_does(fake: FakeCloudAsset, scope: str, refused: str) -> None:
    source = _source(fake, scope)
    if refused:
        fake.faults.append(Fault(match=refused, status=403, times=10_000, headers={}))
    whole = _by_account(collect(source, CollectContext()))
    union = _union_of_parts(source)
    assert set(union) == set(whole)
    for account, snap in whole.items():
        assert {r.id for r in union[account].resources} == {r.id for r in snap.resources}, account
        assert union[account].resources == snap.resources, account  # with what each project inherits
        if account in PROJECTS or ORG not in refused:
            assert _errors(union[account]) == _errors(snap), account
        else:
            assert not union[account].errors and snap.errors, account
    assert bool(refused) == any(s.errors for s in whole.values())


def test_an_organization_is_the_part_above_its_projects_then_each_project(fake: FakeCloudAsset) -> None:
    source = _source(fake)
    assert parts(source, CollectContext()) == [ORG, *PROJECTS]
    fake.requests.clear()
    above = _by_account(collect(part_of(source, ORG), CollectContext()))
    assert set(above) == {ORG}
    types = {r.type for r in above[ORG].resources}
    assert {"gcp.iam.policy", "gcp.logging.log_sink", "gcp.essentialcontacts.contact"} <= types
    assert "gcp.cloudidentity.customer" in types  # the customer belongs to the organization
    # nothing a project inherits is read for it: no IAM or organization policy listing
    assert not [p for p in fake.requests if "contentType=2" in p or "contentType=4" in p]
    for project in PROJECTS:
        (snap,) = collect(part_of(source, project), CollectContext())
        assert snap.account == project and snap.complete
        assert "gcp.cloudidentity.customer" not in {r.type for r in snap.resources}


def test_a_project_of_a_folder_reads_the_folder_only_when_the_organization_is_refused(fake: FakeCloudAsset) -> None:
    part = part_of(_source(fake, FOLDER), "shop-prod")
    assert (part.scope, part.split_from) == ("projects/shop-prod", FOLDER)
    collect(part, CollectContext())
    assert not [p for p in fake.requests if p.startswith(f"/v1/{FOLDER}")]
    fake.faults.append(Fault(match=f"/v1/{ORG}/assets", status=403, times=10_000, headers={}))
    fake.requests.clear()
    (snap,) = collect(part, CollectContext())
    assert len([p for p in fake.requests if p.startswith(f"/v1/{FOLDER}/assets")]) >= 3  # each kind, paged
    project = next(r for r in snap.resources if r.type == "gcp.project")
    assert [a["ancestor"] for a in project.attributes["ancestorAuditConfigs"]] == [FOLDER]
    assert "organizations/100200300" in project.errors["ancestorAuditConfigs"]


def test_a_project_whose_assets_fail_still_gives_its_error_snapshot(fake: FakeCloudAsset) -> None:
    source = _source(fake)
    assert "shop-sandbox" in parts(source, CollectContext())
    fake.faults.append(Fault(match="/v1/projects/shop-sandbox", status=403, times=10_000, headers={}))
    (snap,) = collect(part_of(source, "shop-sandbox"), CollectContext())
    assert snap.account == "shop-sandbox" and not snap.complete
    assert {e.code for e in snap.errors} == {"FORBIDDEN"}
    assert {e.operation for e in snap.errors} == {"SearchAllResources", "ListAssets", "SearchAllIamPolicies"}
    others = _by_account([s for p in (ORG, "shop-prod") for s in collect(part_of(source, p), CollectContext())])
    assert all(s.complete for s in others.values())


def test_a_failed_listing_raises(fake: FakeCloudAsset) -> None:
    fake.faults.append(Fault(match=":searchAllResources", status=403, times=10_000, headers={}))
    with pytest.raises(AgentError, match="projects of organizations/100200300 could not be listed: FORBIDDEN"):
        parts(_source(fake), CollectContext())


def test_a_project_scope_is_one_part_without_a_call(fake: FakeCloudAsset) -> None:
    source = _source(fake, "projects/shop-sandbox")
    assert parts(source, CollectContext()) == ["shop-sandbox"]
    assert part_of(source, "shop-sandbox") is source
    assert not fake.requests


def test_a_worker_narrows_a_gcp_task_to_its_part(fake: FakeCloudAsset) -> None:
    source = _source(fake)
    above = for_account(source, Task("s", source.name, "gcp", ORG))
    project = for_account(source, Task("s", source.name, "gcp", "shop-prod"))
    assert isinstance(above, GcpSource) and isinstance(project, GcpSource)
    assert (above.scope, above.above_projects, above.cloud_identity_admin) == (ORG, True, "admin@example.com")
    assert (project.scope, project.above_projects, project.cloud_identity_admin) == ("projects/shop-prod", False, None)
    assert not source.above_projects
    assert for_account(source, Task("s", source.name, "gcp", "")) is source
    with pytest.raises(ValueError, match="not a project"):
        for_account(source, Task("s", source.name, "gcp", "../organizations/1"))


def test_the_scheduler_expands_a_gcp_source_or_keeps_it_whole(fake: FakeCloudAsset) -> None:
    from agent.config import parse_config
    from agent.cycle import Pipeline
    from agent.scale.scheduler import expand

    pipeline = Pipeline(parse_config("", env={}), None)
    source = _source(fake)
    tasks, detail = expand(source, pipeline)
    assert [(t.provider, t.account) for t in tasks] == [("gcp", ORG), ("gcp", "shop-prod"), ("gcp", "shop-sandbox")]
    assert detail["expanded"]
    fake.faults.append(Fault(match=":searchAllResources", status=403, times=10_000, headers={}))  # listing refused
    tasks, detail = expand(source, pipeline)
    assert [t.account for t in tasks] == [""] and not detail["expanded"] and "FORBIDDEN" in detail["error"]
