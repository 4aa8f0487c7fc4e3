"""Mappings: the common control set and the frameworks it serves (data in mappings/).

``mappings/controls.yaml`` lists the common controls, each with the checks that test it (automated)
or the document that evidences it (manual). ``mappings/frameworks/<id>.yaml`` lists a framework's
requirements and the common controls behind each. Both are validated on load against the JSON
Schemas in ``mappings/schema/`` and for referential integrity; every problem is reported with its
file and line as a ConfigError.

    m = load_mappings(known_checks=load_checks())
    m.tags_for("aws.iam.console_user_mfa", ("soc2", "iso27001"), ("security",))
    -> ("ISO27001:A.5.17", ..., "SOC2:CC6.1", ...)
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from agent.errors import ConfigError, Problem
from agent.yamlpos import YamlError, load_with_lines

__all__ = [
    "FRAMEWORK_ORDER",
    "check_provider",
    "Control",
    "Framework",
    "Mappings",
    "Requirement",
    "load_mappings",
    "mappings_dir",
    "schema",
]

FRAMEWORK_ORDER = ("soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa")
ALWAYS_IN_SCOPE = "security"

YamlPath = tuple[str | int, ...]


def check_provider(check_id: str) -> str:
    """The provider a check id belongs to (``endpoint.device.x`` -> ``endpoints``)."""
    prefix = check_id.split(".", 1)[0]
    return "endpoints" if prefix == "endpoint" else prefix


def mappings_dir() -> Path:
    return Path(str(resources.files("mappings")))


def schema(name: str, directory: Path | None = None) -> dict[str, Any]:
    """The JSON Schema ``controls`` or ``framework`` (from mappings/schema/)."""
    base = directory if directory is not None and (directory / "schema").is_dir() else mappings_dir()
    doc: dict[str, Any] = json.loads((base / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
    return doc


@cache
def _schema(name: str, base: Path) -> dict[str, Any]:
    return schema(name, base)


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# -- model ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    id: str
    title: str
    description: str
    kind: str  # automated | manual
    checks: tuple[str, ...] = ()
    evidence: str | None = None
    review_every: timedelta | None = None
    line: int = 0

    @property
    def automated(self) -> bool:
        return self.kind == "automated"


@dataclass(frozen=True)
class Requirement:
    framework: str
    prefix: str
    id: str
    title: str
    controls: tuple[str, ...] = ()
    section: str = ""
    category: str | None = None  # SOC 2 only
    implementation: str | None = None  # HIPAA only
    line: int = 0

    @property
    def ref(self) -> str:
        return f"{self.prefix}:{self.id}"


@dataclass(frozen=True)
class Framework:
    id: str
    prefix: str
    name: str
    version: str
    requirements: tuple[Requirement, ...]
    file: str = ""
    # A provider-specific benchmark (CIS AWS) counts only its provider's checks: an Azure MFA
    # finding says nothing about CIS AWS 1.10 although both test the common control IAM-USER-MFA.
    providers: tuple[str, ...] = ()

    def admits(self, check_id: str) -> bool:
        return not self.providers or check_provider(check_id) in self.providers

    def in_scope(self, categories: Iterable[str] = (ALWAYS_IN_SCOPE,)) -> list[Requirement]:
        """The requirements in scope: for SOC 2 only those of the chosen categories (security always)."""
        if self.id != "soc2":
            return list(self.requirements)
        cats = {ALWAYS_IN_SCOPE, *categories}
        return [r for r in self.requirements if (r.category or ALWAYS_IN_SCOPE) in cats]


@dataclass
class Mappings:
    controls: dict[str, Control] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    _by_check: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _tags: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index()

    def _index(self) -> None:
        by_check: dict[str, list[str]] = {}
        for c in self.controls.values():
            for chk in c.checks:
                by_check.setdefault(chk, []).append(c.id)
        self._by_check = {k: tuple(v) for k, v in by_check.items()}
        self._tags.clear()

    def checks(self) -> set[str]:
        """Every check id referenced by a control."""
        return set(self._by_check)

    def controls_for_check(self, check_id: str) -> tuple[str, ...]:
        return self._by_check.get(check_id, ())

    def framework(self, framework_id: str) -> Framework:
        try:
            return self.frameworks[framework_id]
        except KeyError:
            known = ", ".join(self.frameworks) or "none"
            raise ConfigError(
                [Problem(key="framework", message=f"unknown framework {framework_id!r}; known: {known}")]
            ) from None

    def requirement_checks(self, req: Requirement) -> tuple[str, ...]:
        """The checks whose findings decide ``req``: its controls' checks that its framework admits."""
        fw = self.frameworks.get(req.framework)
        return tuple(
            sorted(
                {
                    c
                    for cid in req.controls
                    if cid in self.controls
                    for c in self.controls[cid].checks
                    if fw is None or fw.admits(c)
                }
            )
        )

    def requirement(self, ref: str) -> Requirement | None:
        """The requirement ``ref`` names (``SOC2:CC1.2``, ``ISO27001:A.5.1``; case does not matter), if any."""
        wanted = ref.strip().upper()
        return next((r for fw in self.frameworks.values() for r in fw.requirements if r.ref.upper() == wanted), None)

    def manual_controls(self, req: Requirement) -> tuple[str, ...]:
        """The manual controls (documents) behind ``req``, in its order."""
        return tuple(c for c in req.controls if c in self.controls and not self.controls[c].automated)

    def requirements_for_control(self, control_id: str) -> list[Requirement]:
        return [r for fw in self.frameworks.values() for r in fw.requirements if control_id in r.controls]

    def tags_for(
        self, check_id: str, frameworks: Iterable[str] = ("soc2",), categories: Iterable[str] = (ALWAYS_IN_SCOPE,)
    ) -> tuple[str, ...]:
        """The requirement refs (``SOC2:CC6.1``, ``ISO27001:A.8.5``...) a check's findings affect,
        limited to the frameworks and SOC 2 categories in scope."""
        fws, cats = tuple(frameworks), tuple(categories)
        key = (check_id, fws, cats)
        cached = self._tags.get(key)
        if cached is not None:
            return cached
        controls = set(self.controls_for_check(check_id))
        tags: set[str] = set()
        if controls:
            for fid in fws:
                fw = self.frameworks.get(fid)
                if fw is None or not fw.admits(check_id):
                    continue
                tags.update(r.ref for r in fw.in_scope(cats) if controls.intersection(r.controls))
        result = tuple(sorted(tags))
        self._tags[key] = result
        return result

    def unmapped_checks(self, check_ids: Iterable[str], framework: str = "soc2") -> list[str]:
        """Check ids that support no requirement of ``framework`` (all categories)."""
        fw = self.frameworks.get(framework)
        reqs = fw.requirements if fw else ()
        covered = {chk for r in reqs for chk in self.requirement_checks(r)}
        return sorted(set(check_ids) - covered)


