"""The agent's configuration: one YAML file plus POSTURE_* environment overrides, validated by
pydantic. Every problem is reported as one line naming the key, the line and what is wrong."""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from agent.errors import ConfigError, Problem
from agent.yamlpos import YamlError, load_with_lines

__all__ = [
    "AnySource",
    "AwsAccount",
    "AwsSource",
    "AzureCredentials",
    "AzureSource",
    "EndpointSource",
    "FleetOptions",
    "GcpSource",
    "PushOptions",
    "SsmOptions",
    "Config",
    "Schedule",
    "Secret",
    "default_database_url",
    "json_schema",
    "load_config",
    "parse_config",
    "parse_duration",
]

ENV_PREFIX = "POSTURE_"
_ENV_RESERVED = {"POSTURE_DATA_DIR", "POSTURE_CONFIG", "POSTURE_DB", "POSTURE_TEST_DATABASE_URL"}
FRAMEWORKS = ("soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa")
FrameworkId = Literal["soc2", "iso27001", "nist80053", "cis_aws", "cis_azure", "cis_gcp", "hipaa"]
Soc2Category = Literal["security", "availability", "confidentiality", "processing_integrity", "privacy"]
SOC2_CATEGORIES = ("security", "availability", "confidentiality", "processing_integrity", "privacy")

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: Any) -> timedelta:
    """'30s', '15m', '1h', '7d', '2w' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m, 1h or 7d")
    if isinstance(value, int):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"invalid duration {value!r}: use e.g. 30s, 15m, 1h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _format_duration(td: timedelta) -> str:
    return f"{int(td.total_seconds())}s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(_format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": ["string", "integer"],
            "pattern": r"^\d+[smhdw]?$",
            "description": "Duration: 30s, 15m, 1h, 7d, or seconds",
        }
    ),
]


class Secret:
    """A reference to a secret (``env:NAME`` or ``file:/path``), resolved only when used.

    It never holds the value: repr, logs and exports show the reference, never the secret."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref

    def __repr__(self) -> str:
        return f"Secret({self.ref!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(self.ref)

    def reveal(self) -> str:
        kind, _, target = self.ref.partition(":")
        if kind == "env":
            value = os.environ.get(target)
            if value is None:
                raise ConfigError(
                    [Problem(key="", message=f"secret {self.ref}: environment variable {target} is not set")]
                )
            return value
        try:
            return Path(target).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                [Problem(key="", message=f"secret {self.ref}: cannot read file: {exc.strerror}")]
            ) from None

    def problem(self) -> str | None:
        """Why this reference cannot be resolved now, or None."""
        kind, _, target = self.ref.partition(":")
        if kind == "env" and target not in os.environ:
            return f"environment variable {target} is not set"
        if kind == "file" and not Path(target).is_file():
            return f"file {target} does not exist"
        return None


def _secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a secret reference: env:NAME or file:/path")
    if re.match(r"^env:[A-Za-z_][A-Za-z0-9_]*$", value) or re.match(r"^file:/.+", value):
        return Secret(value)
    raise ValueError("secrets are given by reference only: use env:NAME or file:/absolute/path, never the value itself")


