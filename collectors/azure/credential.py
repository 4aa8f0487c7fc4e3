"""azure-identity credentials from config: the only place that reads the client secret."""

from __future__ import annotations

import os
from typing import Any

from azure.core.credentials import TokenCredential

from agent.errors import ConfigError, Problem
from collectors.azure.config import AzureCredentials

__all__ = ["DEFAULT_AUTHORITY", "make_credential"]

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"


def _common(creds: AzureCredentials) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    if creds.authority:
        kw["authority"] = creds.authority
        if creds.authority.rstrip("/") != DEFAULT_AUTHORITY:
            # A private or emulated authority is not in Microsoft's instance-discovery list.
            kw["disable_instance_discovery"] = True
    if creds.ca_bundle:
        kw["connection_verify"] = creds.ca_bundle
    return kw


def make_credential(creds: AzureCredentials) -> TokenCredential:
    """The azure-identity credential the config asks for. Nothing is fetched until a token is needed."""
    from azure.identity import (
        CertificateCredential,
        ClientSecretCredential,
        DefaultAzureCredential,
        ManagedIdentityCredential,
        WorkloadIdentityCredential,
    )

    kw = _common(creds)
    if creds.auth == "client_secret":
        assert creds.client_id and creds.client_secret
        return ClientSecretCredential(creds.tenant_id, creds.client_id, creds.client_secret.reveal(), **kw)
    if creds.auth == "certificate":
        assert creds.client_id and creds.certificate_path
        if not os.path.isfile(creds.certificate_path):
            raise ConfigError(
                [
                    Problem(
                        key="certificate_path",
                        message=f"certificate file {creds.certificate_path} does not exist",
                    )
                ]
            )
        password = creds.certificate_password.reveal() if creds.certificate_password else None
        return CertificateCredential(
            creds.tenant_id, creds.client_id, certificate_path=creds.certificate_path, password=password, **kw
        )
    if creds.auth == "workload_identity":
        token_file = creds.federated_token_file or os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
        if not token_file:
            raise ConfigError(
                [
                    Problem(
                        key="federated_token_file",
                        message=("auth: workload_identity needs federated_token_file or AZURE_FEDERATED_TOKEN_FILE"),
                    )
                ]
            )
        return WorkloadIdentityCredential(
            tenant_id=creds.tenant_id, client_id=creds.client_id, token_file_path=token_file, **kw
        )
    if creds.auth == "managed_identity":
        mi: dict[str, Any] = {"client_id": creds.client_id} if creds.client_id else {}
        if creds.ca_bundle:
            mi["connection_verify"] = creds.ca_bundle
        return ManagedIdentityCredential(**mi)
    default: dict[str, Any] = {}
    if creds.authority:
        default["authority"] = creds.authority
    if creds.client_id:
        default["managed_identity_client_id"] = creds.client_id
    return DefaultAzureCredential(**default)
