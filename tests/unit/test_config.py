"""Config mistakes: each gives one line naming the file, line, key and what is wrong."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from agent.config import Secret, load_config, parse_config, secret_problems
from agent.errors import ConfigError

GOOD = """\
database: sqlite:////tmp/x.db
listen: 127.0.0.1:9464
sources:
  - name: prod
    provider: aws
    regions: [us-east-1]
    schedule: {interval: 15m, jitter: 30s}
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), filename="agent.yaml", env=env or {})
    return [str(p) for p in info.value.problems]


def test_good_config_loads() -> None:
    cfg = parse_config(GOOD, filename="agent.yaml", env={})
    assert cfg.sources[0].schedule.interval.total_seconds() == 900
    assert cfg.sources[0].schedule.jitter.total_seconds() == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sources: [\n", "agent.yaml:2: YAML syntax"),
        ("database: sqlite:///a\ndatabase: sqlite:///b\n", "agent.yaml:2: duplicate key 'database'"),
        ("databse: sqlite:///a\n", "agent.yaml:1: databse: unknown key; did you mean 'database'?"),
        ("sources:\n  - provider: aws\n", "agent.yaml:2: sources[0].name: required key is missing"),
        (
            "sources:\n  - name: a\n    provider: aws\n    schedule: {interval: 15x}\n",
            "agent.yaml:4: sources[0].schedule.interval: invalid duration '15x'",
        ),
        (
            "sources:\n  - name: a\n    provider: aws\n    schedule: {cron: '61 * * * *'}\n",
            "agent.yaml:4: sources[0].schedule.cron: invalid cron expression",
        ),
        (
            "sources:\n  - name: a\n    provider: aws\n    schedule: {interval: 1h, cron: '0 * * * *'}\n",
            "agent.yaml:4: sources[0].schedule: give exactly one of interval or cron",
        ),
        (
            "sources:\n  - name: a\n    provider: aws\n  - name: a\n    provider: aws\n",
            "agent.yaml:1: (top level): source name 'a' is used twice",
        ),
        (
            "sources:\n  - name: a\n    provider: oracle\n",
            "agent.yaml:3: sources[0].provider: unknown provider 'oracle'",
        ),
        (
            "sources:\n  - name: a\n    provider: aws\n    regions: [us-east-1, mars-1]\n",
            "agent.yaml:4: sources[0].regions: not an AWS region name: 'mars-1'",
        ),
        (
            "sources:\n  - name: a\n    provider: aws\n    accounts:\n      - role_arn: arn:aws:iam::12:role/x\n",
            "agent.yaml:5: sources[0].accounts[0].role_arn: not an IAM role ARN",
        ),
        ("database: mysql://root@db/x\n", "agent.yaml:1: database: unsupported database URL"),
        ("listen: localhost:http\n", "agent.yaml:1: listen: listen must be HOST:PORT"),
        ("workers: many\n", "agent.yaml:1: workers: Input should be a valid integer"),
        ("scope:\n  frameworks: [soc3]\n", "agent.yaml:2: scope.frameworks[0]: invalid value 'soc3'"),
        ("scope:\n  soc2_categories: [securty]\n", "agent.yaml:2: scope.soc2_categories[0]: invalid value 'securty'"),
        (
            "alerts:\n  channels:\n    - name: s\n      type: slack\n      webhook_url: https://hooks.slack.com/services/T/B/X\n",
            "agent.yaml:5: alerts.channels[0].webhook_url: secrets are given by reference only",
        ),
        ("- just\n- a list\n", "agent.yaml:1: the config must be a mapping"),
    ],
)
def test_each_mistake_is_named(text: str, expected: str) -> None:
    found = problems(text)
    assert any(p.startswith(expected) for p in found), found


def test_every_problem_is_reported_at_once() -> None:
    found = problems("databse: x\nworkers: 0\nlisten: nope\n")
    assert len(found) == 3


def test_secret_value_never_echoed() -> None:
    found = problems(
        "alerts:\n  channels:\n    - name: s\n      type: slack\n"
        "      webhook_url: https://hooks.slack.com/services/T000/B000/SECRETTOKEN\n"
    )
    assert not any("SECRETTOKEN" in p for p in found)


def test_env_override_and_its_errors_name_the_variable() -> None:
    cfg = parse_config(GOOD, filename="agent.yaml", env={"POSTURE_LOG__LEVEL": "debug", "POSTURE_WORKERS": "4"})
    assert cfg.log.level == "debug" and cfg.workers == 4
    found = problems(GOOD, env={"POSTURE_WORKERS": "lots"})
    assert found[0].startswith("env POSTURE_WORKERS: workers:"), found
    # variables that name no config key (e.g. a secret referenced as env:POSTURE_FLEET_TOKEN) are left alone
    assert parse_config(GOOD, env={"POSTURE_FLEET_TOKEN": "s3cret"}).workers == 2


def test_secret_reference_resolves_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "hook"
    key.write_text("https://example.invalid/hook\n")
    cfg = parse_config(
        f"alerts:\n  channels:\n    - name: a\n      type: slack\n      webhook_url: file:{key}\n"
        "    - name: b\n      type: slack\n      webhook_url: env:HOOK_B\n",
        env={},
    )
    a, b = cfg.alerts.channels
    assert isinstance(a.webhook_url, Secret) and a.webhook_url.reveal() == "https://example.invalid/hook"
    assert "example.invalid" not in repr(cfg)
    monkeypatch.delenv("HOOK_B", raising=False)
    assert [str(p) for p in secret_problems(cfg)] == [
        "alerts.channels[1].webhook_url: env:HOOK_B: environment variable HOOK_B is not set"
    ]


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as info:
        load_config("/nonexistent/agent.yaml")
    assert str(info.value) == "/nonexistent/agent.yaml: config file not found"


def test_cli_validate_exit_code_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "agent.yaml"
    bad.write_text("databse: x\nsources:\n  - name: a\n    provider: aws\n    schedule: {interval: 1x}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "config", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        f"error: {bad}:1: databse: unknown key; did you mean 'database'?",
        f"error: {bad}:5: sources[0].schedule.interval: invalid duration '1x': use e.g. 30s, 15m, 1h or 7d",
    ]
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    ok = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "config", "validate", str(good)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr


def test_cli_validate_prints_a_path_with_markup_as_it_is(tmp_path: Path) -> None:
    """Rich markup in a path ([/b]) is text, not a style: it once ended in a MarkupError, exit 3."""
    folder = tmp_path / "x[/b]"  # two folders, "x[" and "b]": the path's text holds [/b]
    folder.mkdir(parents=True)
    good = folder / "a[red].yaml"
    good.write_text(GOOD)
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "config", "validate", str(good)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{good}: valid")


def test_schema_is_published() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "config", "schema"], capture_output=True, text=True, timeout=60
    )
    import json

    schema = json.loads(proc.stdout)
    assert schema["title"] == "posture-agent configuration"
    assert "sources" in schema["properties"]