SecretRef = Annotated[
    Secret,
    BeforeValidator(_secret),
    PlainSerializer(lambda s: s.ref, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:/.+)$",
            "description": "Secret reference: env:NAME or file:/path",
        }
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Schedule(_Model):
    interval: Duration | None = None
    cron: str | None = Field(default=None, description="Five-field cron expression, UTC")
    jitter: Duration = Field(default=timedelta(seconds=0), description="Random delay added to each run")
    misfire_grace: Duration = timedelta(minutes=5)

    @field_validator("interval")
    @classmethod
    def _positive(cls, v: timedelta | None) -> timedelta | None:
        if v is not None and v.total_seconds() < 10:
            raise ValueError("interval must be at least 10s")
        return v

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(v, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {v!r}: {exc}") from None
        return v

    @model_validator(mode="after")
    def _one(self) -> Schedule:
        if (self.interval is None) == (self.cron is None):
            raise ValueError("give exactly one of interval or cron")
        return self

    def nominal_interval(self) -> timedelta:
        """The expected gap between runs (for cron, the gap between its next two fire times)."""
        if self.interval is not None:
            return self.interval
        from datetime import UTC, datetime

        from apscheduler.triggers.cron import CronTrigger

        trig = CronTrigger.from_crontab(self.cron or "", timezone="UTC")
        now = datetime.now(UTC)
        first = trig.get_next_fire_time(None, now)
        second = trig.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
        if first is None or second is None:
            return timedelta(hours=1)
        interval: timedelta = second - first
        return interval


_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")


class AwsAccount(_Model):
    id: str | None = Field(default=None, description="12-digit account id")
    role_arn: str | None = None
    role_name: str | None = None
    external_id: SecretRef | str | None = None
    session_name: str = "posture-agent"

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\d{12}", str(v)):
            raise ValueError(f"account id must be 12 digits, got {v!r}")
        return v

    @field_validator("role_arn")
    @classmethod
    def _arn(cls, v: str | None) -> str | None:
        if v is not None and not _ROLE_ARN.match(v):
            raise ValueError(f"not an IAM role ARN: {v!r} (arn:aws:iam::123456789012:role/NAME)")
        return v

    @model_validator(mode="after")
    def _target(self) -> AwsAccount:
        if (
            self.role_arn is None
            and (self.id is None or self.role_name is None)
            and not (self.id is None and self.role_name is None)
        ):
            raise ValueError("give role_arn, or both id and role_name, or neither (the default credentials)")
        return self


class _SourceBase(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    schedule: Schedule = Schedule(interval=timedelta(hours=1))
    enabled: bool = True


class AwsSource(_SourceBase):
    provider: Literal["aws"]
    regions: list[str] | None = Field(default=None, description="Regions to scan; default: every enabled region")
    accounts: list[AwsAccount] = Field(default_factory=list)
    organization: bool = Field(default=False, description="Discover every active member account")
    role_name: str = Field(default="PostureAgentReadOnly", description="Role assumed in member accounts")
    external_id: SecretRef | str | None = None
    profile: str | None = None
    endpoint_url: str | None = Field(default=None, description="Override the AWS endpoint (emulators)")
    max_workers: int = Field(default=8, ge=1, le=64)
    services: list[str] | None = Field(default=None, description="Limit collection to these services")

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        bad = [r for r in v if not _REGION.match(r)]
        if bad:
            raise ValueError(f"not an AWS region name: {', '.join(map(repr, bad))}")
        return v


class GcpSource(_SourceBase):
    """Google Cloud through Cloud Asset Inventory (collectors/gcp)."""

    provider: Literal["gcp"]
    scope: str = Field(
        pattern=r"^(organizations|folders|projects)/[A-Za-z0-9_.:-]+$",
        description="organizations/ID, folders/ID or projects/ID",
    )
    credentials: SecretRef | None = Field(
        default=None, description="Service-account key (file:/path); default: Application Default Credentials"
    )
    endpoint: str | None = Field(default=None, description="Override the Cloud Asset API endpoint (tests)")
    asset_types: list[str] | None = Field(
        default=None, description="Limit collection to these Cloud Asset types; default: every type checked"
    )
    page_size: int = Field(default=500, ge=1, le=1000, description="Items asked for per API page")
    timeout: Duration = Field(default=timedelta(seconds=60), description="Per-request timeout")
    cloud_identity_admin: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="Super administrator the service account impersonates (domain-wide delegation) to read "
        "2-Step Verification enforcement from the Cloud Identity Policy API; unset: not read",
    )


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_TENANT = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$"
)


def _https_base(value: str | None, key: str) -> str | None:
    if value is None:
        return None
    if not re.match(r"^https://[^/\s]+(/[^\s]*)?$", value):
        raise ValueError(f"{key} must be an https:// URL, got {value!r}")
    return value.rstrip("/")


