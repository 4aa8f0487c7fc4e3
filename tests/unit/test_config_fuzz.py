"""Generated bad input against the config loader (issue #16): whatever the file or the POSTURE_*
variables hold, loading either succeeds or raises ConfigError, each problem one line naming the file
and a line, or a variable, and a key; ``config validate`` exits 0 or 2, never with a traceback.

The inputs are the shipped configs (deploy/config.example.yaml and the README's config blocks),
mutated: values of other types, huge and negative numbers, dates that do not exist or are out of
range, unicode and control characters, deep nesting, aliases (shared, cyclic, the "billion laughs"),
random keys; then the YAML text itself is cut, spliced and corrupted. And POSTURE_* variables with
random names and values. Run with --hypothesis-show-statistics to see the outcomes."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agent.config import Config, parse_config
from agent.errors import ConfigError, Problem

ROOT = Path(__file__).resolve().parents[2]
FILENAME = "fuzz.yaml"


def _seeds() -> list[dict[str, Any]]:
    texts = [(ROOT / "deploy" / "config.example.yaml").read_text(encoding="utf-8")]
    texts += re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    seeds = [yaml.safe_load(t) for t in texts]
    return [s for s in seeds if isinstance(s, dict)]


SEEDS = _seeds()
SEED_TEXTS = [yaml.safe_dump(s, sort_keys=False) for s in SEEDS]

KEYS = sorted(
    {
        *Config.model_fields,
        *("level", "format", "frameworks", "soc2_categories", "name", "provider", "schedule", "interval"),
        *("jitter", "cron", "misfire_grace", "channels", "routes", "max_age", "signing_key", "anchors", "every"),
        *("regions", "accounts", "role_arn", "scope", "kind", "fleet", "url", "token", "timeout", "<<", "databse"),
    }
)
NASTY = [
    "2024-02-30",
    "2024-13-01",
    "0001-01-01",
    "1999-12-31",
    "9999-12-31",
    "2024-01-01 25:00:00",
    "99999999999999999999d",
    "3651d",
    "-5",
    "1e400",
    "9" * 5000,
    "0x" + "f" * 5000,
    "env:",
    "env:NOT_SET_ANYWHERE",
    "file:/" + "a" * 5000,
    "file:/nonexistent/\u2028x",
    "61 * * * *",
    "*/0 * * * *",
    "sqlite:///:memory:",
    "127.0.0.1:99999",
    "[::1]:http",
    "\u0663\u0663",
    "\u202etxt.exe",
    "\ufeff",
    "",
]
SNIPPETS = [
    "\x00",
    "\x01",
    "\t",
    "\r",
    "\ufeff",
    "\u2028",
    "\x85",
    "x: &a [*a]",
    "<<: *undefined",
    "<<: [1, 2]",
    "? [a, b]\n: 1",
    "key: 2024-02-30",
    "max_age: 99999999999999999d",
    "workers: !!bool maybe",
    "workers: !!timestamp soon",
    "workers: !!python/object:os.system x",
    "workers: !!binary '%%%'",
    "workers: " + "9" * 5000,
    "'unterminated",
    '"\\ud800"',
    '"\\0"',
    "%YAML 1.1\n---",
    "---\n",
    "...",
    "[" * 3000,
    "x: " + "[" * 200 + "]" * 200,
    "x: " + "{a: " * 80 + "1" + "}" * 80,
    "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)),
]


def _one_of(items: list[str]) -> st.SearchStrategy[str]:
    """Like sampled_from, without the (long) items in the strategy's repr and Hypothesis' statistics."""

    def item(i: int) -> str:
        return items[i]

    return st.integers(0, len(items) - 1).map(item)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(),
    st.text(max_size=30),
    _one_of(NASTY),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(data: Any) -> list[tuple[Any, ...]]:
    """Where a mutation may go: each collection once (aliases and cycles share them), 20 deep at most."""
    found: list[tuple[Any, ...]] = []
    seen: set[int] = set()
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        found.append(path)
        if not isinstance(node, (dict, list)) or id(node) in seen or len(path) >= 20:
            continue
        seen.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node)
        stack.extend((path + (k,), v) for k, v in items)
    return found


def _bomb(width: int, depth: int) -> list[Any]:
    level: list[Any] = ["lol"] * width
    for _ in range(depth):
        level = [level] * width  # the same list again: yaml.safe_dump writes it as an anchor and aliases
    return level


def _cycle() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


@st.composite
def _new_value(draw: st.DrawFn, old: Any) -> Any:
    kind = draw(st.sampled_from(["value", "value", "value", "deep", "bomb", "cycle", "shared"]))
    if kind == "deep":
        value: Any = draw(scalars)
        for _ in range(draw(st.integers(1, 90))):
            value = [value] if draw(st.booleans()) else {draw(st.sampled_from(KEYS)): value}
        return value
    if kind == "bomb":
        return _bomb(draw(st.integers(2, 9)), draw(st.integers(1, 10)))
    if kind == "cycle":
        return _cycle()
    if kind == "shared":
        return [old, old]
    return draw(values)


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    """A shipped config, its data mutated, dumped as YAML, and the text then mutated."""
    data: Any = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(_paths(data)))
        parent, node = None, data
        for part in path:
            parent, node = node, node[part]
        op = draw(st.sampled_from(["replace", "add", "delete"]))
        if op == "add" and isinstance(node, dict):
            node[draw(st.sampled_from(KEYS) | st.text(max_size=20))] = draw(values)
        elif op == "delete" and parent is not None:
            del parent[path[-1]]
        elif parent is None:
            data = draw(_new_value(node))
        else:
            parent[path[-1]] = draw(_new_value(node))
    text = yaml.safe_dump(
        data,
        sort_keys=False,
        allow_unicode=draw(st.booleans()),
        default_flow_style=draw(st.sampled_from([False, None, True])),
    )
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "line", "char", "cut", "repeat"]))
        if op == "insert":
            text = text[:at] + draw(_one_of(SNIPPETS)) + text[at:]
        elif op == "line":
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, " " * draw(st.integers(0, 6)) + draw(_one_of(SNIPPETS)))
            text = "\n".join(lines)
        elif op == "char":
            text = text[:at] + draw(st.characters()) + text[at + 1 :]
        elif op == "cut":
            text = text[:at]
        else:
            text = text[:at] + text[at : at + draw(st.integers(1, 200))] * draw(st.integers(2, 20)) + text[at:]
    return text


ENV_PARTS = [*KEYS, "0", "1", "7", "99999999999999999999", "", "x", "\u0663", "\u00b2"]
env_names = st.one_of(
    st.tuples(
        st.sampled_from(sorted(Config.model_fields)),
        st.lists(st.sampled_from(ENV_PARTS) | st.text(max_size=8), max_size=7),
    ).map(lambda name: "POSTURE_" + "__".join([name[0], *name[1]]).upper()),
    st.lists(st.sampled_from(ENV_PARTS) | st.text(max_size=8), min_size=1, max_size=8).map(
        lambda parts: "POSTURE_" + "__".join(parts).upper()
    ),
    st.text(max_size=20).map(lambda name: "POSTURE_" + name),
)
env_values = st.one_of(
    _one_of(NASTY + SNIPPETS),
    st.text(max_size=40),
    values.map(lambda v: yaml.safe_dump(v, default_flow_style=True, allow_unicode=True).strip()),
    _one_of(["[" * 3000 + "]" * 3000, "{l0: &l0 [a, a, a, a, a, a, a, a, a], l1: [*l0, *l0]}"]),
)
envs = st.dictionaries(env_names, env_values, max_size=5)


def _outcome(text: str, env: dict[str, str], filename: str = FILENAME) -> list[Problem]:
    """Load in-process; the problems (empty if valid). Anything but ConfigError fails the test."""
    try:
        parse_config(text, filename=filename, env=env)
    except ConfigError as exc:
        problems = exc.problems
    else:
        event("outcome: valid")
        return []
    assert problems, "a ConfigError lists at least one problem"
    for p in problems:
        line = str(p)
        assert len(line.splitlines()) == 1, line
        assert len(line) <= 2000, line[:200]
        assert p.file == filename or p.file.startswith("env POSTURE_"), line
        assert p.line > 0 or p.key, f"names neither a line nor a key: {line}"
        assert "internal error" not in line and "unexpected error" not in line, line
    event(f"outcome: {_kind(problems[0])}")
    return problems


def _kind(p: Problem) -> str:
    kinds = {
        "YAML syntax": "YAML syntax",
        "control character": "control character",
        "nesting is deeper": "nesting",
        "aliases expand": "alias bomb",
        "refers to a": "alias cycle",
        "invalid date": "invalid date",
        "out of range": "date out of range",
        "duration": "duration",
        "cannot apply": "override cannot apply",
        "unknown key": "unknown key",
    }
    where = "env" if p.file.startswith("env ") else "file"
    return where + ": " + next((v for k, v in kinds.items() if k in p.message), "other problem")


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


@fuzz(450)
@given(text=config_texts(), env=envs | st.just({}))
def test_mutated_configs_give_problems_not_tracebacks(text: str, env: dict[str, str]) -> None:
    _outcome(text, env)


@fuzz(250)
@given(text=st.sampled_from(SEED_TEXTS), env=envs)
def test_random_overrides_give_problems_not_tracebacks(text: str, env: dict[str, str]) -> None:
    _outcome(text, env)


def _real_env(env: dict[str, str]) -> bool:
    """What a process environment can hold: names without '=', nothing with a NUL byte."""
    return all(name and "=" not in name and "\x00" not in name + value for name, value in env.items())


@fuzz(30)
@given(text=config_texts(), env=(envs | st.just({})).filter(_real_env))
def test_config_validate_exits_0_or_2_with_one_line_per_problem(
    tmp_path_factory: pytest.TempPathFactory, text: str, env: dict[str, str]
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "agent.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    expected = _outcome(text, env, filename=str(path))
    base = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "config", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard only
        cwd=ROOT,
        env={**base, **env},
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode in (0, 2), proc.stderr
    lines = proc.stderr.splitlines()
    if expected:
        assert proc.returncode == 2
        assert lines == [f"error: {p}" for p in expected]
    elif proc.returncode == 2:  # valid, but a secret it references cannot be resolved here
        assert lines and all(line.startswith(f"error: {path}: ") for line in lines), lines
    else:
        assert not lines, lines
