"""Building the Cloud Asset client: credentials, endpoint, retries. No client exists at import time."""

from __future__ import annotations

import json
from typing import Any

from google.api_core import retry as retries
from google.api_core.client_options import ClientOptions
from google.api_core.exceptions import (
    DeadlineExceeded,
    InternalServerError,
    ResourceExhausted,
    ServiceUnavailable,
    TooManyRequests,
)

from agent.errors import AgentError
from collectors.gcp.config import GcpSource
from collectors.gcp.permissions import CLOUD_PLATFORM_SCOPE, ReadOnlyAssets

__all__ = ["build_client", "credentials", "list_retry"]

SCOPES = (CLOUD_PLATFORM_SCOPE,)


def credentials(source: GcpSource) -> Any:
    """Key file, Application Default Credentials, or anonymous for a local fake endpoint."""
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.oauth2 import service_account

    if source.credentials is not None:
        try:
            info = json.loads(source.credentials.reveal())
            return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=list(SCOPES)
            )
        except (ValueError, KeyError) as exc:
            raise AgentError(
                f"source {source.name}: {source.credentials.ref} is not a service-account key file: {exc}"
            ) from None
    if source.endpoint:
        return AnonymousCredentials()  # type: ignore[no-untyped-call]  # emulators and the demo's fake Cloud Asset server
    try:
        creds, _project = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        raise AgentError(f"source {source.name}: no Google credentials: {exc}") from None
    return creds


def build_client(source: GcpSource, creds: Any = None) -> Any:
    """An AssetServiceClient over REST for ``source`` (ADC, key file, or anonymous for a fake), limited to
    the reads declared in collectors/gcp/permissions.py."""
    from google.cloud.asset_v1 import AssetServiceClient

    options = ClientOptions(api_endpoint=source.endpoint) if source.endpoint else None
    return ReadOnlyAssets(
        AssetServiceClient(
            credentials=creds if creds is not None else credentials(source), transport="rest", client_options=options
        )
    )


def list_retry(timeout: float) -> retries.Retry:
    """Retry quota (429) and transient errors with exponential backoff within ``timeout`` seconds."""
    return retries.Retry(
        predicate=retries.if_exception_type(
            TooManyRequests, ResourceExhausted, ServiceUnavailable, DeadlineExceeded, InternalServerError
        ),
        initial=0.5,
        maximum=30.0,
        multiplier=2.0,
        timeout=timeout,
    )
