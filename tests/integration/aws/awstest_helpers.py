"""Helpers for the AWS collector tests (imported by name: this directory is on sys.path)."""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

import boto3

from collectors import CollectContext
from collectors.aws.config import AwsSource

REGIONS = ["us-east-1", "eu-west-1"]


class Calls:
    """ctx.on_api_call recorder (called from the collector's worker threads)."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str, str | None]] = Counter()
        self._lock = threading.Lock()

    def __call__(self, service: str, operation: str, error: str | None) -> None:
        with self._lock:
            self.counts[(service, operation, error)] += 1

    def ops(self) -> set[tuple[str, str]]:
        return {(s, o) for s, o, _ in self.counts}

    def count(self, service: str, operation: str) -> int:
        return sum(n for (s, o, _), n in self.counts.items() if (s, o) == (service, operation))


def make_source(**kw: Any) -> AwsSource:
    kw.setdefault("regions", REGIONS)
    return AwsSource(name="test-aws", provider="aws", **kw)


def context(calls: Calls | None = None) -> CollectContext:
    return CollectContext(on_api_call=calls or Calls())


def seeder(moto_url: str, session: boto3.Session | None = None):  # type: ignore[no-untyped-def]
    """client(service, region) straight to moto (not through the proxy: seeding is not under test)."""
    session = session or boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

    def client(service: str, region: str = "us-east-1") -> Any:
        c = session.client(service, region_name=region, endpoint_url=moto_url)
        if service == "s3control":  # moto serves s3control on its one host: drop "{AccountId}."
            c.meta.events.register("before-send", _strip_account_host)
        return c

    return client


def _strip_account_host(request: Any, **_: Any) -> None:
    request.url = re.sub(r"^(https?://)\d{12}\.", r"\1", request.url)


def member_session(moto_url: str, account_id: str) -> boto3.Session:
    sts = seeder(moto_url)("sts")
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
