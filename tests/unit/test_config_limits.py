"""Bad input never ends in a traceback or a hang: one case for each kind of input that once did
(issue #16), each giving one line that names the file and line, or the variable, the key and the
problem, and exit status 2 from ``config validate``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent import yamlpos
from agent.config import load_config, parse_config, secret_problems
from agent.errors import ConfigError
from agent.yamlpos import YamlError, load_with_lines

ROOT = Path(__file__).resolve().parents[2]

# nine lists of nine aliases to the list before: 9**9 (387 million) strings once expanded
ALIAS_BOMB = "checks:\n  x:\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"    l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10)
)


@pytest.fixture(params=["libyaml", "pure"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both YAML parsers: libyaml's when PyYAML has it, and PyYAML's own."""
    if request.param == "libyaml" and not yamlpos.HAVE_LIBYAML:
        pytest.skip("PyYAML without libyaml")
    monkeypatch.setattr(yamlpos, "USE_LIBYAML", request.param == "libyaml")
    yield request.param


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, filename="agent.yaml", env=env or {})
    found = [str(p) for p in info.value.problems]
    for line in found:
        assert len(line.splitlines()) == 1, line
    return found


def one_problem(text: str, env: dict[str, str] | None = None) -> str:
    found = problems(text, env)
    assert len(found) == 1, found
    return found[0]


# -- values YAML cannot construct, and values out of range ----------------------------------------


@pytest.mark.usefixtures("parser")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("external_url: 2024-02-30\n", "agent.yaml:1: external_url: invalid date '2024-02-30': day is out of range"),
        ("checks:\n  x: {since: 2024-13-01}\n", "agent.yaml:2: checks.x.since: invalid date '2024-13-01': month must"),
        ("external_url: 2024-01-01 25:00:00\n", "agent.yaml:1: external_url: invalid date '2024-01-01 25:00:00'"),
        ("workers: !!bool maybe\n", "agent.yaml:1: workers: invalid value 'maybe'"),
        ("workers: !!int twelve\n", "agent.yaml:1: workers: invalid value 'twelve'"),
        ("workers: !!timestamp soon\n", "agent.yaml:1: workers: invalid date 'soon'"),
        ("workers: " + "9" * 5000 + "\n", "agent.yaml:1: workers: invalid value '99999"),
        ("? [a, b]\n: 1\n", "agent.yaml:1: a key must be a plain value, not a list or a mapping"),
    ],
)
def test_a_value_yaml_cannot_construct_is_one_line(text: str, expected: str) -> None:
    assert one_problem(text).startswith(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "alerts:\n  max_age: 99999999999999999d\n",
            "agent.yaml:2: alerts.max_age: duration '99999999999999999d' is longer",
        ),
        (
            "alerts:\n  max_age: 99999999999999999999999\n",
            "agent.yaml:2: alerts.max_age: duration '99999999999999999999999'",
        ),
        (
            "alerts:\n  max_age: 0x" + "f" * 5000 + "\n",
            "agent.yaml:2: alerts.max_age: duration <a huge integer> is longer",
        ),
        (
            "alerts:\n  max_age: 3651d\n",
            "agent.yaml:2: alerts.max_age: duration '3651d' is longer than 10 years (3650d)",
        ),
        ("alerts:\n  max_age: " + "9" * 70 + "s\n", "agent.yaml:2: alerts.max_age: invalid duration"),
        ("alerts:\n  max_age: -5\n", "agent.yaml:2: alerts.max_age: duration '-5' is negative"),
        (
            "alerts:\n  max_age: [1h]\n",
            "agent.yaml:2: alerts.max_age: expected a duration such as 30s, 15m, 1h or 7d, not a list",
        ),
        (
            "sources:\n  - name: a\n    provider: aws\n    schedule: {interval: 1h, jitter: 999999999999w}\n",
            "agent.yaml:4: sources[0].schedule.jitter: duration '999999999999w' is longer than 10 years",
        ),
        (
            "checks:\n  aws.lambda.runtime_supported:\n    deprecated_on: {python3.9: 1999-12-31}\n",
            "agent.yaml:3: checks.aws.lambda.runtime_supported.deprecated_on.python3.9: date 1999-12-31 is out of "
            "range: use one from 2000-01-01 to 2100-12-31",
        ),
        (
            "checks:\n  x: {until: 2101-01-01 00:00:00}\n",
            "agent.yaml:2: checks.x.until: date 2101-01-01T00:00:00 is out",
        ),
    ],
)
def test_durations_and_dates_are_range_checked(text: str, expected: str) -> None:
    assert one_problem(text).startswith(expected)


