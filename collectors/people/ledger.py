"""The people ledger's collection: the roster, the identity map and the identity sources' stored
identities, joined into one snapshot.

- ``people.person``: one per roster row, with the identities joined to the person (by email, or by an
  identity map entry) and which rule joined each;
- ``people.identity``: every identity that joins nobody and can (or may) sign in: an orphan, or an
  account the identity map names as a service account with an owner;
- ``people.ledger``: what was joined: the roster, the map, each identity source's status, accounts,
  the manifest hash of the snapshot joined and when it was collected.

Problems (a bad roster row, an unreadable map, an identity source missing, failed, stale or incomplete)
are CollectionErrors and, on each person, ``errors["identities"]``: the checks then say error, never pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.errors import AgentError
from agent.identity import IdentityView
from agent.models import CollectionError, Resource, Snapshot, utcnow
from collectors import CollectContext
from collectors.people.config import IDENTITY_PROVIDERS, PeopleSource, holds_identities, identity_sources
from collectors.people.roster import IdentityMap, Person, Problem, Roster, read_identity_map, read_roster
from collectors.people.sources import SourceState, read_source

__all__ = ["IDENTITY_TYPE", "LEDGER_TYPE", "PERSON_TYPE", "collect", "identity_id_of", "ledger_id_of", "person_id_of"]

PERSON_TYPE = "people.person"
IDENTITY_TYPE = "people.identity"
LEDGER_TYPE = "people.ledger"
LEDGER_OBSERVATIONS = ("sources[].collected_at", "sources[].run_id")
MAX_ERRORS = 100  # collection errors kept for roster and map rows; the rest are counted in one more


def person_id_of(account: str, email: str) -> str:
    return f"people:{account}:person:{email}"


def identity_id_of(account: str, resource_id: str) -> str:
    return f"people:{account}:identity:{resource_id}"


def ledger_id_of(account: str) -> str:
    return f"people:{account}:ledger"


def _error(operation: str, rtype: str, code: str, message: str) -> CollectionError:
    return CollectionError(
        service="people", operation=operation, region="global", code=code, message=message, resource_type=rtype
    )


def _problem_errors(problems: Sequence[Problem], operation: str, rtypes: Sequence[str]) -> list[CollectionError]:
    out = [_error(operation, t, "InvalidRow", p.text()) for p in problems[:MAX_ERRORS] for t in rtypes]
    if len(problems) > MAX_ERRORS:
        more = f"and {len(problems) - MAX_ERRORS} more problems in {problems[0].file}"
        out.extend(_error(operation, t, "InvalidRow", more) for t in rtypes)
    return out


def _file_digest(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except (OSError, ValueError):
        return None


def _source_names(source: PeopleSource, ctx: CollectContext, errors: list[CollectionError]) -> list[str]:
    configured = list(ctx.sources)
    if source.sources is None:
        names = identity_sources(configured)
        if not names:
            errors.append(
                _error(
                    "ReadIdentitySources",
                    IDENTITY_TYPE,
                    "NoIdentitySource",
                    "no configured source collects identities (okta, googleworkspace, github, azure with Entra ID, "
                    "aws with IAM): there is nothing to join the roster with",
                )
            )
        return names
    by_name = {s.name: s for s in configured}
    names = []
    for name in source.sources:
        other = by_name.get(name)
        if configured and other is None:
            why = f"sources names {name}, which is not a configured source"
        elif other is not None and not holds_identities(other):
            why = f"sources names {name}, which collects no identities (provider {other.provider})"
        else:
            names.append(name)
            continue
        errors.append(_error("ReadIdentitySources", IDENTITY_TYPE, "UnknownSource", why))
    return names


class _Join:
    """The identities joined to people, and the ones that join nobody."""

    def __init__(self, account: str, people: dict[str, Person], imap: IdentityMap) -> None:
        self.account = account
        self.people = people
        self.imap = imap
        self.held: dict[str, list[dict[str, Any]]] = {email: [] for email in people}
        self.unowned: list[Resource] = []
        self.seen: set[str] = set()

    def add(self, source: str, view: IdentityView) -> None:
        entry: dict[str, Any] = {
            "source": source,
            "provider": view.provider,
            "account": view.account,
            "type": view.resource_type,
            "id": view.resource_id,
            "login": view.login,
            "email": view.email,
            "active": view.active,
            "human": view.human,
            "admin": view.admin,
            "mfa": view.mfa,
            "unknown": sorted(view.unknown),
        }
        mapped = self.imap.lookup(view.provider, view.login, view.email) if self.imap.readable else None
        owner: str | None = None
        if mapped is not None:
            target, key = mapped
            entry["joined_by"], entry["map_entry"] = "map", key
            if target.startswith(IdentityMap.SERVICE):
                owner = target[len(IdentityMap.SERVICE) :]
                reason = f"the identity map names it a service account of {owner} ({key}, {self.imap.where.get(key)})"
            elif target in self.people:
                self.held[target].append(entry)
                return
            else:
                where = self.imap.where.get(key)
                reason = f"the identity map ({key}, {where}) joins it to {target}, who is not in the roster"
        elif view.email is not None and view.email in self.people:
            entry["joined_by"], entry["map_entry"] = "email", None
            self.held[view.email].append(entry)
            return
        elif view.email is not None:
            reason = f"no person in the roster has the email {view.email}, and the identity map does not name it"
        else:
            reason = f"it has no email address and the identity map has no entry {view.provider}:{view.login.lower()}"
        if not view.active and "active" not in view.unknown:
            return  # an account that cannot sign in is no one's access
        if view.resource_id in self.seen:
            return  # the same account read through two sources
        self.seen.add(view.resource_id)
        entry.pop("joined_by", None)
        entry.pop("map_entry", None)
        self.unowned.append(
            Resource(
                provider="people",
                account=self.account,
                region="global",
                type=IDENTITY_TYPE,
                id=identity_id_of(self.account, view.resource_id),
                name=f"{view.provider}:{view.login}",
                attributes={**entry, "reason": reason, "owner": owner},
            )
        )


def _person(account: str, person: Person, held: list[dict[str, Any]], identity_problem: str) -> Resource:
    errors = dict(person.errors)
    if identity_problem:
        errors["identities"] = identity_problem
    attrs: dict[str, Any] = {"email": person.email, **person.fields}
    attrs["identities"] = sorted(held, key=lambda e: (e["source"], e["id"]))
    return Resource(
        provider="people",
        account=account,
        region="global",
        type=PERSON_TYPE,
        id=person_id_of(account, person.email),
        name=person.fields.get("name") or person.email,
        attributes=attrs,
        errors=errors,
    )


def _ledger(
    account: str,
    source: PeopleSource,
    roster: Roster,
    imap: IdentityMap | None,
    states: list[SourceState],
    unowned: int,
) -> Resource:
    attrs: dict[str, Any] = {
        "roster": {
            "path": str(source.roster),
            "sha256": _file_digest(source.roster),
            "people": None if roster.people is None else len(roster.people),
            "problems": len(roster.problems),
        },
        "identity_map": None
        if imap is None or source.identity_map is None
        else {
            "path": str(source.identity_map),
            "sha256": _file_digest(source.identity_map),
            "entries": len(imap.where),
            "problems": len(imap.problems),
        },
        "sources": [s.record() for s in states],
        "unowned_identities": unowned,
        "Settings": {
            "offboarding_grace_seconds": int(source.offboarding_grace.total_seconds()),
            "onboarding_window_seconds": int(source.onboarding_window.total_seconds()),
            "max_identity_age_seconds": int(source.max_identity_age.total_seconds()),
        },
    }
    return Resource(
        provider="people",
        account=account,
        region="global",
        type=LEDGER_TYPE,
        id=ledger_id_of(account),
        name=source.name,
        attributes=attrs,
        observations=LEDGER_OBSERVATIONS,
    )


def collect(source: PeopleSource, ctx: CollectContext) -> list[Snapshot]:
    if ctx.store is None:
        raise AgentError(f"source {source.name}: people sources need the agent's store (database)")
    started = utcnow()
    account = source.name
    errors: list[CollectionError] = []

    roster = read_roster(source.roster)
    if roster.people is None:
        errors.extend(_problem_errors(roster.problems, "ReadRoster", (PERSON_TYPE, IDENTITY_TYPE)))
    else:
        errors.extend(_problem_errors(roster.problems, "ReadRoster", (PERSON_TYPE,)))
    imap = read_identity_map(source.identity_map) if source.identity_map is not None else IdentityMap()
    map_problem = ""
    if imap.problems:
        errors.extend(_problem_errors(imap.problems, "ReadIdentityMap", (IDENTITY_TYPE,)))
        # a bad line might have been the one joining a leaver's account: nobody's identities are complete
        map_problem = f"the identity map has {len(imap.problems)} problem(s), first: {imap.problems[0].text()}"

    names = _source_names(source, ctx, errors)
    ctx.progress.add_total(len(names) + 1)
    states: list[SourceState] = []
    for name in names:
        ctx.check_cancelled()
        state = read_source(ctx.store, name, started, source.max_identity_age)
        if state.provider and state.provider not in IDENTITY_PROVIDERS:
            state.status, state.why = "missing", f"source {name} (provider {state.provider}) collects no identities"
            state.identities = []
        if state.status != "ok":
            errors.append(_error("ReadIdentitySnapshot", IDENTITY_TYPE, state.status.capitalize(), state.why))
        states.append(state)
        ctx.progress.advance(1, f"{source.name}: {name} {len(state.identities)} identities")

    problems = [s.why for s in states if s.status != "ok"]
    if not names:
        problems.append("no identity source to join")
    if map_problem:
        problems.append(map_problem)
    identity_problem = "; ".join(problems)

    people = {p.email: p for p in roster.people or []}
    join = _Join(account, people, imap)
    if roster.people is not None:
        for state in states:
            for view in state.identities:
                join.add(state.name, view)
    resources = [_person(account, p, join.held[p.email], identity_problem) for p in people.values()]
    resources.extend(join.unowned)
    resources.append(_ledger(account, source, roster, imap, states, len(join.unowned)))
    ctx.progress.advance(1, f"{source.name}: {len(people)} people, {len(join.unowned)} identities of nobody")
    return [
        Snapshot(
            source=source.name,
            provider="people",
            account=account,
            started_at=started,
            finished_at=_finished(started),
            resources=tuple(sorted(resources, key=lambda r: r.id)),
            errors=tuple(errors),
        )
    ]


def _finished(started: datetime) -> datetime:
    return max(started, utcnow())
