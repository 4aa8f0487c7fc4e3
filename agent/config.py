"""The agent's configuration: one YAML file plus POSTURE_* environment overrides, validated by
pydantic. Every problem is reported as one line naming the key, the line and what is wrong.

The core keys live here; each provider owns the model of its ``sources:`` items, next to its
collector (collectors/<provider>/config.py), and registers it with its collector's entry point
(agent/registry.py). ``SourceBase`` is what every source has; ``AnySource`` is the type the rest of
the agent takes."""

from __future__ import annotations

import difflib
import importlib
import ipaddress
import os
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, PydanticKnownError, core_schema

from agent import registry
from agent.config_base import (
    AWS_REGION,
    IAM_ROLE_ARN,
    AnySource,
    ConfigModel,
    Duration,
    Schedule,
    Secret,
    SecretRef,
    SourceBase,
    _secret,
    parse_duration,
)
from agent.errors import ConfigError, Problem
from agent.yamlpos import MAX_BYTES, MAX_DEPTH, YamlError, load_with_lines

if TYPE_CHECKING:  # the provider models that lived here, still importable from here (see __getattr__)
    from collectors.aws.config import AwsAccount as AwsAccount
    from collectors.aws.config import AwsSource as AwsSource
    from collectors.azure.config import AzureCredentials as AzureCredentials
    from collectors.azure.config import AzureSource as AzureSource
    from collectors.endpoints.config import EndpointSource as EndpointSource
    from collectors.endpoints.config import FleetOptions as FleetOptions
    from collectors.endpoints.config import PushOptions as PushOptions
    from collectors.endpoints.config import SsmOptions as SsmOptions
    from collectors.gcp.config import GcpSource as GcpSource

__all__ = [
    "AWS_REGION",
    "AnySource",
    "Config",
    "ConfigModel",
    "Duration",
    "IAM_ROLE_ARN",
    "Schedule",
    "Secret",
    "SecretRef",
    "SourceBase",
    "default_database_url",
    "json_schema",
    "load_config",
    "parse_config",
    "parse_duration",
]

# The provider models moved to their collectors; these names still import from agent.config.
_MOVED = {
    "AwsAccount": "collectors.aws.config",
    "AwsSource": "collectors.aws.config",
    "GcpSource": "collectors.gcp.config",
    "AzureCredentials": "collectors.azure.config",
    "AzureSource": "collectors.azure.config",
    "EndpointSource": "collectors.endpoints.config",
    "FleetOptions": "collectors.endpoints.config",
    "SsmOptions": "collectors.endpoints.config",
    "PushOptions": "collectors.endpoints.config",
}


def __getattr__(name: str) -> Any:
    module = _MOVED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


ENV_PREFIX = "POSTURE_"
_ENV_RESERVED = {"POSTURE_DATA_DIR", "POSTURE_CONFIG", "POSTURE_DB", "POSTURE_TEST_DATABASE_URL"}
FRAMEWORKS = ("soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa")
FrameworkId = Literal["soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa"]
Soc2Category = Literal["security", "availability", "confidentiality", "processing_integrity", "privacy"]
SOC2_CATEGORIES = ("security", "availability", "confidentiality", "processing_integrity", "privacy")


def _validate_source(value: Any) -> SourceBase:
    """One ``sources:`` item, validated into the model of the provider it names.

    This is a discriminated union whose members are the registered providers: the errors are the
    ones pydantic gives for such a union (a missing or unknown ``provider``), and an error inside
    the item is located in the item itself, with no union tag in between."""
    if isinstance(value, SourceBase):
        return value
    if not isinstance(value, dict):
        raise PydanticKnownError("model_attributes_type")
    if "provider" not in value:
        raise PydanticKnownError("union_tag_not_found", {"discriminator": "'provider'"})
    tag = value["provider"]
    try:
        provider = registry.get_provider(tag) if isinstance(tag, str) else None
    except KeyError:
        provider = None
    except registry.RegistryError as exc:
        unavailable = PydanticCustomError("provider_unavailable", "{reason}", {"reason": str(exc)})
        raise ValidationError.from_exception_data(
            "SourceBase", [{"type": unavailable, "loc": ("provider",), "input": tag}]
        ) from None
    if provider is None:
        known = ", ".join(repr(name) for name in registry.provider_names())
        raise PydanticKnownError(
            "union_tag_invalid",
            {
                "discriminator": "'provider'",
                "tag": tag[:80] if isinstance(tag, str) else _shown(tag),
                "expected_tags": known,
            },
        )
    return provider.source_model.model_validate(value)


