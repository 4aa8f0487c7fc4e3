"""MFA coverage: the share of active human identities that can sign in only with MFA, per identity source
and over all of them, on /metrics.

Every identity type (agent/identity.py: Okta and Google Workspace users, GitHub members, Entra ID users,
IAM users) counts, whatever its provider. An identity whose MFA state could not be determined counts
as *unknown*, never as covered: the ratio claims no more than the evidence shows. A source's tally
is replaced only by a complete inventory of its identities (no collection error on an identity type);
a failed or partial cycle leaves the last complete one in place, and
``posture_last_successful_collection_timestamp_seconds`` says how old it is.

    posture_identities{source, provider, mfa="yes|no|unknown"}   active human identities
    posture_mfa_coverage_ratio{source}                            mfa="yes" / all, per source
    posture_mfa_coverage_overall_ratio                            the same over every source
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily

from agent.config_base import SourceBase
from agent.identity import IDENTITY_TYPES, identity_of
from agent.metrics import AgentMetrics
from agent.models import Snapshot

__all__ = ["MfaCoverage", "Tally", "identity_types", "tally"]

_ENTRA_TENANT = "azure.entra.tenant"
STATES = ("yes", "no", "unknown")


@dataclass(frozen=True)
class Tally:
    provider: str
    counts: dict[str, int]  # mfa state -> active human identities

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def identity_types(provider: str, collects: Callable[[str], bool]) -> frozenset[str]:
    """The identity types a source of ``provider`` collects (``collects``: its SourceBase.collects)."""
    return frozenset(t for t in IDENTITY_TYPES if t.split(".", 1)[0] == provider and collects(t))


def tally(snapshots: Sequence[Snapshot], expected: frozenset[str] = frozenset()) -> Tally | None:
    """The active human identities of a source's snapshots by MFA state. None when there is nothing to
    count (no snapshot, or no identity seen nor ``expected``: a source whose settings collect an
    identity type has a tally of zero when it holds none), or when an identity type was not
    (completely) collected this time."""
    if not snapshots:
        return None
    counts: Counter[str] = Counter()
    provider = next((s.provider for s in snapshots if expected), "")
    seen_type = bool(expected)
    for snap in snapshots:
        if any(e.resource_type in IDENTITY_TYPES for e in snap.errors):
            return None
        tenant = next((r for r in snap.resources if r.type == _ENTRA_TENANT), None)
        for res in snap.resources:
            if res.type not in IDENTITY_TYPES:
                continue
            seen_type = True
            provider = provider or res.provider
            view = identity_of(res, tenant=tenant if res.type == "azure.entra.user" else None)
            if view is None or not view.active or not view.human:
                continue
            counts["unknown" if view.mfa is None else "yes" if view.mfa else "no"] += 1
    if not seen_type:
        return None
    return Tally(provider, {state: counts.get(state, 0) for state in STATES})


class MfaCoverage:
    """Keeps each source's last complete tally and exports the three families at scrape time."""

    def __init__(self, metrics: AgentMetrics) -> None:
        self._lock = threading.Lock()
        self._tallies: dict[str, Tally] = {}
        metrics.add_family_source(self._families)

    def observe(self, source: SourceBase, snapshots: Sequence[Snapshot]) -> None:
        found = tally(snapshots, identity_types(source.provider, source.collects))
        if found is None:
            return
        with self._lock:
            self._tallies[source.name] = found

    def _families(self) -> Iterator[GaugeMetricFamily]:
        with self._lock:
            tallies = dict(self._tallies)
        if not tallies:
            return
        identities = GaugeMetricFamily(
            "posture_identities",
            "Active human identities per identity source, by whether they can sign in only with MFA "
            "(unknown: the MFA state could not be read).",
            labels=["source", "provider", "mfa"],
        )
        ratio = GaugeMetricFamily(
            "posture_mfa_coverage_ratio",
            "Share of the source's active human identities with MFA (unknown counts as without).",
            labels=["source"],
        )
        for source, t in sorted(tallies.items()):
            for state in STATES:
                identities.add_metric([source, t.provider, state], t.counts[state])
            if t.total:
                ratio.add_metric([source], t.counts["yes"] / t.total)
        yield identities
        yield ratio
        total = sum(t.total for t in tallies.values())
        if total:
            overall = GaugeMetricFamily(
                "posture_mfa_coverage_overall_ratio",
                "Share of all active human identities, over every identity source, with MFA.",
            )
            overall.add_metric([], sum(t.counts["yes"] for t in tallies.values()) / total)
            yield overall
