"""Properties of the Conditional Access evaluator over generated policies (Graph v1.0 shapes).

One policy covers the user ("All users, All apps, require MFA"). Any narrowing Microsoft documents
(a risk level, a location, a platform, a client-app subset, a device filter, an excluded app, user,
group or role, report-only or off, a grant a device can satisfy) must take that cover away, and any
change that does not concern the user must keep it. Unreadable inputs raise, never cover.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import checks.azure._ca as _ca

GA = "62e90394-69f5-4237-9190-012177145e10"
USER = _ca.Subject(
    id="u1", label="alice", groups=frozenset({"g-staff"}), active_roles=frozenset({GA}), any_roles=frozenset({GA})
)
DIRECTORY = _ca.Directory(groups={"g-staff": "All staff", "g-contractors": "Contractors"})
CLIENT_TYPES = ["browser", "mobileAppsAndDesktopClients", "exchangeActiveSync", "other"]
PLATFORMS = ["android", "iOS", "windows", "macOS", "linux", "windowsPhone"]


def covering() -> dict[str, Any]:
    return {
        "id": "p1",
        "displayName": "MFA all",
        "state": "enabled",
        "conditions": {
            "users": {"includeUsers": ["All"]},
            "applications": {"includeApplications": ["All"]},
            "clientAppTypes": ["all"],
        },
        "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
    }


def _narrow(policy: dict[str, Any], how: tuple[str, Any]) -> None:
    kind, value = how
    cond, grant = policy["conditions"], policy["grantControls"]
    if kind in ("userRiskLevels", "signInRiskLevels"):
        cond[kind] = value
    elif kind == "locations":
        cond["locations"] = value
    elif kind == "platforms":
        cond["platforms"] = value
    elif kind == "clientAppTypes":
        cond["clientAppTypes"] = value
    elif kind == "devices":
        cond["devices"] = {"deviceFilter": {"mode": "include", "rule": value}}
    elif kind == "excludeApplications":
        cond["applications"]["excludeApplications"] = value
    elif kind == "includeApplications":
        cond["applications"]["includeApplications"] = value
    elif kind == "exclude":
        cond["users"][value[0]] = [value[1]]
    elif kind == "state":
        policy["state"] = value
    elif kind == "grant":
        policy["grantControls"] = {**grant, **value}


_ids = st.text(alphabet="0123456789abcdef-", min_size=4, max_size=36)
narrowings = st.one_of(
    st.tuples(
        st.sampled_from(["userRiskLevels", "signInRiskLevels"]),
        st.lists(st.sampled_from(["low", "medium", "high"]), min_size=1, max_size=3, unique=True),
    ),
    st.tuples(
        st.just("locations"),
        st.one_of(
            st.builds(lambda i: {"includeLocations": i}, st.lists(_ids, min_size=1, max_size=3)),
            st.builds(
                lambda e: {"includeLocations": ["All"], "excludeLocations": e}, st.lists(_ids, min_size=1, max_size=3)
            ),
        ),
    ),
    st.tuples(
        st.just("platforms"),
        st.one_of(
            st.builds(
                lambda i: {"includePlatforms": i},
                st.lists(st.sampled_from(PLATFORMS), min_size=1, max_size=5, unique=True),
            ),
            st.builds(
                lambda e: {"includePlatforms": ["all"], "excludePlatforms": e},
                st.lists(st.sampled_from(PLATFORMS), min_size=1, max_size=3, unique=True),
            ),
        ),
    ),
    st.tuples(st.just("clientAppTypes"), st.lists(st.sampled_from(CLIENT_TYPES), min_size=1, max_size=3, unique=True)),
    st.tuples(st.just("devices"), st.sampled_from(["device.isCompliant -eq False", 'device.trustType -eq "ServerAD"'])),
    st.tuples(st.just("excludeApplications"), st.lists(_ids, min_size=1, max_size=3)),
    st.tuples(st.just("includeApplications"), st.lists(_ids, min_size=1, max_size=3)),
    st.tuples(
        st.just("exclude"),
        st.sampled_from([("excludeUsers", "u1"), ("excludeGroups", "g-staff"), ("excludeRoles", GA)]),
    ),
    st.tuples(st.just("state"), st.sampled_from(["enabledForReportingButNotEnforced", "disabled"])),
    st.tuples(
        st.just("grant"),
        st.sampled_from(
            [
                {"builtInControls": ["mfa", "compliantDevice"]},
                {"builtInControls": ["mfa", "domainJoinedDevice"]},
                {"builtInControls": ["compliantDevice"]},
                {"builtInControls": ["passwordChange"]},
                {
                    "builtInControls": ["compliantApplication"],
                    "authenticationStrength": {
                        "id": "00000000-0000-0000-0000-000000000002",
                        "requirementsSatisfied": "mfa",
                    },
                },
            ]
        ),
    ),
)
harmless = st.one_of(
    st.tuples(st.just("exclude"), st.tuples(st.just("excludeUsers"), _ids.filter(lambda i: i != "u1"))),
    st.tuples(st.just("exclude"), st.just(("excludeGroups", "g-contractors"))),  # read, and alice is not in it
    st.tuples(st.just("clientAppTypes"), st.just(["all"])),
    st.tuples(st.just("grant"), st.just({"operator": "AND", "builtInControls": ["mfa", "compliantDevice"]})),
)


def test_the_base_policy_covers() -> None:
    assert _ca.mfa_coverage([covering()], USER, DIRECTORY).by == "'MFA all'"


@settings(max_examples=300, deadline=None)
@given(st.lists(narrowings, min_size=1, max_size=3))
def test_any_documented_narrowing_takes_the_cover_away(hows: list[tuple[str, Any]]) -> None:
    policy = covering()
    for how in hows:
        _narrow(policy, how)
    got = _ca.mfa_coverage([policy], USER, DIRECTORY)
    assert got.by is None, (hows, got)


@settings(max_examples=150, deadline=None)
@given(st.lists(harmless, min_size=1, max_size=3), st.lists(narrowings, max_size=2))
def test_changes_that_do_not_concern_the_user_keep_the_cover(
    hows: list[tuple[str, Any]], other: list[tuple[str, Any]]
) -> None:
    policy = covering()
    for how in hows:
        _narrow(policy, how)
    unrelated = copy.deepcopy(covering())  # a second, narrowed policy never removes the first one's cover
    unrelated["id"], unrelated["displayName"] = "p2", "narrow"
    for how in other:
        _narrow(unrelated, how)
    assert _ca.mfa_coverage([unrelated, policy], USER, DIRECTORY).by in ("'MFA all'", "'narrow'" if not other else "")


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["excludeGroups", "includeGroups"]), _ids)
def test_a_group_whose_members_were_not_read_is_unknown_never_covered(key: str, gid: str) -> None:
    policy = covering()
    users = policy["conditions"]["users"]
    if key == "includeGroups":
        users["includeUsers"] = []
    users[key] = [gid]
    got = _ca.mfa_coverage([policy], USER, _ca.Directory(groups={}, group_error="Authorization_RequestDenied"))
    assert got.by is None
    assert got.unknown and "Authorization_RequestDenied" in got.unknown[0]


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=12,
    )
)
def test_garbage_conditions_never_cover(conditions: Any) -> None:
    """Whatever the service sends as conditions, the answer is a cover only for the documented shape."""
    policy = covering()
    policy["conditions"] = conditions
    try:
        got = _ca.mfa_coverage([policy], USER, DIRECTORY)
    except (_ca.Unknown, AttributeError, TypeError, ValueError):
        return  # the check turns these into error
    if got.by is not None:  # only if the generated conditions include alice and all apps as documented
        assert isinstance(conditions, dict)
        assert "All" in ((conditions.get("users") or {}).get("includeUsers") or [])
        assert "All" in ((conditions.get("applications") or {}).get("includeApplications") or [])