def _provider_models() -> list[type[SourceBase]]:
    """The source model of every provider known now (entry points and registered ones)."""
    return [registry.get_provider(name).source_model for name in registry.provider_names()]


class _ProviderSource:
    """Marks ``sources:`` items: validated by ``_validate_source``, serialised as their own model,
    described in the JSON Schema as the discriminated union of every provider's model."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(_validate_source)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        models = _provider_models()
        union: Any = models[0] if len(models) == 1 else Union[tuple(models)]  # noqa: UP007 (built at run time)
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[union, Field(discriminator="provider")])
        return handler(adapter.core_schema)


Source = Annotated[SourceBase, _ProviderSource()]


class SlackChannel(ConfigModel):
    name: str
    type: Literal["slack"]
    webhook_url: SecretRef


class WebhookChannel(ConfigModel):
    name: str
    type: Literal["webhook"]
    url: SecretRef | str
    secret: SecretRef | None = None


Channel = Annotated[SlackChannel | WebhookChannel, Field(discriminator="type")]


SeverityName = Literal["critical", "high", "medium", "low", "info"]


class AlertRoute(ConfigModel):
    """Send matching alerts to ``channel``. Every filter given must match; a list matches any of
    its items; an empty list matches everything."""

    channel: str
    min_severity: SeverityName = "medium"
    frameworks: list[str] = Field(default_factory=list, description="e.g. soc2, iso27001")
    providers: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)


class AlertsConfig(ConfigModel):
    channels: list[Channel] = Field(default_factory=list)
    routes: list[AlertRoute] = Field(
        default_factory=list, description="No routes: every channel gets alerts at min_severity and above"
    )
    min_severity: SeverityName = "medium"
    digest_threshold: int = Field(
        default=50, ge=1, description="More alerts than this in one cycle for one channel become one digest"
    )
    max_attempts: int = Field(default=10, ge=1, description="Deliveries tried before a message is parked")
    max_age: Duration = Field(default=timedelta(hours=24), description="Undelivered this long: parked")

    @model_validator(mode="after")
    def _routes_known(self) -> AlertsConfig:
        names = {c.name for c in self.channels}
        for r in self.routes:
            if r.channel not in names:
                raise ValueError(f"route names channel {r.channel!r}, which is not in alerts.channels")
        return self


class LogConfig(ConfigModel):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "text"] = "auto"


def _seconds_between(low: int, high: int) -> Any:
    def check(v: timedelta) -> timedelta:
        if not low <= v.total_seconds() <= high:
            raise ValueError(f"must be between {low}s and {high}s")
        return v

    return AfterValidator(check)


class HttpConfig(ConfigModel):
    """What one client may cost the agent's HTTP port (/metrics, /healthz, /readyz, POST /v1/devices)."""

    head_timeout: Annotated[Duration, _seconds_between(1, 600)] = Field(
        default=timedelta(seconds=10), description="Connection opened to the whole request line and headers"
    )
    body_timeout: Annotated[Duration, _seconds_between(1, 3600)] = Field(
        default=timedelta(seconds=30), description="Request headers to the whole body"
    )
    keep_alive: Annotated[Duration, _seconds_between(1, 600)] = Field(
        default=timedelta(seconds=5), description="Idle time between two requests on one connection"
    )
    max_connections: int | None = Field(
        default=None, ge=1, le=100_000, description="Open connections; default: half the open-file limit, at most 1000"
    )
    max_head_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024, description="Request line and headers")
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Any request body (push: max_report_bytes too)"
    )


class Scope(ConfigModel):
    frameworks: list[FrameworkId] = Field(default_factory=lambda: list[FrameworkId](["soc2"]))
    soc2_categories: list[Soc2Category] = Field(default_factory=lambda: list[Soc2Category](["security"]))

    @field_validator("soc2_categories")
    @classmethod
    def _security_always(cls, v: list[str]) -> list[str]:
        return v if "security" in v else ["security", *v]


