"""Serving the console: on the agent's port when ``console.enabled`` (agent/daemon.py), or by
`posture-agent console` on a port of its own."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agent.console.app import Console
from agent.console.pages import ACTIONS, PAGES
from agent.console.settings import settings_from
from agent.errors import ConfigError, Problem

if TYPE_CHECKING:
    from agent.config import Config
    from agent.http import AgentHTTPServer
    from agent.store.db import Store

__all__ = ["build_console", "is_loopback", "mount_console", "register_console"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 without brackets) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_console(config: Config, store: Store) -> Console:
    from agent.mappings import load_mappings

    return Console(settings_from(config), store, load_mappings(), PAGES, ACTIONS)


def mount_console(http: AgentHTTPServer, config: Config, store: Store) -> Console:
    """Serve the console of ``config`` at ``console.path`` on ``http``."""
    host = http.address[0]
    if not config.console.secure_cookies and not is_loopback(host):
        why = f"false serves sessions over plain HTTP: allowed on a loopback address only, not {host}"
        raise ConfigError([Problem(key="console.secure_cookies", message=why)])
    console = build_console(config, store)
    path = config.console.path

    async def to_console(request: Request) -> Response:
        return RedirectResponse(path + "/", status_code=303)

    http.mount(path, console.app)
    http.add_route("GET", path, to_console)
    return console


def register_console(http: AgentHTTPServer, config: Config, store: Store | None) -> Console | None:
    """The console on the agent's port, when the config enables it (and there is a store to read)."""
    if not config.console.enabled or store is None:
        return None
    return mount_console(http, config, store)