def test_the_longest_duration_and_the_edge_dates_are_valid() -> None:
    cfg = parse_config(
        "alerts:\n  max_age: 3650d\nchecks:\n  x: {a: 2000-01-01, b: 2100-12-31}\n", filename="agent.yaml", env={}
    )
    assert cfg.alerts.max_age.days == 3650


# -- the file itself -------------------------------------------------------------------------------


@pytest.mark.usefixtures("parser")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "workers: 2\nlisten: 127.0.0.1:9464\x00\n",
            "agent.yaml:2: control character U+0000 (a NUL byte) is not allowed",
        ),
        ("workers: 2\x01\n", "agent.yaml:1: control character U+0001 is not allowed in YAML"),
        ("checks:\n  x: " + "[" * 100 + "]" * 100 + "\n", "agent.yaml:2: YAML nesting is deeper than 64 levels"),
        ("checks:\n  x: " + "[" * 5000 + "]" * 5000 + "\n", "agent.yaml:2: YAML nesting is deeper than 64 levels"),
        ("checks:\n  x: " + "{a: " * 200 + "1" + "}" * 200 + "\n", "agent.yaml:2: YAML nesting is deeper than 64"),
        ("".join("  " * i + f"k{i}:\n" for i in range(80)), "agent.yaml:64: YAML nesting is deeper than 64 levels"),
        ("checks:\n  x: &a [*a]\n", "agent.yaml:2: checks.x[0]: an alias refers to a collection that contains it"),
        ("checks: &a\n  x: *a\n", "agent.yaml:1: checks.x: an alias refers to a collection that contains it"),
        ("checks:\n  x: &a {<<: *a, y: 1}\n", "agent.yaml:2: checks.x: a merge key (<<) refers to a mapping that"),
        ("checks:\n  x: {<<: [1, 2]}\n", "agent.yaml:2: checks.x: a merge key (<<) takes a mapping or a list of"),
        ("workers: 2\nworkers: 3\n", "agent.yaml:2: duplicate key 'workers'"),
        ("log:\n  level: info\n  level: debug\n", "agent.yaml:3: log: duplicate key 'level'"),
    ],
)
def test_a_bad_file_is_one_line(text: str, expected: str) -> None:
    assert one_problem(text).startswith(expected)


@pytest.mark.usefixtures("parser")
def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    found = one_problem(ALIAS_BOMB)
    assert found.startswith("agent.yaml:")
    assert "checks.x.l" in found
    assert "YAML aliases expand to more than 10000 values" in found


@pytest.mark.usefixtures("parser")
def test_aliases_that_share_a_little_still_work() -> None:
    cfg = parse_config(
        "sources:\n"
        "  - {name: a, provider: aws, schedule: &hourly {interval: 1h, jitter: 1m}}\n"
        "  - {name: b, provider: aws, schedule: *hourly}\n"
        "  - {name: c, provider: aws, schedule: {<<: *hourly, interval: 2h}}\n",
        filename="agent.yaml",
        env={},
    )
    a, b, c = (s.schedule for s in cfg.sources)
    assert a == b and a.interval is not None and a.interval.total_seconds() == 3600
    assert c.interval is not None and c.interval.total_seconds() == 7200 and c.jitter.total_seconds() == 60