class TsaAnchor(ConfigModel):
    """An RFC 3161 timestamping authority that witnesses every checkpoint (agent/evidence/anchoring.py)."""

    url: str = Field(pattern=r"^https?://\S+$", description="The TSA's URL (POST application/timestamp-query)")
    ca_bundle: str | None = Field(
        default=None, description="PEM file of the CAs for the TSA's HTTPS certificate; default: the system's"
    )
    timeout: Duration = Field(default=timedelta(seconds=10), description="Per request")


class S3Anchor(ConfigModel):
    """An S3 bucket with Object Lock in the auditor's account: each checkpoint is copied there in
    compliance mode, the agent's only write to any cloud (deploy/aws/posture-agent-anchor-policy.json)."""

    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    prefix: str = Field(default="posture-agent", pattern=r"^[A-Za-z0-9!_.*'()/-]*$")
    region: str = "us-east-1"
    endpoint_url: str | None = Field(default=None, description="Another S3 endpoint (emulators)")
    profile: str | None = Field(default=None, description="AWS profile of the writer's credentials")
    role_arn: str | None = Field(default=None, description="Role in the auditor's account to assume for the write")
    retain_days: int = Field(default=400, ge=1, description="Object Lock retention of each copy, in days")

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        if not AWS_REGION.match(v):
            raise ValueError(f"not an AWS region name: {v!r}")
        return v

    @field_validator("role_arn")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is not None and not IAM_ROLE_ARN.match(v):
            raise ValueError(f"not an IAM role ARN: {v!r}")
        return v


class AnchorsConfig(ConfigModel):
    tsa: list[TsaAnchor] = Field(default_factory=list)
    s3: S3Anchor | None = None
    every: Duration = Field(default=timedelta(seconds=30), description="How often the daemon anchors new checkpoints")


class EvidenceConfig(ConfigModel):
    signing_key: SecretRef | None = None
    retention_days: int = Field(default=400, ge=30)
    checkpoint_every: Duration = Field(
        default=timedelta(hours=1),
        description="Checkpoint cadence, signed into every checkpoint: one is written this often even when nothing "
        "happened, and a verifier with a pinned key fails a longer gap (1m to 1d)",
    )
    anchors: AnchorsConfig = AnchorsConfig()  # external witnesses of every checkpoint (agent/evidence/anchoring.py)

    @field_validator("checkpoint_every")
    @classmethod
    def _cadence(cls, v: timedelta) -> timedelta:
        if not timedelta(minutes=1) <= v <= timedelta(days=1):
            raise ValueError("checkpoint_every must be between 1m and 1d")
        return v


ConsoleRole = Literal["operator", "auditor"]
CONSOLE_USER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$"


def _password_hash(value: Any) -> Secret | str:
    """A password hash as `posture-agent console hash-password` prints it, or a reference to one."""
    if isinstance(value, str) and value.startswith(("env:", "file:")):
        return _secret(value)
    from agent.console.passwords import hash_problem  # the format is defined once, next to the KDF

    if not isinstance(value, str):
        raise ValueError("expected a password hash (scrypt$...) from `posture-agent console hash-password`")
    why = hash_problem(value)
    if why:
        raise ValueError(why)
    return value


PasswordHash = Annotated[
    Secret | str,
    BeforeValidator(_password_hash),
    PlainSerializer(lambda v: v.ref if isinstance(v, Secret) else v, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(scrypt\$.+|env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$",
            "description": "scrypt$... from `posture-agent console hash-password`, or a secret reference to it",
        }
    ),
]


