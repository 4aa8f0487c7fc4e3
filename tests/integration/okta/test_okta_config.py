"""An ``okta`` source's mistakes are one clear line each, through the agent's own config loader; a
literal token is refused (secrets by env:/file: reference only), and no org_url text raises anything
but a ConfigError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.config import parse_config
from agent.errors import ConfigError
from collectors.okta.config import OktaSource


def problems(source: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config("sources:\n  - name: okta\n    provider: okta\n" + source, filename="agent.yaml", env={})
    return str(caught.value)


def test_a_valid_source() -> None:
    cfg = parse_config(
        "sources:\n  - {name: okta, provider: okta, org_url: 'https://Acme.okta.com/', token: env:OKTA_API_TOKEN}\n",
        env={},
    )
    [src] = cfg.sources
    assert isinstance(src, OktaSource)
    assert src.org_url == "https://acme.okta.com" and src.org_host == "acme.okta.com" and src.inactive_days == 90
    assert src.token is not None and src.token.ref == "env:OKTA_API_TOKEN"


@pytest.mark.parametrize(
    ("org_url", "words"),
    [
        ("http://acme.okta.com", "must start with https://"),
        ("acme.okta.com", "must start with https://"),
        ("https://acme.okta.com/api/v1", "no path, query or credentials"),
        ("https://acme.okta.com?x=1", "no path, query or credentials"),
        ("https://admin:pw@acme.okta.com", "no path, query or credentials"),
        (
            "https://acme-admin.okta.com",
            "the Admin Console's address (acme-admin.okta.com); use the org URL without -admin, e.g. https://acme.okta.com",
        ),
        ("https://", "no valid host name"),
        ("https://acme_okta.com", "no valid host name"),
        ("https://acme.okta.com:99999", "invalid port"),
    ],
)
def test_bad_org_urls_are_named(org_url: str, words: str) -> None:
    text = problems(f"    org_url: '{org_url}'\n    token: env:OKTA_API_TOKEN\n")
    assert "agent.yaml:4: sources[0].org_url:" in text and words in text, text


def test_a_literal_token_is_refused_without_echoing_it() -> None:
    text = problems("    org_url: https://acme.okta.com\n    token: 00aBcDeFgHiJkLmNoPqRsTuVwXyZ\n")
    assert "sources[0].token" in text and "by reference only: use env:NAME or file:/absolute/path" in text
    assert "00aBcDeF" not in text


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("    org_url: https://acme.okta.com\n", "auth: api_token needs token"),
        (
            "    org_url: https://acme.okta.com\n    auth: oauth\n    client_id: 0oa1postureagent\n",
            "auth: oauth needs private_key",
        ),
        (
            "    org_url: https://acme.okta.com\n    auth: oauth\n    client_id: 0oa1postureagent\n"
            "    private_key: file:/k.pem\n    token: env:T\n",
            "token is only used with auth: api_token",
        ),
        (
            "    org_url: https://acme.okta.com\n    token: env:T\n    client_id: 0oa1x2y3z4\n",
            "only used with auth: oauth",
        ),
        ("    org_url: https://acme.okta.com\n    auth: saml\n    token: env:T\n", "sources[0].auth"),
        ("    org_url: https://acme.okta.com\n    token: env:T\n    inactive_days: 0\n", "sources[0].inactive_days"),
        ("    org_url: https://acme.okta.com\n    token: env:T\n    timeout: 0s\n", "sources[0].timeout"),
        ("    org_url: https://acme.okta.com\n    token: env:T\n    inactve_days: 30\n", "did you mean"),
        (
            "    org_url: https://acme.okta.com\n    auth: oauth\n    client_id: 'a b'\n    private_key: file:/k\n",
            "client_id",
        ),
    ],
)
def test_other_mistakes_are_named(source: str, words: str) -> None:
    text = problems(source)
    assert words in text, text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_no_org_url_raises_anything_but_a_config_error(org_url: str) -> None:
    text = (
        "sources:\n  - {name: okta, provider: okta, token: env:T, org_url: "
        + repr(org_url).replace("\\", "\\\\")
        + "}\n"
    )
    try:
        cfg = parse_config(text, env={})
    except ConfigError:
        return
    [src] = cfg.sources
    assert isinstance(src, OktaSource) and src.org_url.startswith("https://")
