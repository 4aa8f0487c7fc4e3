"""Sessions, clients and the hooks every client carries (read-only guard, API-call observer)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
from botocore.config import Config

from agent.config_base import Secret
from collectors.aws.allowlist import install_guard
from collectors.aws.config import AwsSource
from collectors.aws.retries import THROTTLE_ATTEMPTS, install_retries

if TYPE_CHECKING:
    from collectors.aws.shared_limits import SharedLimits

__all__ = ["AccountSession", "ClientFactory", "reveal", "shared_loader"]

CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 30

Observer = Callable[[str, str, "str | None"], None]


_loader: Any = None
_loader_lock = threading.Lock()


def shared_loader() -> Any:
    """One botocore data loader for the whole process. Service models (tens of MB parsed) then load
    once, not once per cycle and account: the daemon's memory stays flat across cycles."""
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = botocore.loaders.create_loader()
        return _loader


def reveal(value: Secret | str | None) -> str | None:
    """A config value that may be a secret reference, resolved only now."""
    if isinstance(value, Secret):
        return value.reveal()
    return value


@dataclass
class ClientFactory:
    """Builds clients with the shared botocore Config and our two hooks on every one."""

    source: AwsSource
    observer: Observer
    limits: SharedLimits | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        from collectors.aws.shared_limits import SharedLimits

        self.limits = SharedLimits.of(self.source)  # None without the source's rate_limit

    def config(self, service: str) -> Config:
        return Config(
            retries={"mode": "adaptive", "max_attempts": THROTTLE_ATTEMPTS},  # the rate limiter; decisions: retries.py
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            max_pool_connections=self.source.max_workers * 2,
            user_agent_extra="posture-agent",
        )

    def client(self, session: boto3.Session, service: str, region: str, account: str = "") -> Any:
        kwargs: dict[str, Any] = {"region_name": region, "config": self.config(service)}
        if self.source.endpoint_url:
            kwargs["endpoint_url"] = self.source.endpoint_url
        client = session.client(service, **kwargs)
        install_retries(client)
        install_guard(client)
        if self.limits is not None:
            self.limits.install(client, account, region)
        self._observe(client)
        if service == "s3control" and self._override():
            client.meta.events.register("before-send", _strip_account_host)
        return client

    def _override(self) -> bool:
        return bool(self.source.endpoint_url or os.environ.get("AWS_ENDPOINT_URL"))

    def _observe(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        observer = self.observer

        def after_call(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
            code = None
            if http_response is not None and http_response.status_code >= 300:
                code = (parsed or {}).get("Error", {}).get("Code") or str(http_response.status_code)
            observer(service, model.name, code)

        def after_call_error(exception: BaseException, event_name: str, **_: Any) -> None:
            observer(service, event_name.rsplit(".", 1)[-1], type(exception).__name__)

        client.meta.events.register("after-call", after_call)
        client.meta.events.register("after-call-error", after_call_error)


_ACCOUNT_HOST = re.compile(r"^(https?://)\d{12}\.")


def _strip_account_host(request: Any, **_: Any) -> None:
    """Emulators (moto) serve s3control on their one host: the endpoint rules' "{AccountId}."
    host prefix would be an unresolvable name, so it is dropped when an endpoint override is set
    (the account still travels in the x-amz-account-id header)."""
    request.url = _ACCOUNT_HOST.sub(r"\1", request.url)


@dataclass
class AccountSession:
    """One boto3 Session per account; client creation is serialised (Session is not thread-safe)."""

    account_id: str
    partition: str
    session: boto3.Session
    factory: ClientFactory
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def loader(self) -> Any:
        """botocore's service-model loader of this session (shared with assumed-role sessions)."""
        return self.session._session.get_component("data_loader")

    def client(self, service: str, region: str) -> Any:
        with self._lock:
            return self.factory.client(self.session, service, region, self.account_id)
