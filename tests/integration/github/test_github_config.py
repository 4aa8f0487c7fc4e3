"""A ``github`` source's mistakes are one line each, naming the key; secrets are references only."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agent.config import parse_config
from agent.errors import ConfigError
from collectors.github.config import GitHubSource


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(textwrap.dedent(text), filename="agent.yaml", env={})
    return [str(p) for p in info.value.problems]


def test_a_token_source_and_an_app_source_validate() -> None:
    cfg = parse_config(
        textwrap.dedent(
            """\
            sources:
              - {name: gh, provider: github, organization: acme-corp, token: env:GITHUB_TOKEN}
              - name: ghes
                provider: github
                organization: acme
                api_url: https://github.acme.example/api/v3/
                app_id: "12345"
                installation_id: 678
                private_key: file:/run/secrets/app.pem
                repositories: [api, web]
                max_rate_wait: 5m
            """
        ),
        env={},
    )
    gh, ghes = cfg.source("gh"), cfg.source("ghes")
    assert isinstance(gh, GitHubSource) and gh.auth_method == "token" and gh.api_url == "https://api.github.com"
    assert isinstance(ghes, GitHubSource) and ghes.auth_method == "app"
    assert ghes.api_url == "https://github.acme.example/api/v3" and ghes.max_rate_wait.total_seconds() == 300


@pytest.mark.parametrize(
    "fields,expected",
    [
        ("organization: acme, token: ghp_abc123", "token: secrets are given by reference only"),
        ("organization: acme", "authentication missing: give token, or app_id, installation_id and private_key"),
        ("organization: acme, app_id: '1', installation_id: 2", "GitHub App authentication needs private_key too"),
        (
            "organization: acme, token: env:T, app_id: '1'",
            "give either token or the App's app_id, installation_id and private_key, not both",
        ),
        ("organization: -acme, token: env:T", "organization must be an organisation login"),
        ("organization: acme/repo, token: env:T", "organization must be an organisation login"),
        ("organization: acme, token: env:T, api_url: http://github.example", "api_url must use https://"),
        ("organization: acme, token: env:T, api_url: ftp://x", "api_url must be an https:// URL"),
        ("organization: acme, token: env:T, repositories: [acme/api]", "repositories are repository names"),
        ("organization: acme, token: env:T, repositories: []", "repositories is empty"),
        ("organization: acme, token: env:T, max_rate_wait: 2h", "max_rate_wait must be between 0s and 1h"),
        ("organization: acme, token: env:T, installation_id: 0", "installation_id"),
        ("organization: acme, token: env:T, app_id: 'x y'", "app_id must be the App's numeric id"),
        ("organization: acme, token: env:T, organisation: acme", "unknown key; did you mean 'organization'?"),
    ],
)
def test_each_mistake_is_one_line_naming_it(fields: str, expected: str) -> None:
    found = problems(f"sources:\n  - {{name: gh, provider: github, {fields}}}\n")
    assert len(found) == 1 and found[0].startswith("agent.yaml:2: sources[0]") and expected in found[0], found


def test_plain_http_is_only_for_a_loopback_test_server() -> None:
    base = {"name": "gh", "provider": "github", "organization": "acme", "token": "env:T"}
    for url in ("http://127.0.0.1:8080", "http://localhost:9/api/v3", "http://[::1]:8080"):
        assert GitHubSource.model_validate({**base, "api_url": url}).api_url == url.rstrip("/")


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(list(GitHubSource.model_fields)),
        st.one_of(
            st.none(), st.text(max_size=20), st.integers(), st.booleans(), st.lists(st.text(max_size=5), max_size=2)
        ),
        max_size=6,
    )
)
def test_any_source_data_validates_or_is_a_validation_error(data: dict[str, object]) -> None:
    try:
        GitHubSource.model_validate({"name": "gh", **data, "provider": "github"})
    except ValidationError as exc:
        assert all(e["msg"] for e in exc.errors())
