"""What a project inherits (collectors/gcp/ancestry.py): plain data in, attributes and errors out."""

from __future__ import annotations

from collectors.gcp.ancestry import IAM, ORG_POLICY, SETTINGS, Hierarchy, effective_boolean, inherited

CHAIN = ["projects/1", "folders/2", "organizations/3"]
OS_LOGIN = "constraints/compute.requireOsLogin"


def hierarchy(roots: set[str] | None = None, **policies: list[dict[str, object]]) -> Hierarchy:
    h = Hierarchy()
    for kind in (IAM, ORG_POLICY, SETTINGS):
        h.coverage[kind].roots = set(roots if roots is not None else {"organizations/3"})
        h.coverage[kind].failure = "" if roots is None or "organizations/3" in roots else "organizations/3: DENIED"
    h.org_policies = {k.replace("_", "/"): v for k, v in policies.items()}
    return h


def test_the_nearest_policy_that_sets_the_constraint_wins() -> None:
    h = hierarchy(
        folders_2=[{"constraint": OS_LOGIN, "booleanPolicy": {"enforced": True}}],
        organizations_3=[{"constraint": OS_LOGIN, "booleanPolicy": {}}],
    )
    assert effective_boolean(CHAIN, OS_LOGIN, h) == ({"enforced": True, "setOn": "folders/2"}, "")


def test_restore_default_below_an_enforcing_folder_turns_it_off() -> None:
    h = hierarchy(
        projects_1=[{"constraint": OS_LOGIN, "restoreDefault": {}}],
        folders_2=[{"constraint": OS_LOGIN, "booleanPolicy": {"enforced": True}}],
    )
    value, _ = effective_boolean(CHAIN, OS_LOGIN, h)
    assert value == {"enforced": False, "setOn": "projects/1 (restoreDefault)"}


def test_a_policy_without_a_value_inherits_and_an_empty_boolean_policy_is_false() -> None:
    h = hierarchy(
        projects_1=[{"constraint": OS_LOGIN}],
        folders_2=[{"constraint": OS_LOGIN, "booleanPolicy": {}}],
        organizations_3=[{"constraint": OS_LOGIN, "booleanPolicy": {"enforced": True}}],
    )
    assert effective_boolean(CHAIN, OS_LOGIN, h) == ({"enforced": False, "setOn": "folders/2"}, "")


def test_nothing_set_anywhere_is_the_default() -> None:
    assert effective_boolean(CHAIN, OS_LOGIN, hierarchy()) == ({"enforced": False, "setOn": "default"}, "")


def test_an_unreadable_ancestor_leaves_the_value_unknown_unless_a_nearer_level_decides() -> None:
    denied = hierarchy(roots={"projects/1"})
    value, why = effective_boolean(CHAIN, OS_LOGIN, denied)
    assert value is None and "folders/2" in why and "DENIED" in why
    decided = hierarchy(
        roots={"projects/1"}, projects_1=[{"constraint": OS_LOGIN, "booleanPolicy": {"enforced": True}}]
    )
    assert effective_boolean(CHAIN, OS_LOGIN, decided)[0] == {"enforced": True, "setOn": "projects/1"}


def test_inherited_settings_name_where_they_come_from_and_what_could_not_be_read() -> None:
    h = hierarchy()
    h.iam = {"folders/2": {"auditConfigs": [{"service": "allServices"}]}}
    h.sinks = {"organizations/3": [{"name": "org-audit", "includeChildren": True}]}
    attrs, errors = inherited(CHAIN, h)
    assert attrs["ancestorAuditConfigs"] == [{"ancestor": "folders/2", "auditConfigs": [{"service": "allServices"}]}]
    assert attrs["ancestorLogSinks"] == [{"name": "org-audit", "includeChildren": True, "_ancestor": "organizations/3"}]
    assert not errors
    attrs, errors = inherited(CHAIN, hierarchy(roots={"projects/1"}))
    assert set(errors) >= {
        "ancestorAuditConfigs",
        "ancestorLogSinks",
        "ancestorEssentialContacts",
        f"orgPolicy:{OS_LOGIN}",
    }
    assert "folders/2, organizations/3" in errors["ancestorAuditConfigs"]