# -- loading -------------------------------------------------------------------------------------


def _dotted(path: Iterable[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _line(path: YamlPath, lines: dict[YamlPath, int]) -> int:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return 0


def _schema_errors(doc: Any, sch: dict[str, Any]) -> list[tuple[YamlPath, str]]:
    """(path, message) of each schema violation."""
    validator = jsonschema.Draft202012Validator(sch)
    out = []
    for err in validator.iter_errors(doc):
        # report the most specific reason of a failed if/then/else or anyOf
        leaf = min(err.context, key=lambda e: -len(e.absolute_path)) if err.context else err
        path = tuple(leaf.absolute_path)
        if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
            known = leaf.schema.get("properties", {})
            extra = [k for k in leaf.instance if k not in known]
            path += tuple(extra[:1])  # point at the unexpected key itself
        out.append((path, _schema_message(leaf)))
    return sorted(out, key=lambda e: [str(p) for p in e[0]])


def _schema_message(err: Any) -> str:
    v = err.validator
    if v == "additionalProperties":
        return str(err.message).replace("Additional properties are not allowed", "unknown key")
    if v == "required":
        return str(err.message).replace("is a required property", "is required")
    if v == "pattern":
        return f"{err.instance!r} does not have the expected form ({err.validator_value})"
    if v == "enum":
        return f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if v == "minItems" and err.validator_value == 1:
        return "must list at least one entry"
    if v == "maxItems" and err.validator_value == 0:
        return "must be empty here"
    if v is None:  # a `false` subschema
        return "is not allowed here"
    return str(err.message)


def _read(file: Path, problems: list[Problem], fast: bool) -> tuple[Any, dict[YamlPath, int]] | None:
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem(file=str(file), key="", message=f"cannot read: {exc.strerror or exc}"))
        return None
    if fast:  # our own packaged files: libyaml, no line numbers (a problem reloads them with lines)
        try:
            return yaml.load(text, Loader=_FAST_LOADER), {}
        except yaml.YAMLError:
            problems.append(Problem(file=str(file), key="", message="not valid YAML"))
            return None
    try:
        return load_with_lines(text)
    except YamlError as exc:
        problems.append(Problem(file=str(file), line=exc.line, key="", message=exc.message))
        return None


def _validated(
    file: Path, name: str, base: Path, problems: list[Problem], fast: bool
) -> tuple[dict[str, Any], dict[YamlPath, int]] | None:
    loaded = _read(file, problems, fast)
    if loaded is None:
        return None
    doc, lines = loaded
    errors = _schema_errors(doc, _schema(name, base))
    for path, message in errors:
        problems.append(Problem(file=str(file), line=_line(path, lines), key=_dotted(path), message=message))
    return None if errors else (doc, lines)


def _parse_days(value: str | None) -> timedelta | None:
    return timedelta(days=int(value[:-1])) if value else None


def load_mappings(directory: Path | None = None, *, known_checks: Collection[str] | None = None) -> Mappings:
    """Load and validate the control set and every framework under ``directory`` (default: the
    installed mappings/ package).

    ``known_checks``: the ids of the checks that exist (``agent.registry.load_checks()``); a control
    naming any other id is an error. None skips that one rule (every other rule still applies).
    Raises ConfigError listing every problem with its file and line.
    """
    base = directory or mappings_dir()
    if directory is None:  # the packaged set: parsed fast; lines are needed only to name a problem
        try:
            return _load_mappings(base, known_checks, fast=True)
        except ConfigError:
            pass
    return _load_mappings(base, known_checks, fast=False)


def _load_mappings(base: Path, known_checks: Collection[str] | None, *, fast: bool) -> Mappings:
    problems: list[Problem] = []
    m = Mappings()

    cfile = base / "controls.yaml"
    loaded = _validated(cfile, "controls", base, problems, fast) if cfile.exists() else None
    if not cfile.exists():
        problems.append(Problem(file=str(cfile), key="", message="the control set is missing"))
    control_lines: dict[str, int] = {}
    controls_ok = loaded is not None
    if loaded is not None:
        doc, lines = loaded
        for i, c in enumerate(doc["controls"]):
            line = lines.get(("controls", i, "id"), 0)
            if c["id"] in m.controls:
                problems.append(
                    Problem(
                        file=str(cfile),
                        line=line,
                        key=f"controls[{i}].id",
                        message=f"duplicate control id {c['id']!r} (first defined on line {control_lines[c['id']]})",
                    )
                )
                continue
            for j, chk in enumerate(c.get("checks", [])):
                if known_checks is not None and chk not in known_checks:
                    where = lines.get(("controls", i, "checks", j), line)
                    problems.append(
                        Problem(
                            file=str(cfile),
                            line=where,
                            key=f"controls[{i}].checks[{j}]",
                            message=f"control {c['id']}: unknown check id {chk!r}",
                        )
                    )
            control_lines[c["id"]] = line
            m.controls[c["id"]] = Control(
                id=c["id"],
                title=c["title"],
                description=c["description"],
                kind=c["kind"],
                checks=tuple(c.get("checks", ())),
                evidence=c.get("evidence"),
                review_every=_parse_days(c.get("review_every")),
                line=line,
            )

    fdir = base / "frameworks"
    files = sorted(fdir.glob("*.yaml")) if fdir.is_dir() else []
    used: set[str] = set()
    frameworks_ok = bool(files)
    if not files:
        problems.append(Problem(file=str(fdir), key="", message="no framework files (*.yaml)"))
    for f in files:
        loaded = _validated(f, "framework", base, problems, fast)
        if loaded is None:
            frameworks_ok = False
            continue
        doc, lines = loaded
        meta = doc["framework"]
        fid = meta["id"]
        if f.stem != fid:
            problems.append(
                Problem(
                    file=str(f),
                    line=lines.get(("framework", "id"), 0),
                    key="framework.id",
                    message=f"framework {fid!r} must be in a file named {fid}.yaml",
                )
            )
        if fid in m.frameworks:
            problems.append(
                Problem(
                    file=str(f),
                    line=lines.get(("framework", "id"), 0),
                    key="framework.id",
                    message=f"duplicate framework id {fid!r} (also in {m.frameworks[fid].file})",
                )
            )
            continue
        reqs: list[Requirement] = []
        seen: dict[str, int] = {}
        for i, r in enumerate(doc["requirements"]):
            line = lines.get(("requirements", i, "id"), 0)
            if r["id"] in seen:
                problems.append(
                    Problem(
                        file=str(f),
                        line=line,
                        key=f"requirements[{i}].id",
                        message=f"duplicate requirement id {r['id']!r} (first on line {seen[r['id']]})",
                    )
                )
                continue
            seen[r["id"]] = line
            for j, cid in enumerate(r["controls"]):
                if controls_ok and cid not in m.controls:
                    where = lines.get(("requirements", i, "controls", j), line)
                    problems.append(
                        Problem(
                            file=str(f),
                            line=where,
                            key=f"requirements[{i}].controls[{j}]",
                            message=f"requirement {r['id']}: unknown control id {cid!r}",
                        )
                    )
                used.add(cid)
            reqs.append(
                Requirement(
                    framework=fid,
                    prefix=meta["prefix"],
                    id=r["id"],
                    title=r["title"],
                    controls=tuple(r["controls"]),
                    section=r.get("section", ""),
                    category=r.get("category"),
                    implementation=r.get("implementation"),
                    line=line,
                )
            )
        m.frameworks[fid] = Framework(
            id=fid,
            prefix=meta["prefix"],
            name=meta["name"],
            version=str(meta["version"]),
            requirements=tuple(reqs),
            file=str(f),
            providers=tuple(meta.get("providers", ())),
        )

    if controls_ok and frameworks_ok:
        for cid, c in m.controls.items():
            if cid not in used:
                problems.append(
                    Problem(
                        file=str(cfile),
                        line=c.line,
                        key=cid,
                        message=f"control {cid} is mapped to no framework requirement",
                    )
                )
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.file, p.line)))
    order = {fid: i for i, fid in enumerate(FRAMEWORK_ORDER)}
    m.frameworks = dict(sorted(m.frameworks.items(), key=lambda kv: (order.get(kv[0], 99), kv[0])))
    m._index()
    return m