class AzureCredentials(_Model):
    """How to reach one Microsoft Entra tenant (Graph) and Azure Resource Manager, read-only."""

    tenant_id: str = Field(description="Directory (tenant) id, a GUID or a verified domain")
    auth: Literal["client_secret", "certificate", "workload_identity", "managed_identity", "default"] = Field(
        default="client_secret", description="How the agent gets tokens (azure-identity credential type)"
    )
    client_id: str | None = Field(default=None, description="Application (client) id of the agent's app")
    client_secret: SecretRef | None = Field(default=None, description="For auth: client_secret (env:/file:)")
    certificate_path: str | None = Field(default=None, description="For auth: certificate: PEM with key")
    certificate_password: SecretRef | None = None
    federated_token_file: str | None = Field(
        default=None, description="For auth: workload_identity; default: $AZURE_FEDERATED_TOKEN_FILE"
    )
    authority: str | None = Field(default=None, description="Login host; default https://login.microsoftonline.com")
    graph_url: str = Field(default="https://graph.microsoft.com", description="Microsoft Graph base URL")
    arm_url: str = Field(default="https://management.azure.com", description="Azure Resource Manager base URL")
    ca_bundle: str | None = Field(default=None, description="PEM CA bundle to verify TLS (private clouds, tests)")
    protection_state_path: str = Field(
        default="/beta/deviceManagement/managedDevices/{id}/windowsProtectionState",
        description="Graph path of a device's Windows protection state (beta in Graph today)",
    )
    timeout: Duration = Field(default=timedelta(seconds=30), description="Per-request timeout")

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, v: str) -> str:
        if not _TENANT.match(v):
            raise ValueError(f"tenant_id must be a GUID or a domain such as contoso.onmicrosoft.com, got {v!r}")
        return v

    @field_validator("client_id")
    @classmethod
    def _client(cls, v: str | None) -> str | None:
        if v is not None and not _GUID.match(v):
            raise ValueError(f"client_id must be the application (client) id, a GUID, got {v!r}")
        return v

    @field_validator("authority", "graph_url", "arm_url")
    @classmethod
    def _urls(cls, v: str | None, info: Any) -> str | None:
        return _https_base(v, info.field_name)

    @field_validator("protection_state_path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/") or "{id}" not in v:
            raise ValueError("protection_state_path must start with / and contain {id}")
        return v

    @model_validator(mode="after")
    def _auth_inputs(self) -> AzureCredentials:
        needs: dict[str, tuple[str, ...]] = {
            "client_secret": ("client_id", "client_secret"),
            "certificate": ("client_id", "certificate_path"),
            "workload_identity": ("client_id",),
        }
        missing = [k for k in needs.get(self.auth, ()) if getattr(self, k) is None]
        if missing:
            raise ValueError(f"auth: {self.auth} needs {' and '.join(missing)}")
        if self.auth != "client_secret" and self.client_secret is not None:
            raise ValueError(f"client_secret is only used with auth: client_secret (auth is {self.auth})")
        return self


class AzureSource(_SourceBase, AzureCredentials):
    """Microsoft Entra ID (Graph) and Azure Resource Manager (fields owned by collectors/azure)."""

    provider: Literal["azure"]
    subscriptions: list[str] | None = Field(
        default=None, description="Subscription ids or names to scan; default: every one the agent can read"
    )
    entra: bool = Field(default=True, description="Collect Entra ID users, roles and policies (Graph)")
    per_user_mfa: bool = Field(
        default=True,
        description="Read each enabled user's per-user MFA state (Graph beta; one request per enabled user)",
    )
    arm: bool = Field(default=True, description="Collect Azure resources (Resource Manager)")
    max_retries: int = Field(default=4, ge=0, le=10, description="Retries on 429/503 honouring Retry-After")

    def credentials(self) -> AzureCredentials:
        return AzureCredentials(**{k: getattr(self, k) for k in AzureCredentials.model_fields})