class ConsolePeriod(ConfigModel):
    """The audit period an auditor may see: whole days, UTC, both included."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: date = Field(alias="from")
    end: date = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> ConsolePeriod:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        return self


class ConsoleUser(ConfigModel):
    """One person who may sign in to the web console. An auditor sees only ``period`` and ``frameworks``,
    and every page they open is written to the evidence chain."""

    name: str = Field(pattern=CONSOLE_USER_NAME, description="Login name")
    role: ConsoleRole
    password_hash: PasswordHash = Field(repr=False)
    period: ConsolePeriod | None = Field(default=None, description="Auditors: {from: DATE, to: DATE}")
    frameworks: list[FrameworkId] = Field(default_factory=list, description="Auditors: the frameworks they see")

    @model_validator(mode="after")
    def _auditor_scope(self) -> ConsoleUser:
        if self.role == "auditor" and (self.period is None or not self.frameworks):
            raise ValueError(f"auditor {self.name!r} needs a period ({{from, to}}) and frameworks")
        if self.role == "operator" and (self.period is not None or self.frameworks):
            raise ValueError(f"operator {self.name!r} sees everything: period and frameworks are for auditors")
        return self


class ConsoleConfig(ConfigModel):
    """The read-only web console on the agent's port (agent/console/). Off unless enabled."""

    enabled: bool = False
    path: str = Field(default="/console", pattern=r"^/[a-z0-9-]{1,32}$", description="Where it is served")
    users: list[ConsoleUser] = Field(default_factory=list)
    session_secret: SecretRef | None = Field(
        default=None, description="Signs session cookies (32+ bytes); default: random per process (restart logs out)"
    )
    session_max_age: Annotated[Duration, _seconds_between(60, 7 * 86400)] = Field(
        default=timedelta(hours=8), description="A session ends this long after sign-in"
    )
    secure_cookies: bool = Field(
        default=True,
        description="Cookies only over HTTPS (behind a TLS proxy); false only for plain HTTP on a loopback address",
    )

    @model_validator(mode="after")
    def _users(self) -> ConsoleConfig:
        names = [u.name for u in self.users]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"console user {dup[0]!r} is listed twice")
        if self.enabled and not self.users:
            raise ValueError("console.enabled needs at least one user in console.users")
        return self


def default_database_url() -> str:
    data_dir = os.environ.get("POSTURE_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "posture-agent"
    )
    return f"sqlite:///{os.path.join(data_dir, 'posture.db')}"


class ScaleConfig(ConfigModel):
    """Past one machine (``run --role scheduler`` / ``worker``): the broker the scheduler publishes one
    task per (source, account) to, and the Redis the workers share their rate limits through. Unused
    by ``run`` (``--role all``), the embedded default."""

    broker: SecretRef | None = Field(
        default=None, description="Celery broker URL, amqp://USER:PASSWORD@HOST:5672/VHOST (a secret reference)"
    )
    redis: SecretRef | None = Field(
        default=None, description="redis://HOST:6379/DB: rate limits shared by the workers (a secret reference)"
    )
    queue_prefix: str = Field(
        default="posture",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Queues are PREFIX.PROVIDER: deployments sharing one RabbitMQ vhost use different prefixes",
    )
    sweep_deadline: Annotated[Duration, _seconds_between(60, 24 * 3600)] = Field(
        default=timedelta(minutes=50),
        description="A sweep closes this long after it starts: an account not recorded by then is an error, "
        "never a pass",
    )


class Config(ConfigModel):
    @model_validator(mode="before")
    @classmethod
    def _scale_redis_default(cls, data: Any) -> Any:
        """A source's ``rate_limit`` without its own ``redis`` shares ``scale.redis``."""
        if not isinstance(data, dict):
            return data
        scale, sources = data.get("scale"), data.get("sources")
        shared = scale.get("redis") if isinstance(scale, dict) else None
        if shared is None or not isinstance(sources, list):
            return data
        filled = []
        for src in sources:
            limit = src.get("rate_limit") if isinstance(src, dict) else None
            if isinstance(limit, dict) and "redis" not in limit:
                src = {**src, "rate_limit": {**limit, "redis": shared}}
            filled.append(src)
        return {**data, "sources": filled}

    database: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://...",
    )
    listen: str = Field(default="127.0.0.1:9464", description="HOST:PORT for /metrics, /healthz, /readyz")
    workers: int = Field(default=2, ge=1, le=32, description="Sources collected at the same time")
    log: LogConfig = LogConfig()
    http: HttpConfig = HttpConfig()
    scope: Scope = Scope()
    sources: list[Source] = Field(default_factory=list)
    alerts: AlertsConfig = AlertsConfig()
    checks: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Per-check parameters")
    evidence: EvidenceConfig = EvidenceConfig()
    scale: ScaleConfig = ScaleConfig()
    console: ConsoleConfig = ConsoleConfig()  # the read-only web console (agent/console/), off by default
    external_url: str | None = Field(default=None, description="Link back to this agent in alerts")
    isolate_collections: bool = Field(
        default=True,
        description="The daemon collects each source in a short-lived child process, so the cloud SDKs and "
        "their clients never stay in its memory; false: in the daemon's own process",
    )
    collection_timeout: Annotated[Duration, _seconds_between(60, 24 * 3600)] = Field(
        default=timedelta(hours=2),
        description="Longest a collection in a child process may take (the daemon's, scan's): past it the child "
        "is stopped and the run recorded as failed, never as a pass",
    )

    @field_validator("database")
    @classmethod
    def _db(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError(
                f"unsupported database URL {_shown(_redact_url(v))}: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
            )
        return v

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if not sep or not (port.isascii() and port.isdigit()) or len(port) > 5 or not 0 <= int(port) <= 65535:
            raise ValueError(f"listen must be HOST:PORT, got {_shown(v)}")
        host = host.strip("[]")
        if host not in ("", "localhost"):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ValueError(f"listen host must be an IP address or localhost, got {_shown(host)}") from None
        return v

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"source name {s.name!r} is used twice")
            seen.add(s.name)
        names = [c.name for c in self.alerts.channels]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"alert channel name {sorted(dup)[0]!r} is used twice")
        return self

    def source(self, name: str) -> AnySource:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def listen_host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]") or "0.0.0.0", int(port)