def test_a_merge_gives_the_mapping_its_own_keys_first_then_the_earlier_sources() -> None:
    data, lines = load_with_lines("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b], y: 3}\n")
    assert data["c"] == {"y": 3, "x": 1, "z": 2}
    assert lines[("c", "y")] == 3 and lines[("c", "z")] == 2


def test_the_loader_raises_only_yaml_errors_with_a_line() -> None:
    with pytest.raises(YamlError) as info:
        load_with_lines("a: 1\n" * 10 + "b: [\n")
    assert info.value.line == 12 and info.value.syntax
    with pytest.raises(YamlError) as info:
        load_with_lines("x" * 100, max_bytes=99)
    assert info.value.message == "YAML text is larger than 99 bytes"


def test_keys_and_values_are_printed_on_one_line() -> None:
    found = one_problem('"da\\ntab\\u2028se\\0": 1\n')
    assert found.startswith("agent.yaml:1: da\\x0atab\\u2028se\\x00: unknown key")
    long = one_problem("k" * 1000 + ": 1\n")  # YAML allows keys of up to 1024 characters
    assert len(long) < 300 and long.startswith("agent.yaml:1: kkk")


def test_a_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes(b"workers: 2\nexternal_url: http://caf\xe9.example\n")
    directory = tmp_path / "conf.d"
    directory.mkdir()
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (1024 * 1024) + b"\n")
    expected = {
        latin: f"{latin}:2: not UTF-8 text: byte 0xe9 cannot be decoded; save the file as UTF-8",
        directory: f"{directory}: is a directory, not a config file",
        big: f"{big}: config file is larger than 1 MiB",
    }
    for path, line in expected.items():
        with pytest.raises(ConfigError) as info:
            load_config(path, env={})
        assert [str(p) for p in info.value.problems] == [line]


def test_an_unreadable_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tmp_path / "locked.yaml"
    locked.write_text("workers: 2\n")

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)  # as chmod 000 would, for a user who is not root
    with pytest.raises(ConfigError) as info:
        load_config(locked, env={})
    assert [str(p) for p in info.value.problems] == [f"{locked}: cannot read config file: Permission denied"]


def test_secret_files_that_cannot_be_checked_are_problems_not_crashes() -> None:
    cfg = parse_config(
        "alerts:\n  channels:\n    - {name: s, type: slack, webhook_url: 'file:/" + "a" * 5000 + "'}\n", env={}
    )
    (found,) = secret_problems(cfg)
    assert found.key == "alerts.channels[0].webhook_url" and "cannot be checked" in found.message
    assert one_problem('alerts:\n  channels:\n    - {name: s, type: slack, webhook_url: "file:/a\\0b"}\n').startswith(
        "agent.yaml:3: alerts.channels[0].webhook_url: a secret's file path cannot contain control characters"
    )