class FleetOptions(_Model):
    """Fleet (fleetdm.com) REST API: hosts, host details and policy results."""

    url: str = Field(pattern=r"^https?://", description="Fleet server base URL, e.g. https://fleet.example.com")
    token: SecretRef = Field(description="API-only user token (env:NAME or file:/path)")
    ca_bundle: str | None = Field(default=None, description="PEM file to verify the server with")
    per_page: int = Field(default=100, ge=1, le=500)
    timeout: Duration = Field(default=timedelta(seconds=30))
    max_retries: int = Field(default=5, ge=0, le=20, description="Retries after 429/5xx (Retry-After honoured)")
    policies: dict[
        Literal[
            "antivirus",
            "firewall",
            "disk_encryption",
            "os_supported",
            "os_patched",
            "password_required",
            "edr",
            "tamper_protection",
        ],
        str,
    ] = Field(default_factory=dict, description="Fleet policy name whose result answers each device attribute")


class SsmOptions(_Model):
    """AWS Systems Manager inventory for servers; reaches accounts like an AWS source does."""

    regions: list[str] = Field(min_length=1, description="Regions whose managed instances are read")
    accounts: list[AwsAccount] = Field(default_factory=list)
    organization: bool = False
    role_name: str = "PostureAgentReadOnly"
    external_id: SecretRef | str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_workers: int = Field(default=4, ge=1, le=32)

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        bad = [r for r in v if not _REGION.match(r)]
        if bad:
            raise ValueError(f"not an AWS region name: {', '.join(map(repr, bad))}")
        return v


class PushOptions(_Model):
    """Devices report themselves to POST /v1/devices on the agent's HTTP port (HMAC-signed)."""

    realm: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
        description="Account name the devices are filed under; default: the source name",
    )
    device_keys: SecretRef | None = Field(
        default=None, description="JSON file (or variable) mapping device id -> that device's own key"
    )
    shared_key: SecretRef | None = Field(default=None, description="One HMAC key every device signs with")
    max_report_bytes: int = Field(default=65536, ge=1024, le=1048576)
    replay_window: Duration = Field(default=timedelta(minutes=5), description="Allowed clock skew")
    forget_after: Duration = Field(
        default=timedelta(days=90), description="Devices silent for longer drop out of the snapshot"
    )

    @model_validator(mode="after")
    def _a_key(self) -> PushOptions:
        if self.device_keys is None and self.shared_key is None:
            raise ValueError("give device_keys (one key per device) or shared_key")
        return self


class EndpointSource(_SourceBase):
    """Laptops and servers: Intune, Fleet, SSM inventory or the push endpoint (collectors/endpoints)."""

    provider: Literal["endpoints"]
    kind: Literal["intune", "fleet", "ssm", "push"]
    azure: AzureCredentials | None = None
    fleet: FleetOptions | None = None
    ssm: SsmOptions | None = None
    push: PushOptions | None = None

    @model_validator(mode="after")
    def _options_for_kind(self) -> EndpointSource:
        for kind in ("fleet", "ssm", "push"):
            given = getattr(self, kind) is not None
            if kind == self.kind and not given:
                raise ValueError(f"kind {kind} needs a {kind}: section")
            if kind != self.kind and given:
                raise ValueError(f"{kind}: options given but kind is {self.kind}")
        return self


AnySource = AwsSource | GcpSource | AzureSource | EndpointSource
Source = Annotated[AnySource, Field(discriminator="provider")]


class SlackChannel(_Model):
    name: str
    type: Literal["slack"]
    webhook_url: SecretRef


class WebhookChannel(_Model):
    name: str
    type: Literal["webhook"]
    url: SecretRef | str
    secret: SecretRef | None = None


Channel = Annotated[SlackChannel | WebhookChannel, Field(discriminator="type")]


SeverityName = Literal["critical", "high", "medium", "low", "info"]


