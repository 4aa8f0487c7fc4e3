"""One unit of work: (account, region, service). Holds its clients and walks table rows.

The generic loop lives here: list (botocore paginator when the operation has one), optionally
describe each item, keep or drop it, then run per-item detail calls. Errors become data: a failed
listing is a CollectionError for the row's resource type; a failed detail call is an entry in the
resource's ``errors``; "not configured" answers are ``None``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import jmespath
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError

from agent.errors import AgentError
from agent.models import CollectionError, Resource
from agent.observations import validate_paths
from collectors import Cancelled, CollectContext
from collectors.aws.normalise import normalise
from collectors.aws.session import AccountSession

__all__ = ["GLOBAL", "Detail", "ResourceType", "Unit", "UnitDeadline", "error_text", "walk"]

log = logging.getLogger(__name__)

GLOBAL = "global"
# Where a partition's global services (IAM, S3 listing) are called.
_GLOBAL_REGION = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}

Item = dict[str, Any]


@dataclass(frozen=True)
class Detail:
    """A per-item call whose (trimmed) answer is stored under ``key``."""

    key: str
    operation: str
    params: Callable[[Item], dict[str, Any]]
    result: str | None = None  # JMESPath into the response; None = whole response
    not_configured: frozenset[str] = frozenset()  # error codes that mean "null", not "error"
    transform: Callable[[Any], Any] | None = None
    applies: Callable[[Item], bool] | None = None  # False -> null without a call
    token: str | None = None  # response key of the next-page token (operations without a paginator)
    token_param: str | None = None  # its request parameter, when named differently
    service: str | None = None  # another client than the row's
    account_param: str | None = None  # pass the account id under this name (s3control)


@dataclass(frozen=True)
class ResourceType:
    """One row of the table: how to list one resource type (Custodian's resource_type pattern)."""

    type: str
    service: str
    id: Callable[[Item, Unit], str]
    operation: str = ""  # "" = a singleton (one item per account/region, e.g. settings)
    result: str = ""  # JMESPath to the items of one page
    name: str = ""  # JMESPath to a display name
    global_: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    page_size: int | None = None
    wrap: str | None = None  # items are bare strings: wrap each as {wrap: item}
    describe: Detail | None = None  # replaces the item with the answer (e.g. DescribeKey)
    keep: Callable[[Item], bool] | None = None
    details: tuple[Detail, ...] = ()
    region_of: Detail | None = None  # the item's own region (S3 bucket location)
    custom: Callable[[Unit, ResourceType], list[Resource]] | None = None
    calls: tuple[tuple[str, str], ...] = ()  # (service, operation) a custom function calls
    # attribute paths that tick with time, not configuration (agent.observations): checks see them,
    # stored bodies and drift leave them out. Reviewed against each API's reference.
    observations: tuple[str, ...] = ()

    def operations(self) -> set[tuple[str, str]]:
        """Every (boto3 client, operation) this row may send: the allowlist contract."""
        ops = set(self.calls)
        if self.operation:
            ops.add((self.service, self.operation))
        for d in (self.describe, self.region_of, *self.details):
            if d is not None:
                ops.add((d.service or self.service, d.operation))
        return ops


_MAX_MESSAGE = 300


def _one_line(text: str) -> str:
    """Error bodies can be whole HTML pages: keep one readable line."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def error_text(exc: BaseException) -> tuple[str, str]:
    """(code, message) of a botocore exception, the message on one short line."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return str(err.get("Code") or "ClientError"), _one_line(str(err.get("Message") or exc))
    return type(exc).__name__, _one_line(str(exc))


class UnitDeadline(BotoCoreError):  # type: ignore[misc]
    """The unit ran past ``unit_timeout``: its remaining calls are not made."""

    fmt = "the {region} {service} collection ran past its {seconds:.0f}s limit (unit_timeout); calls not made"


class Unit:
    """(account, region, service): one client per service, reused by every row of the unit."""

    def __init__(
        self, account: AccountSession, service: str, region: str, ctx: CollectContext, rows: list[ResourceType]
    ) -> None:
        self.account = account
        self.service = service
        self.region = region  # "global" or a region name
        self.ctx = ctx
        self.rows = rows
        self.observations = {r.type: validate_paths(r.observations) for r in rows}
        self.errors: list[CollectionError] = []
        self.resources: list[Resource] = []
        self.cache: dict[str, Any] = {}  # per-unit memo for rows that share a call
        self.last_operation = ""
        self.timeout = account.factory.source.unit_timeout.total_seconds()
        self.deadline = float("inf")  # set when the unit starts running
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        # per-item detail calls of one row run on up to this many threads (botocore clients are
        # thread-safe; the connection pool is sized for it)
        self.fanout = max(1, min(8, account.factory.source.max_workers))
        # the collection's one pool for per-item calls (collect.py), shared by every unit: a few
        # threads in all rather than a pool per row, so the GIL is not passed around dozens of them
        self.detail_pool: Executor | None = None

    # -- plumbing ----------------------------------------------------------------------------
    @property
    def client_region(self) -> str:
        if self.region == GLOBAL:
            return _GLOBAL_REGION.get(self.account.partition, "us-east-1")
        return self.region

    def client(self, service: str | None = None) -> Any:
        service = service or self.service
        with self._clients_lock:
            if service not in self._clients:
                client = self.account.client(service, self.client_region)
                client.meta.events.register("before-call", self._before_call)
                self._clients[service] = client
            return self._clients[service]

    def _before_call(self, **_: Any) -> None:
        """Every request of the unit's clients, pages included, is made before the deadline or not at all."""
        if time.monotonic() > self.deadline:
            raise UnitDeadline(region=self.region, service=self.service, seconds=self.timeout)

    def call(self, operation: str, service: str | None = None, **params: Any) -> dict[str, Any]:
        self.ctx.check_cancelled()
        self.last_operation = operation
        return dict(getattr(self.client(service), xform_name(operation))(**params))

    def pages(
        self,
        operation: str,
        result: str,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        service: str | None = None,
    ) -> Iterator[Any]:
        """Items of every page; botocore's paginator wherever the operation has one."""
        for page in self.raw_pages(operation, params, page_size, service):
            yield from jmespath.search(result, page) or []

    def raw_pages(
        self,
        operation: str,
        params: Mapping[str, Any] | None = None,
        page_size: int | None = None,
        service: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        client = self.client(service)
        method = xform_name(operation)
        self.last_operation = operation
        if not client.can_paginate(method):
            yield self.call(operation, service, **dict(params or {}))
            return
        config = {"PageSize": page_size} if page_size else {}
        for page in client.get_paginator(method).paginate(**dict(params or {}), PaginationConfig=config):
            self.ctx.check_cancelled()
            yield page

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        region = self.region if region is None else region
        return f"arn:{self.account.partition}:{service}:{region}:{self.account.account_id}:{resource}"

    def settings_id(self, service: str) -> str:
        return self.arn(service, "settings")

    def resource(
        self,
        type_: str,
        id_: str,
        attributes: Mapping[str, Any],
        *,
        name: str = "",
        errors: Mapping[str, str] | None = None,
        region: str | None = None,
    ) -> Resource:
        return Resource(
            provider="aws",
            account=self.account.account_id,
            region=region or self.region,
            type=type_,
            id=id_,
            name=name,
            attributes=normalise(dict(attributes)),
            errors=dict(errors or {}),
            observations=self.observations.get(type_, ()),
        )

    def add_error(self, rt: ResourceType, exc: BaseException, operation: str = "") -> None:
        code, message = error_text(exc)
        op = operation or getattr(exc, "operation_name", "") or self.last_operation
        self.errors.append(
            CollectionError(
                service=rt.service, operation=op, region=self.region, code=code, message=message, resource_type=rt.type
            )
        )

    def detail(self, d: Detail, item: Item) -> tuple[bool, Any]:
        """(True, value) or (False, "Code: message"). Not-configured codes give (True, None)."""
        if d.applies is not None and not d.applies(item):
            return True, None
        params = d.params(item)
        if d.account_param:
            params[d.account_param] = self.account.account_id
        try:
            if d.token:
                value: Any = []
                while True:
                    resp = self.call(d.operation, d.service, **params)
                    value.extend(jmespath.search(d.result or "", resp) or [])
                    if not resp.get(d.token):
                        break
                    params = {**params, d.token_param or d.token: resp[d.token]}
            else:
                resp = self.call(d.operation, d.service, **params)
                value = resp if d.result is None else jmespath.search(d.result, resp)
        except (ClientError, BotoCoreError) as exc:
            code, message = error_text(exc)
            if code in d.not_configured:
                return True, None
            return False, f"{code}: {message}"
        if d.result is None:
            value = {k: v for k, v in value.items() if k != "ResponseMetadata"}
        return True, (d.transform(value) if d.transform else value)

    # -- running -----------------------------------------------------------------------------
    def run(self) -> None:
        """Collect every row; results land in ``resources`` and ``errors``. The clients are let go
        afterwards: a sweep over every region holds only the running units' clients."""
        self.deadline = time.monotonic() + self.timeout
        try:
            self._run_rows()
        finally:
            with self._clients_lock:
                self._clients.clear()

    def _run_rows(self) -> None:
        resources = self.resources
        for rt in self.rows:
            self.ctx.check_cancelled()
            try:
                resources.extend(rt.custom(self, rt) if rt.custom else walk(self, rt))
            except (Cancelled, AgentError):
                raise
            except (ClientError, BotoCoreError) as exc:
                self.add_error(rt, exc)
            except Exception as exc:  # a bug in one row must not sink the run: report it as data
                log.exception("collecting %s in %s failed", rt.type, self.region)
                self.add_error(rt, exc)


def walk(unit: Unit, rt: ResourceType) -> list[Resource]:
    """The generic loop over one table row. Items with per-item detail calls are fanned out over a
    small pool: a global service such as S3 is one unit, and its buckets' detail calls one after
    another would be the critical path of the whole collection."""
    items = list(unit.pages(rt.operation, rt.result, rt.params, rt.page_size)) if rt.operation else [{}]
    has_details = bool(rt.details or rt.describe or rt.region_of)
    fanout = min(unit.fanout, len(items)) if has_details else 1
    if fanout > 1 and unit.detail_pool is not None:
        built = list(unit.detail_pool.map(lambda raw: _build(unit, rt, raw), items))
    elif fanout > 1:
        with ThreadPoolExecutor(max_workers=fanout, thread_name_prefix="aws-detail") as pool:
            built = list(pool.map(lambda raw: _build(unit, rt, raw), items))
    else:
        built = [_build(unit, rt, raw) for raw in items]
    return [r for r in built if r is not None]


def _build(unit: Unit, rt: ResourceType, raw: Any) -> Resource | None:
    """One item of a row: its detail calls, then the Resource (None when ``keep`` drops it)."""
    unit.ctx.check_cancelled()
    attrs: Item = {rt.wrap: raw} if rt.wrap else dict(raw)
    errors: dict[str, str] = {}
    if rt.describe is not None:
        ok, value = unit.detail(rt.describe, attrs)
        if ok and isinstance(value, dict):
            attrs = value
        elif not ok:
            errors[rt.describe.key] = value
    if rt.keep is not None and not errors and not rt.keep(attrs):
        return None
    for d in rt.details:
        ok, value = unit.detail(d, attrs)
        if ok:
            attrs[d.key] = value
        else:
            errors[d.key] = value
    region = None
    if rt.region_of is not None:
        ok, value = unit.detail(rt.region_of, attrs)
        if ok:
            region = value
        else:
            errors[rt.region_of.key] = value
    name = str(jmespath.search(rt.name, attrs) or "") if rt.name else ""
    return unit.resource(rt.type, rt.id(attrs, unit), attrs, name=name, errors=errors, region=region)
