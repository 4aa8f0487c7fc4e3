"""Each provider owns the model of its sources and registers it with its collector: a provider
that is not built in is configured like the built-in ones, and its mistakes read the same."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from agent import registry
from agent.config import AnySource, Config, SecretRef, SourceBase, json_schema, parse_config
from agent.errors import ConfigError
from agent.registry import Provider, RegistryError, get_provider, load_collectors, provider_names, register_provider
from collectors.aws.config import AwsSource
from collectors.gcp.config import GcpSource

ROOT = Path(__file__).resolve().parents[2]
BUILTIN = ["aws", "gcp", "azure", "endpoints", "okta", "googleworkspace", "github", "people"]


class ExampleSource(SourceBase):
    """A provider shipped by a third party."""

    provider: Literal["example"]
    url: str = Field(pattern=r"^https://")
    token: SecretRef
    page_size: int = Field(default=100, ge=1, le=1000)


def collect_example(source: ExampleSource, ctx: Any) -> list[Any]:
    return []


EXAMPLE = Provider(name="example", source_model=ExampleSource, collect=collect_example)

CONFIG = """\
sources:
  - name: prod
    provider: aws
  - name: ours
    provider: example
    url: https://example.invalid/api
    token: env:EXAMPLE_TOKEN
    schedule: {interval: 30m}
"""


@pytest.fixture
def example() -> Iterator[Provider]:
    register_provider(EXAMPLE)
    yield EXAMPLE
    registry.unregister_provider("example")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), filename="agent.yaml", env={})
    return [str(p) for p in info.value.problems]


def test_a_registered_provider_is_configured_like_a_built_in_one(example: Provider) -> None:
    cfg = parse_config(CONFIG, filename="agent.yaml", env={})
    ours = cfg.source("ours")
    assert isinstance(ours, ExampleSource) and isinstance(ours, AnySource)
    assert ours.url == "https://example.invalid/api" and ours.token.ref == "env:EXAMPLE_TOKEN"
    assert ours.page_size == 100 and ours.schedule.interval is not None and ours.schedule.interval.seconds == 1800
    assert isinstance(cfg.source("prod"), AwsSource)
    dumped = cfg.model_dump(mode="json")["sources"][1]
    assert dumped["token"] == "env:EXAMPLE_TOKEN" and dumped["page_size"] == 100
    assert load_collectors()["example"] is collect_example
    assert "example" in load_collectors()


def test_mistakes_in_a_registered_providers_source_are_one_line_each(example: Provider) -> None:
    found = problems(
        """\
        sources:
          - name: ours
            provider: example
            url: http://example.invalid
            token: s3cret
            page_sise: 10
        """
    )
    assert found == [
        "agent.yaml:4: sources[0].url: String should match pattern '^https://'",
        "agent.yaml:5: sources[0].token: secrets are given by reference only: use env:NAME or file:/absolute/path, "
        "never the value itself",
        "agent.yaml:6: sources[0].page_sise: unknown key; did you mean 'page_size'?",
    ]


def test_an_unknown_provider_is_one_line_listing_the_known_ones(example: Provider) -> None:
    assert problems("sources:\n  - name: a\n    provider: exampel\n") == [
        "agent.yaml:3: sources[0].provider: unknown provider 'exampel'; "
        "expected 'aws', 'gcp', 'azure', 'endpoints', 'okta', 'googleworkspace', 'github', 'people', 'example'"
    ]
    assert problems("sources:\n  - name: a\n") == ["agent.yaml:2: sources[0]: missing 'provider' key"]


def test_an_unregistered_provider_is_unknown() -> None:
    assert "example" not in provider_names()
    assert problems("sources:\n  - name: a\n    provider: example\n    url: https://x\n") == [
        "agent.yaml:3: sources[0].provider: unknown provider 'example'; expected 'aws', 'gcp', 'azure', 'endpoints', 'okta', 'googleworkspace', 'github', 'people'"
    ]
    with pytest.raises(KeyError):
        load_collectors()["example"]


def test_the_schema_describes_every_providers_sources(example: Provider) -> None:
    schema = json_schema()
    items = schema["properties"]["sources"]["items"]
    assert items["discriminator"]["propertyName"] == "provider"
    assert sorted(items["discriminator"]["mapping"]) == sorted([*BUILTIN, "example"])
    assert {"$ref": "#/$defs/ExampleSource"} in items["oneOf"]
    assert schema["$defs"]["ExampleSource"]["properties"]["provider"] == {
        "const": "example",
        "title": "Provider",
        "type": "string",
    }


def test_register_provider_refuses_what_config_could_not_dispatch_to(example: Provider) -> None:
    class Mislabelled(SourceBase):
        provider: Literal["other"]

    class Loose(SourceBase):
        pass

    cases: list[tuple[Any, str]] = [
        (Provider("other", Mislabelled, collect_example), "ok"),
        (Provider("third", Mislabelled, collect_example), "must declare provider: Literal['third']"),
        (Provider("loose", Loose, collect_example), "must declare provider: Literal['loose']"),
        (Provider("bad name", ExampleSource, collect_example), "must be lower case"),
        (Provider("plain", dict, collect_example), "must subclass agent.config.SourceBase"),  # type: ignore[arg-type]
        (Provider("example", ExampleSource, "somewhere:else"), "registered twice"),
        (EXAMPLE, "ok"),  # the same record again
        (collect_example, "expected an agent.registry.Provider"),
    ]
    try:
        for provider, expected in cases:
            if expected == "ok":
                register_provider(provider)
                continue
            with pytest.raises(RegistryError, match=re.escape(expected)):
                register_provider(provider)
    finally:
        registry.unregister_provider("other")


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A third-party distribution on sys.path, with entry points of its own."""
    (tmp_path / "example_provider.py").write_text(
        textwrap.dedent(
            """\
            from typing import Literal

            from agent.config import SourceBase
            from agent.registry import Provider


            class PluginSource(SourceBase):
                provider: Literal["plugin"]
                zone: str


            def collect(source, ctx):
                return []


            PROVIDER = Provider(name="plugin", source_model=PluginSource, collect="example_provider:collect")
            NOT_A_PROVIDER = collect
            """
        )
    )
    dist = tmp_path / "example_provider-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: example-provider\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[posture_agent.collectors]\n"
        "plugin = example_provider:PROVIDER\n"
        "bare = example_provider:NOT_A_PROVIDER\n"
        "missing = example_provider_gone:PROVIDER\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._entry_point_targets.cache_clear()
    yield tmp_path
    for name in ("plugin", "bare", "missing"):
        registry.unregister_provider(name)
    monkeypatch.undo()
    registry._entry_point_targets.cache_clear()
    sys.modules.pop("example_provider", None)