def _redact_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@/]+@", r"://\1:***@", url)


def json_schema() -> dict[str, Any]:
    schema = Config.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "posture-agent configuration"
    return schema


# -- loading -------------------------------------------------------------------------------------
#
# Nothing a user writes may end in a traceback or hang: the YAML is loaded with bounds
# (agent/yamlpos.py: size, nesting, aliases), durations and dates are range-checked, every problem
# is one printable line, and whatever else a validator raises is still reported as a problem.

MAX_CONFIG_BYTES = MAX_BYTES
DATE_RANGE = (date(2000, 1, 1), date(2100, 12, 31))  # the dates a config may hold (e.g. check parameters)
_MAX_KEY_CHARS = 100
_MAX_MESSAGE_CHARS = 400
_MAX_HINTS = 100  # "did you mean" for this many unknown keys; more are listed without a hint

EnvOverride = tuple[tuple[str | int, ...], Any, str]


def _printable(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    """One line of readable text: control, format and separator characters escaped; shortened."""
    if len(text) > limit:
        text = text[:limit] + "..."
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _problem(file: str, key: str, message: str, line: int = 0) -> Problem:
    return Problem(
        file=_printable(file, 1000), line=line, key=_printable(key, _MAX_KEY_CHARS), message=_printable(message)
    )


def _shown(value: Any, limit: int = 60) -> str:
    """A value a user gave, for a message: its repr, shortened, and never failing."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "<a huge integer>"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - e.g. an integer too long to print, deep inside a list
        text = f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."


def _env_path(var: str) -> tuple[tuple[str | int, ...], str | None]:
    """The config path a POSTURE_* variable names, or why it names none."""
    parts = var[len(ENV_PREFIX) :].lower().split("__")
    if len(parts) > MAX_DEPTH:
        return (), f"the name nests deeper than {MAX_DEPTH} levels"
    path: list[str | int] = []
    for part in parts:
        if part.isascii() and part.isdigit():
            if len(part) > 9:
                return (), f"list index {part if len(part) <= 20 else part[:20] + '...'} is too large"
            path.append(int(part))
        else:
            path.append(part)
    return tuple(path), None


def _env_overrides(env: dict[str, str]) -> tuple[list[EnvOverride], list[Problem]]:
    """The POSTURE_* variables that override config keys: (path, value, variable), and the problems of
    those that cannot be read. A value is YAML (``30m``, ``[a, b]``, ``{level: debug}``), loaded with
    the file's bounds; a value that is not valid YAML is taken as text."""
    out: list[EnvOverride] = []
    problems: list[Problem] = []
    for var, raw in sorted(env.items()):
        if not var.startswith(ENV_PREFIX) or var in _ENV_RESERVED:
            continue
        first = var[len(ENV_PREFIX) :].lower().split("__", 1)[0]
        if first not in Config.model_fields:
            continue  # e.g. POSTURE_FLEET_TOKEN holding a secret: only top-level keys are overrides
        path, why = _env_path(var)
        if why is not None:
            problems.append(_problem(f"env {var}", first, why))
            continue
        value: Any = raw
        if raw.strip():
            try:
                value, _ = load_with_lines(raw)
            except YamlError as exc:
                if not exc.syntax:  # a limit, or a value YAML cannot construct (e.g. the date 2024-02-30)
                    problems.append(_problem(f"env {var}", _dotted(path + exc.path), exc.message))
                    continue
        out.append((path, value, var))
    return out, problems


def _set_path(data: Any, path: tuple[str | int, ...], value: Any) -> str | None:
    """Put ``value`` at ``path``, creating the mappings on the way; None, or why it cannot."""
    node = data
    for i, key in enumerate(path):
        here = _dotted(path[:i])
        last = i == len(path) - 1
        if isinstance(node, dict):
            if isinstance(key, int):
                return f"{here} is a mapping: name a key, not the item number {key}"
            if last:
                node[key] = value
                return None
            node = node.setdefault(key, [] if isinstance(path[i + 1], int) else {})
        elif isinstance(node, list):
            if not isinstance(key, int):
                return f"{here} is a list: give an item number, not {key!r}"
            if key >= len(node):
                return f"{here} has {len(node)} items: there is no item {key}"
            if last:
                node[key] = value
                return None
            node = node[key]
        else:
            return f"{here} is a value, not a mapping or a list"
    return None


def _models_in(model: type[BaseModel]) -> list[type[BaseModel]]:
    """A model and every model its fields hold, however nested (lists, unions, dicts)."""
    found: list[type[BaseModel]] = []

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in found:
                found.append(tp)
                for field in tp.model_fields.values():
                    visit(field.annotation)
            return
        for arg in get_args(tp):
            visit(arg)

    visit(model)
    return found


def _vocabulary() -> set[str]:
    """The keys a misspelt one is compared with: the core sections' and every provider's."""
    words: set[str] = set()
    models: list[type[BaseModel]] = [
        Config,
        Schedule,
        SlackChannel,
        WebhookChannel,
        AlertsConfig,
        AlertRoute,
        LogConfig,
        Scope,
        EvidenceConfig,
        ConsoleConfig,
        ConsoleUser,
    ]
    for name in registry.provider_names():
        try:
            models.extend(_models_in(registry.get_provider(name).source_model))
        except registry.RegistryError:
            continue  # a provider that cannot be loaded only loses its hints here
    for model in models:
        words.update(model.model_fields)
    return words


class _Hints:
    """'did you mean' for unknown keys: the vocabulary is built once per load, and only the first
    few unknown keys are compared with it (a file of thousands of unknown keys stays fast)."""

    def __init__(self) -> None:
        self.words: list[str] | None = None
        self.given = 0

    def __call__(self, key: str) -> str:
        self.given += 1
        if self.given > _MAX_HINTS or len(key) > 64:
            return ""
        if self.words is None:
            self.words = sorted(_vocabulary())
        close = difflib.get_close_matches(key, self.words, n=1)
        return f"; did you mean {close[0]!r}?" if close else ""


def _clean_loc(loc: tuple[Any, ...], data: Any) -> tuple[str | int, ...]:
    """Drop pydantic's union tags from a location by following the real data."""
    path: list[str | int] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        if in_dict or isinstance(node, list) and isinstance(part, int) and part < len(node):
            path.append(part)
            node = node[part]
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and part not in node
            and ("[" in part or part in ("slack", "webhook") or "function-" in part)
        ):
            continue
        else:
            path.append(part)
            node = None
    return tuple(path)


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _line_for(path: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> int:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return 0


def _message(err: dict[str, Any], path: tuple[str | int, ...], hints: _Hints) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return f"unknown key{hints(str(path[-1]) if path else '')}"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        return f"unknown {disc} {_shown(ctx.get('tag'))}; expected {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"missing {err.get('ctx', {}).get('discriminator', 'type')} key"
    if kind == "literal_error":
        return f"invalid value {_shown(err.get('input'))}; expected {err.get('ctx', {}).get('expected')}"
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _dates_out_of_range(data: Any) -> list[tuple[tuple[str | int, ...], date]]:
    """Every date in the data (YAML reads 2025-09-01 as one) outside ``DATE_RANGE``."""
    found: list[tuple[tuple[str | int, ...], date]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            stack.extend(reversed([(path + (k,), v) for k, v in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([(path + (i,), v) for i, v in enumerate(node)]))
        elif isinstance(node, date) and not DATE_RANGE[0].year <= node.year <= DATE_RANGE[1].year:
            found.append((path, node))
    return found


class _Where:
    """Which file line, or which POSTURE_* variable, a path of the data came from."""

    def __init__(self, filename: str, lines: dict[tuple[str | int, ...], int]) -> None:
        self.filename = filename
        self.lines = lines
        self.env: dict[tuple[str | int, ...], str] = {}

    def problem(self, path: tuple[str | int, ...], message: str) -> Problem:
        var = next((v for p, v in self.env.items() if path[: len(p)] == p), None)
        if var is None and path and path not in self.lines:
            # a key the file does not have, under which a variable set something
            var = next((v for p, v in self.env.items() if p[: len(path)] == path), None)
        if var is not None:
            return _problem(f"env {var}", _dotted(path), message)
        return _problem(self.filename, _dotted(path), message, line=_line_for(path, self.lines))


def parse_config(text: str, *, filename: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Validate config text; raise ConfigError listing every problem with its line.

    Raises nothing else, whatever the text or the variables hold."""
    try:
        data, lines = load_with_lines(text, max_bytes=MAX_CONFIG_BYTES)
    except YamlError as exc:
        key = _dotted(exc.path) if exc.path else ""
        raise ConfigError([_problem(filename, key, exc.message, line=exc.line)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [_problem(filename, "", "the config must be a mapping of keys (database, sources, ...)", line=1)]
        )
    where = _Where(filename, lines)
    overrides, problems = _env_overrides(dict(os.environ) if env is None else env)
    for path, value, var in overrides:
        why = _set_path(data, path, value)
        if why is None:
            where.env[path] = var
        else:
            problems.append(_problem(f"env {var}", _dotted(path), f"cannot apply the override: {why}"))
    for path, day in _dates_out_of_range(data):
        low, high = DATE_RANGE
        problems.append(where.problem(path, f"date {day.isoformat()} is out of range: use one from {low} to {high}"))
    cfg: Config | None = None
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        hints = _Hints()
        for err in exc.errors():
            path = _clean_loc(tuple(err["loc"]), data)
            if err.get("type") == "union_tag_invalid":
                path = path + (str(err.get("ctx", {}).get("discriminator", "")).strip("'"),)
            problems.append(where.problem(path, _message(dict(err), path, hints)))
    except Exception as exc:  # noqa: BLE001 - a validator's bug must still read as one line, not a traceback
        problems.append(_problem(filename, "", f"unexpected error while validating: {type(exc).__name__}: {exc}"))
    if problems or cfg is None:
        problems.sort(key=lambda p: (p.file, p.line))
        raise ConfigError(problems)
    return cfg


def load_config(path: str | os.PathLike[str], *, env: dict[str, str] | None = None) -> Config:
    """Read and validate a config file (at most 1 MiB of UTF-8 YAML); raise ConfigError only."""
    p = Path(path)
    name = str(p)
    try:
        with p.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError([_problem(name, "", "config file not found")]) from None
    except IsADirectoryError:
        raise ConfigError([_problem(name, "", "is a directory, not a config file")]) from None
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError([_problem(name, "", f"cannot read config file: {why}")]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([_problem(name, "", f"config file is larger than {MAX_CONFIG_BYTES // 1024 // 1024} MiB")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be decoded; save the file as UTF-8"
        raise ConfigError([_problem(name, "", message, line=line)]) from None
    return parse_config(text, filename=name, env=env)


def secret_problems(cfg: Config) -> list[Problem]:
    """Secret references that cannot be resolved right now (unset variable, missing file)."""
    found: list[Problem] = []

    def walk(obj: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(obj, Secret):
            why = obj.problem()
            if why:
                ref = obj.ref if len(obj.ref) <= 100 else obj.ref[:100] + "..."
                found.append(_problem("", _dotted(path), f"{ref}: {why}"))
        elif isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                walk(getattr(obj, name), path + (name,))
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                walk(item, path + (i,))

    walk(cfg, ())
    return found