class AlertRoute(_Model):
    """Send matching alerts to ``channel``. Every filter given must match; a list matches any of
    its items; an empty list matches everything."""

    channel: str
    min_severity: SeverityName = "medium"
    frameworks: list[str] = Field(default_factory=list, description="e.g. soc2, iso27001")
    providers: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)


class AlertsConfig(_Model):
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


class LogConfig(_Model):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "text"] = "auto"


class Scope(_Model):
    frameworks: list[FrameworkId] = Field(default_factory=lambda: list[FrameworkId](["soc2"]))
    soc2_categories: list[Soc2Category] = Field(default_factory=lambda: list[Soc2Category](["security"]))

    @field_validator("soc2_categories")
    @classmethod
    def _security_always(cls, v: list[str]) -> list[str]:
        return v if "security" in v else ["security", *v]


class TsaAnchor(_Model):
    """An RFC 3161 timestamping authority that witnesses every checkpoint (agent/evidence/anchoring.py)."""

    url: str = Field(pattern=r"^https?://\S+$", description="The TSA's URL (POST application/timestamp-query)")
    ca_bundle: str | None = Field(
        default=None, description="PEM file of the CAs for the TSA's HTTPS certificate; default: the system's"
    )
    timeout: Duration = Field(default=timedelta(seconds=10), description="Per request")


class S3Anchor(_Model):
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
        if not _REGION.match(v):
            raise ValueError(f"not an AWS region name: {v!r}")
        return v

    @field_validator("role_arn")
    @classmethod
    def _role(cls, v: str | None) -> str | None:
        if v is not None and not _ROLE_ARN.match(v):
            raise ValueError(f"not an IAM role ARN: {v!r}")
        return v


class AnchorsConfig(_Model):
    tsa: list[TsaAnchor] = Field(default_factory=list)
    s3: S3Anchor | None = None
    every: Duration = Field(default=timedelta(seconds=30), description="How often the daemon anchors new checkpoints")


class EvidenceConfig(_Model):
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


def default_database_url() -> str:
    data_dir = os.environ.get("POSTURE_DATA_DIR") or os.path.join(
        os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "posture-agent"
    )
    return f"sqlite:///{os.path.join(data_dir, 'posture.db')}"


class Config(_Model):
    database: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: sqlite:///path or postgresql+psycopg://...",
    )
    listen: str = Field(default="127.0.0.1:9464", description="HOST:PORT for /metrics, /healthz, /readyz")
    workers: int = Field(default=2, ge=1, le=32, description="Sources collected at the same time")
    log: LogConfig = LogConfig()
    scope: Scope = Scope()
    sources: list[Source] = Field(default_factory=list)
    alerts: AlertsConfig = AlertsConfig()
    checks: dict[str, dict[str, Any]] = Field(default_factory=dict, description="Per-check parameters")
    evidence: EvidenceConfig = EvidenceConfig()
    external_url: str | None = Field(default=None, description="Link back to this agent in alerts")

    @field_validator("database")
    @classmethod
    def _db(cls, v: str) -> str:
        if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", v):
            raise ValueError(
                f"unsupported database URL {_redact_url(v)!r}: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
            )
        return v

    @field_validator("listen")
    @classmethod
    def _listen(cls, v: str) -> str:
        host, sep, port = v.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"listen must be HOST:PORT, got {v!r}")
        host = host.strip("[]")
        if host not in ("", "localhost"):
            try:
                ipaddress.ip_address(host)
            except ValueError:
                raise ValueError(f"listen host must be an IP address or localhost, got {host!r}") from None
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


def _env_overrides(env: dict[str, str]) -> list[tuple[tuple[str | int, ...], Any, str]]:
    out = []
    for var, raw in sorted(env.items()):
        if not var.startswith(ENV_PREFIX) or var in _ENV_RESERVED:
            continue
        parts = var[len(ENV_PREFIX) :].lower().split("__")
        if parts[0] not in Config.model_fields:
            continue  # e.g. POSTURE_FLEET_TOKEN holding a secret: only top-level keys are overrides
        path = tuple(int(p) if p.isdigit() else p for p in parts)
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        out.append((path, value, var))
    return out


