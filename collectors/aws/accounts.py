"""Which accounts to scan and how to reach each: default credentials, AssumeRole, Organizations."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
import botocore.session
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from agent.errors import AgentError
from agent.models import CollectionError
from collectors.aws.config import AwsSource
from collectors.aws.session import AccountSession, ClientFactory, reveal, shared_loader
from collectors.aws.unit import GLOBAL, error_text

__all__ = ["Target", "Unreachable", "base_account", "reach", "targets"]

_DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Target:
    """An account to scan; ``role_arn`` None means the default credentials."""

    account_id: str
    role_arn: str | None = None
    external_id: str | None = None
    session_name: str = "posture-agent"


@dataclass(frozen=True)
class Unreachable:
    """An account we could not get credentials for: it becomes an empty, partial snapshot."""

    account_id: str
    error: CollectionError


def _region(session: boto3.Session) -> str:
    return session.region_name or _DEFAULT_REGION


def _identify(session: boto3.Session, factory: ClientFactory) -> tuple[str, str]:
    """(account id, partition) of a session."""
    arn = factory.client(session, "sts", _region(session)).get_caller_identity()["Arn"]
    parts = arn.split(":")
    return parts[4], parts[1]


def base_account(source: AwsSource, factory: ClientFactory) -> AccountSession:
    """The caller's own account through the standard credential chain (profile respected)."""
    try:
        core = botocore.session.Session(profile=source.profile)
        core.register_component("data_loader", shared_loader())
        session = boto3.Session(botocore_session=core)
        account_id, partition = _identify(session, factory)
    except ProfileNotFound as exc:
        raise AgentError(f"source {source.name}: AWS profile {source.profile!r} not found") from exc
    except NoCredentialsError as exc:
        raise AgentError(
            f"source {source.name}: no AWS credentials found (environment, shared config/credentials "
            "files, SSO, container or instance role); configure one or set `profile`"
        ) from exc
    except (ClientError, BotoCoreError) as exc:  # unreachable endpoint, invalid keys, expired token
        code, message = error_text(exc)
        raise AgentError(
            f"source {source.name}: cannot identify the AWS account (sts:GetCallerIdentity): {code}: {message}"
        ) from exc
    return AccountSession(account_id, partition, session, factory)


def _arn_account(role_arn: str) -> str:
    return role_arn.split(":")[4]


def targets(source: AwsSource, base: AccountSession) -> tuple[list[Target], list[CollectionError]]:
    """The accounts of this source, in a stable order; errors belong to the caller's account."""
    found: dict[str, Target] = {}
    errors: list[CollectionError] = []
    external = reveal(source.external_id)
    if source.organization:
        client = base.client("organizations", _DEFAULT_REGION)
        try:
            for page in client.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 20}):
                for acct in page["Accounts"]:
                    if (acct.get("State") or acct.get("Status")) != "ACTIVE":
                        continue
                    if acct["Id"] == base.account_id:
                        found[acct["Id"]] = Target(acct["Id"])
                    else:
                        arn = f"arn:{base.partition}:iam::{acct['Id']}:role/{source.role_name}"
                        found[acct["Id"]] = Target(acct["Id"], arn, external)
        except (ClientError, BotoCoreError) as exc:
            code, message = error_text(exc)
            errors.append(
                CollectionError(
                    service="organizations", operation="ListAccounts", region=GLOBAL, code=code, message=message
                )
            )
            found.setdefault(base.account_id, Target(base.account_id))
    for acct in source.accounts:  # explicit entries win over discovered ones
        role_arn = acct.role_arn
        if role_arn is None and acct.id and acct.role_name:
            role_arn = f"arn:{base.partition}:iam::{acct.id}:role/{acct.role_name}"
        external_id = reveal(acct.external_id) or external
        if role_arn is None:
            found[base.account_id] = Target(base.account_id)
        else:
            account_id = _arn_account(role_arn)
            found[account_id] = Target(account_id, role_arn, external_id, acct.session_name)
    if not found:
        found[base.account_id] = Target(base.account_id)
    return list(found.values()), errors


def reach(target: Target, base: AccountSession, factory: ClientFactory) -> AccountSession | Unreachable:
    """A session in the target account (AssumeRole), or why not."""
    if target.role_arn is None:
        return base
    operation = "AssumeRole"
    try:
        if factory.limits is not None:  # the organisation's AssumeRole budget, shared by every worker
            factory.limits.before_assume_role(base.account_id)
        params = {"RoleArn": target.role_arn, "RoleSessionName": target.session_name}
        if target.external_id:
            params["ExternalId"] = target.external_id
        creds = base.client("sts", _region(base.session)).assume_role(**params)["Credentials"]
        # Share the base session's model loader: loading service models again for every
        # account costs ~0.3 s per service and client creation is serialised per session.
        core = botocore.session.Session()
        core.register_component("data_loader", base.loader)
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=_region(base.session),
            botocore_session=core,
        )
        operation = "GetCallerIdentity"
        account_id, partition = _identify(session, factory)
    except (ClientError, BotoCoreError) as exc:
        code, message = error_text(exc)
        return Unreachable(
            target.account_id,
            CollectionError(
                service="sts",
                operation=operation,
                region=GLOBAL,
                code=code,
                message=f"{target.role_arn}: {message}",
                resource_type="",
            ),
        )
    return AccountSession(account_id, partition, session, factory)