# -- POSTURE_* overrides ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"POSTURE_WORKERS": "2024-02-30"}, "env POSTURE_WORKERS: workers: invalid date '2024-02-30'"),
        ({"POSTURE_ALERTS__MAX_AGE": "99999999999999999d"}, "env POSTURE_ALERTS__MAX_AGE: alerts.max_age: duration"),
        ({"POSTURE_ALERTS__MAX_AGE": "-1"}, "env POSTURE_ALERTS__MAX_AGE: alerts.max_age: duration '-1' is negative"),
        (
            {"POSTURE_CHECKS": "{x: " + "[" * 100 + "]" * 100 + "}"},
            "env POSTURE_CHECKS: checks: YAML nesting is deeper",
        ),
        (
            {"POSTURE_CHECKS": "{x: " + "[" * 5000 + "]" * 5000 + "}"},
            "env POSTURE_CHECKS: checks: YAML nesting is deeper",
        ),
        ({"POSTURE_CHECKS": "{x: {a: 1999-01-01}}"}, "env POSTURE_CHECKS: checks.x.a: date 1999-01-01 is out of range"),
        (
            {"POSTURE_CHECKS": "{" + ALIAS_BOMB.split("\n", 2)[2].replace("\n", ", ").replace("    ", "") + "}"},
            "env POSTURE_CHECKS: checks",
        ),
        ({"POSTURE_LOG__LEVEL__X": "1"}, "env POSTURE_LOG__LEVEL__X: log.level: invalid value {'x': 1}"),
        (
            {"POSTURE_WORKERS__X": "1"},
            "env POSTURE_WORKERS__X: workers.x: cannot apply the override: workers is a value",
        ),
        (
            {"POSTURE_SOURCES__3__NAME": "x"},
            "env POSTURE_SOURCES__3__NAME: sources[3].name: cannot apply the override: sources has 1 items: there is no",
        ),
        (
            {"POSTURE_SOURCES__NAME": "x"},
            "env POSTURE_SOURCES__NAME: sources.name: cannot apply the override: sources is a list: give an item number",
        ),
        ({"POSTURE_SOURCES__" + "9" * 5000 + "__NAME": "x"}, "env POSTURE_SOURCES__999"),
        (
            {"POSTURE_SOURCES__\u0663__NAME": "x"},
            "env POSTURE_SOURCES__\u0663__NAME: sources.\u0663.name: cannot apply",
        ),
        ({"POSTURE_CHECKS" + "__X" * 70: "1"}, "env POSTURE_CHECKS__X__X"),
    ],
)
def test_a_bad_override_is_one_line_naming_the_variable(env: dict[str, str], expected: str) -> None:
    text = "workers: 2\nsources:\n  - {name: a, provider: aws}\n"
    found = one_problem(text, env)
    assert found.startswith(expected), found


def test_an_override_that_is_not_yaml_is_text() -> None:
    cfg = parse_config("workers: 2\n", env={"POSTURE_EXTERNAL_URL": "https://x.example/a: b: c"})
    assert cfg.external_url == "https://x.example/a: b: c"


# -- the command -----------------------------------------------------------------------------------


def _validate(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("POSTURE_")}
    return subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "config", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard only: each of these returns in about a second
        cwd=ROOT,
        env={**base, **(env or {})},
    )


@pytest.mark.parametrize(
    ("content", "env", "expected"),
    [
        (b"external_url: 2024-02-30\n", {}, ":1: external_url: invalid date '2024-02-30'"),
        (b"alerts: {max_age: 99999999999999999d}\n", {}, ":1: alerts.max_age: duration '99999999999999999d'"),
        (b"workers: 2\n", {"POSTURE_ALERTS__MAX_AGE": "9" * 30 + "d"}, "env POSTURE_ALERTS__MAX_AGE: alerts.max_age:"),
        (b"workers: 2\n", {"POSTURE_WORKERS": "2024-02-30"}, "env POSTURE_WORKERS: workers: invalid date"),
        (b"workers: 2\x00\n", {}, ":1: control character U+0000 (a NUL byte) is not allowed in YAML"),
        (b"checks: {x: " + b"[" * 3000 + b"]" * 3000 + b"}\n", {}, ":1: YAML nesting is deeper than 64 levels"),
        (ALIAS_BOMB.encode(), {}, "YAML aliases expand to more than 10000 values"),
        (b"workers: 2\nexternal_url: caf\xe9\n", {}, ":2: not UTF-8 text: byte 0xe9"),
    ],
)
def test_config_validate_exits_2_with_one_line(
    tmp_path: Path, content: bytes, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / "agent.yaml"
    path.write_bytes(content)
    proc = _validate(path, env)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith("error: ") and expected in line, line


def test_config_validate_of_a_directory_exits_2(tmp_path: Path) -> None:
    proc = _validate(tmp_path)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: {tmp_path}: is a directory, not a config file"]