def _set_path(data: Any, path: tuple[str | int, ...], value: Any) -> bool:
    node = data
    for i, key in enumerate(path[:-1]):
        nxt = path[i + 1]
        if isinstance(node, dict):
            node = node.setdefault(key, [] if isinstance(nxt, int) else {})
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            return False
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
        return True
    if isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
        return True
    return False


def _vocabulary() -> set[str]:
    words: set[str] = set()
    for model in (
        Config,
        Schedule,
        AwsAccount,
        AwsSource,
        GcpSource,
        AzureSource,
        EndpointSource,
        FleetOptions,
        SsmOptions,
        PushOptions,
        SlackChannel,
        WebhookChannel,
        AlertsConfig,
        AlertRoute,
        LogConfig,
        Scope,
        EvidenceConfig,
    ):
        words.update(model.model_fields)
    return words


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
            and ("[" in part or part in ("aws", "gcp", "azure", "endpoints", "slack", "webhook") or "function-" in part)
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


def _message(err: dict[str, Any], path: tuple[str | int, ...]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        key = str(path[-1]) if path else ""
        close = difflib.get_close_matches(key, sorted(_vocabulary()), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown key{hint}"
    if kind == "missing":
        return "required key is missing"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        return f"unknown {disc} {ctx.get('tag')!r}; expected {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"missing {err.get('ctx', {}).get('discriminator', 'type')} key"
    if kind == "literal_error":
        return f"invalid value {err.get('input')!r}; expected {err.get('ctx', {}).get('expected')}"
    msg = str(err.get("msg", "invalid"))
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def parse_config(text: str, *, filename: str = "<config>", env: dict[str, str] | None = None) -> Config:
    """Validate config text; raise ConfigError listing every problem with its line."""
    try:
        data, lines = load_with_lines(text)
    except YamlError as exc:
        raise ConfigError([Problem(file=filename, line=exc.line, key="", message=exc.message)]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [
                Problem(
                    file=filename,
                    line=1,
                    key="",
                    message="the config must be a mapping of keys (database, sources, ...)",
                )
            ]
        )
    env_keys: dict[tuple[str | int, ...], str] = {}
    for path, value, var in _env_overrides(dict(os.environ) if env is None else env):
        if _set_path(data, path, value):
            env_keys[path] = var
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = _clean_loc(tuple(err["loc"]), data)
            if err.get("type") == "union_tag_invalid":
                path = path + (str(err.get("ctx", {}).get("discriminator", "")).strip("'"),)
            env_var = next((v for p, v in env_keys.items() if path[: len(p)] == p), None)
            problems.append(
                Problem(
                    file=filename if env_var is None else f"env {env_var}",
                    line=_line_for(path, lines) if env_var is None else 0,
                    key=_dotted(path),
                    message=_message(dict(err), path),
                )
            )
        problems.sort(key=lambda p: (p.file, p.line))
        raise ConfigError(problems) from None


def load_config(path: str | os.PathLike[str], *, env: dict[str, str] | None = None) -> Config:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(file=str(p), key="", message="config file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(file=str(p), key="", message=f"cannot read config file: {exc}")]) from None
    return parse_config(text, filename=str(p), env=env)


def secret_problems(cfg: Config) -> list[Problem]:
    """Secret references that cannot be resolved right now (unset variable, missing file)."""
    found: list[Problem] = []

    def walk(obj: Any, path: tuple[str | int, ...]) -> None:
        if isinstance(obj, Secret):
            why = obj.problem()
            if why:
                found.append(Problem(key=_dotted(path), message=f"{obj.ref}: {why}"))
        elif isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                walk(getattr(obj, name), path + (name,))
        elif isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj):
                walk(item, path + (i,))

    walk(cfg, ())
    return found