def test_an_installed_providers_entry_point_is_loaded_when_a_source_names_it(installed: Path) -> None:
    assert provider_names() == [*BUILTIN, "bare", "missing", "plugin"]
    assert "example_provider" not in sys.modules  # listing the names imports nothing
    cfg = parse_config("sources:\n  - {name: z, provider: plugin, zone: eu}\n", env={})
    assert type(cfg.sources[0]).__name__ == "PluginSource" and cfg.sources[0].provider == "plugin"
    assert load_collectors()["plugin"] is sys.modules["example_provider"].collect
    assert problems("sources:\n  - name: z\n    provider: plugin\n") == [
        "agent.yaml:2: sources[0].zone: required key is missing"
    ]


def test_a_broken_entry_point_is_a_config_problem_not_a_traceback(installed: Path) -> None:
    found = problems("sources:\n  - name: a\n    provider: aws\n  - name: b\n    provider: missing\n")
    assert found == [
        "agent.yaml:5: sources[1].provider: provider 'missing': cannot load example_provider_gone:PROVIDER: "
        "ModuleNotFoundError: No module named 'example_provider_gone'"
    ]
    assert problems("sources:\n  - name: b\n    provider: bare\n") == [
        "agent.yaml:3: sources[0].provider: provider 'bare': entry point example_provider:NOT_A_PROVIDER is a "
        "function, not an agent.registry.Provider"
    ]
    # the broken ones cost their hints only
    assert problems("sources:\n  - {name: a, provider: aws, regoins: []}\n") == [
        "agent.yaml:2: sources[0].regoins: unknown key; did you mean 'regions'?"
    ]


def test_the_packages_entry_points_are_the_built_in_providers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["entry-points"]["posture_agent.collectors"]
    assert declared == registry._BUILTIN_PROVIDERS
    assert provider_names()[: len(BUILTIN)] == BUILTIN
    for name in BUILTIN:
        provider = get_provider(name)
        assert provider.name == name and issubclass(provider.source_model, SourceBase)
        assert callable(load_collectors()[name])


def test_the_moved_models_still_import_from_agent_config() -> None:
    import agent.config
    from collectors.endpoints.config import EndpointSource

    assert agent.config.AwsSource is AwsSource and agent.config.EndpointSource is EndpointSource
    with pytest.raises(AttributeError):
        agent.config.OracleSource  # noqa: B018


def test_validating_an_aws_config_loads_no_other_cloud_sdk(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from agent.config import parse_config\n"
        "parse_config('sources:\\n  - {name: a, provider: aws}\\n', env={})\n"
        "print(sorted(m for m in ('google.cloud', 'azure', 'collectors.gcp', 'collectors.azure') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_cli_unknown_provider_exit_2_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "agent.yaml"
    bad.write_text("sources:\n  - name: a\n    provider: oracle\n")
    proc = subprocess.run(
        [sys.executable, "-m", "agent.cli.main", "config", "validate", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {bad}:3: sources[0].provider: unknown provider 'oracle'; expected 'aws', 'gcp', 'azure', 'endpoints', 'okta', 'googleworkspace', 'github', 'people'"
    ]


# -- the dispatch is the provider model's own validation ----------------------------------------

_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 2000),
    st.sampled_from(["", "x", "us-east-1", "mars", "projects/p", "env:X", "15m", "-bad"]),
    st.lists(st.sampled_from(["us-east-1", "eu-west-1", "nowhere"]), max_size=2),
    st.fixed_dictionaries({}, optional={"interval": st.sampled_from(["1h", "5s", "x"])}),
)
_keys = st.sampled_from(
    ["regions", "max_workers", "scope", "page_size", "schedule", "enabled", "external_id", "profile", "zone"]
)


@settings(max_examples=150, deadline=None)
@given(
    provider=st.sampled_from([AwsSource, GcpSource]),
    name=st.sampled_from(["a", "prod-1", "-bad"]),
    extra=st.dictionaries(_keys, _values, max_size=4),
)
def test_a_source_validates_as_its_providers_model_would(
    provider: type[SourceBase], name: str, extra: dict[str, Any]
) -> None:
    item = {"name": name, "provider": provider.model_fields["provider"].annotation.__args__[0], **extra}  # type: ignore[union-attr]
    try:
        direct = provider.model_validate(item)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as info:
            Config.model_validate({"sources": [item]})
        assert [(e["type"], e["loc"]) for e in info.value.errors()] == [
            (e["type"], ("sources", 0, *e["loc"])) for e in exc.errors()
        ]
        return
    cfg = Config.model_validate({"sources": [item]})
    assert cfg.sources[0] == direct and type(cfg.sources[0]) is provider
    again = Config.model_validate(cfg.model_dump(mode="json"))
    assert again.sources == cfg.sources
