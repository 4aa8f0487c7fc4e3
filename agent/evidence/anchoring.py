"""Anchoring: each checkpoint gets witnesses whose time the operator cannot set (issue #13).

- **RFC 3161.** For every configured TSA (``evidence.anchors.tsa``) the agent asks for a timestamp
  token over the checkpoint's signed body (SHA-256 message imprint, a random nonce, certReq false)
  and stores the response in ``evidence_anchors``. The TSA's certificate chain is asked for once
  per TSA signing certificate (a second request with certReq true) and stored as an
  ``rfc3161-certs`` row, with that first token as the reference later ones are zstd-packed
  against: a token costs about 190 bytes instead of 630 (the store packs and unpacks it:
  agent/store/anchor_rows.py).
- **S3 Object Lock.** With ``evidence.anchors.s3`` each checkpoint is copied to
  ``<prefix>/<store>/checkpoints/<seq>.json`` in the auditor's bucket, in COMPLIANCE mode until
  now + ``retain_days``, and the version id and ETag are recorded. This is the agent's only write to
  any cloud: a boto3 client of its own (never the collector's) whose guard lets exactly PutObject to
  that bucket and prefix leave the process (:data:`ANCHOR_ACTIONS`,
  deploy/aws/posture-agent-anchor-policy.json).

The daemon runs an :class:`Anchorer` every ``evidence.anchors.every`` (default 30 s, :func:`schedule`,
on a thread of its own): every checkpoint of the last day still missing a witness gets one. A
failure is logged and retried on the next tick; collection never waits for it. Export uses
:func:`witness_manifest` for the bundle manifest's own token and copy. The formats and checks are
the verifier's (posture_verify.witnesses, posture_verify.s3, docs/evidence-format.md "Witnesses").
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from posture_verify.canonical import isoformat, sha256_hex
from posture_verify.checkpoints import body as checkpoint_body
from posture_verify.rfc3161 import SHA256_OID, parse_response
from posture_verify.s3 import bundle_key, checkpoint_key, checkpoint_object, parse_bucket_url
from posture_verify.witnesses import store_of
from rfc3161_client import HashAlgorithm, PKIStatus, TimestampRequestBuilder

from agent.errors import AgentError
from agent.models import utcnow
from agent.store import Store, anchor_rows

__all__ = [
    "ANCHOR_ACTIONS",
    "AnchorWriteRefused",
    "Anchorer",
    "S3Writer",
    "TsaClient",
    "anchor_pending",
    "schedule",
    "witness_manifest",
]

log = logging.getLogger("agent.evidence")

QUERY_TYPE = "application/timestamp-query"
# the anchor writer's allowlist: its only operation (the IAM policy in deploy/aws/ grants the same write)
ANCHOR_ACTIONS: frozenset[str] = frozenset({"s3:PutObject"})
ANCHOR_WITHIN = timedelta(days=1)  # older checkpoints are not anchored late: a late witness proves little
_RECENT_ROWS = 2000  # witness rows looked at per tick (the last day's, many times over)


class AnchorWriteRefused(AgentError):
    """The anchor writer was about to send something other than its one PutObject: a bug, never data."""


# -- RFC 3161 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    der: bytes  # the TimeStampResp as the TSA sent it
    gen_time: datetime
    nonce: int
    signer: tuple[str, int]  # issuer (RFC 4514) and serial of the TSA certificate that signed it


def _token_part(resp_der: bytes) -> bytes:
    """The TimeStampToken (a CMS ContentInfo) inside a DER TimeStampResp: SEQUENCE {status, token}.
    Read by hand so certificates can be taken from responses a strict parser refuses (OpenSSL's
    TSA sends its certificate SET unsorted)."""

    def tlv(data: bytes, at: int) -> tuple[int, int]:  # (start of value, end of element)
        length = data[at + 1]
        start = at + 2
        if length & 0x80:
            n = length & 0x7F
            length, start = int.from_bytes(data[at + 2 : at + 2 + n], "big"), at + 2 + n
        return start, start + length

    inner, _ = tlv(resp_der, 0)
    _, status_end = tlv(resp_der, inner)
    _, token_end = tlv(resp_der, status_end)
    return resp_der[status_end:token_end]


class TsaClient:
    """One timestamping authority."""

    def __init__(
        self, url: str, *, ca_bundle: str | None = None, timeout: float = 10, http: httpx.Client | None = None
    ) -> None:
        self.url = url
        self._http = http or httpx.Client(timeout=timeout, verify=ca_bundle or True)

    def close(self) -> None:
        self._http.close()

    def request(self, data: bytes, *, cert_req: bool) -> tuple[bytes, int]:
        """POST a TimeStampReq over SHA-256(data); the raw response and the nonce sent."""
        req = (
            TimestampRequestBuilder()
            .data(data)
            .hash_algorithm(HashAlgorithm.SHA256)
            .nonce(nonce=True)
            .cert_request(cert_request=cert_req)
            .build()
        )
        resp = self._http.post(self.url, content=req.as_bytes(), headers={"Content-Type": QUERY_TYPE})
        if resp.status_code != 200:
            raise RuntimeError(f"TSA {self.url} answered HTTP {resp.status_code}")
        return resp.content, int(req.nonce or 0)

    def stamp(self, data: bytes) -> Stamp:
        """A token over SHA-256(data), checked to be the answer to this request (granted, same
        imprint, same nonce) before it is kept."""
        der, nonce = self.request(data, cert_req=False)
        try:
            resp = parse_response(der)
        except ValueError as exc:
            raise RuntimeError(f"TSA {self.url}: {exc}") from None
        if resp.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
            raise RuntimeError(f"TSA {self.url} refused: status {resp.status} {' '.join(resp.status_string)}")
        tst = resp.tst_info
        if tst.message_imprint.hash_algorithm != SHA256_OID or tst.message_imprint.message != bytes.fromhex(
            sha256_hex(data)
        ):
            raise RuntimeError(f"TSA {self.url} answered for other data")
        if tst.nonce != nonce:
            raise RuntimeError(f"TSA {self.url} answered with another nonce")
        (signer,) = list(resp.signed_data.signer_infos)
        gen = tst.gen_time if tst.gen_time.tzinfo else tst.gen_time.replace(tzinfo=UTC)
        return Stamp(der=der, gen_time=gen, nonce=nonce, signer=(signer.issuer.rfc4514_string(), signer.serial_number))

    def chain(self, data: bytes) -> list[x509.Certificate]:
        """The TSA's certificates, from a token asked for with certReq true."""
        der, _ = self.request(data, cert_req=True)
        try:
            certs = pkcs7.load_der_pkcs7_certificates(_token_part(der))
        except (ValueError, IndexError) as exc:
            raise RuntimeError(f"TSA {self.url}: no certificates in its answer ({exc})") from None
        if not certs:
            raise RuntimeError(f"TSA {self.url} sent no certificates although asked to")
        return list(certs)


def _signer_key(cert: x509.Certificate) -> tuple[str, int]:
    return cert.issuer.rfc4514_string(), cert.serial_number


# -- S3 Object Lock -----------------------------------------------------------------------------------


class S3Writer:
    """The agent's only write to a cloud: PutObject of checkpoint copies into one bucket and prefix.

    A boto3 client of its own, guarded before anything leaves the process: any other operation, bucket
    or key is refused (:class:`AnchorWriteRefused`). With ``role_arn`` the role is assumed with an STS
    client whose guard allows AssumeRole of that role only; credentials are renewed before they expire.
    """

    def __init__(self, config: Any) -> None:
        self.config = config
        self.bucket, self.prefix = config.bucket, config.prefix.strip("/")
        self.url = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self._client: Any = None
        self._expires: datetime | None = None
        self._lock = threading.Lock()

    def _session(self) -> tuple[Any, datetime | None]:
        import boto3

        base = boto3.Session(profile_name=self.config.profile) if self.config.profile else boto3.Session()
        if not self.config.role_arn:
            return base, None
        sts = base.client("sts", region_name=self.config.region, endpoint_url=self.config.endpoint_url)
        role = self.config.role_arn

        def only_assume_role(params: dict[str, Any], model: Any, **_: Any) -> None:
            if model.name != "AssumeRole" or params.get("RoleArn") != role:
                raise AnchorWriteRefused(f"refused sts.{model.name}: the anchor writer only assumes {role}")

        sts.meta.events.register("before-parameter-build.sts", only_assume_role)
        creds = sts.assume_role(RoleArn=role, RoleSessionName="posture-agent-anchor")["Credentials"]
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        expires = creds["Expiration"]
        return session, expires if expires.tzinfo else expires.replace(tzinfo=UTC)

    def client(self) -> Any:
        with self._lock:
            if self._client is None or (self._expires is not None and self._expires - utcnow() < timedelta(minutes=5)):
                from botocore.config import Config

                session, self._expires = self._session()
                client = session.client(
                    "s3",
                    region_name=self.config.region,
                    endpoint_url=self.config.endpoint_url,
                    config=Config(
                        retries={"mode": "standard", "max_attempts": 3},
                        s3={"addressing_style": "path"} if self.config.endpoint_url else {},
                        user_agent_extra="posture-agent-anchor",
                    ),
                )
                install_anchor_guard(client, self.bucket, self.prefix)
                self._client = client
            return self._client

    def put(self, key: str, data: bytes, now: datetime) -> dict[str, Any]:
        """Write one locked object; its receipt (key, version id, ETag, retain-until, time)."""
        until = now + timedelta(days=int(self.config.retain_days))
        resp = self.client().put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="application/json",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=until,
        )
        headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        when = headers.get("last-modified") or headers.get("date")
        from email.utils import parsedate_to_datetime

        at = parsedate_to_datetime(when).astimezone(UTC) if when else now
        return {
            "key": key,
            "version_id": resp.get("VersionId"),
            "etag": str(resp.get("ETag", "")).strip('"'),
            "retain_until": isoformat(until.replace(microsecond=0)),
            "at": at,
        }


def install_anchor_guard(client: Any, bucket: str, prefix: str) -> None:
    """Refuse, before it is built, every request of ``client`` but PutObject into ``bucket`` under ``prefix``."""
    under = f"{prefix}/" if prefix else ""

    def guard(params: dict[str, Any], model: Any, **_: Any) -> None:
        action = f"s3:{model.name}"
        if action not in ANCHOR_ACTIONS:
            raise AnchorWriteRefused(
                f"refused s3.{model.name} ({action}): the anchor writer only puts checkpoint copies"
            )
        if params.get("Bucket") != bucket or not str(params.get("Key", "")).startswith(under):
            raise AnchorWriteRefused(
                f"refused s3.PutObject to {params.get('Bucket')}/{params.get('Key')}: the "
                f"anchor writer only writes under s3://{bucket}/{under}"
            )

    client.meta.events.register("before-parameter-build.s3", guard)


# -- the job ----------------------------------------------------------------------------------------------


@dataclass
class AnchorResult:
    anchored: int = 0
    failed: int = 0


class Anchorer:
    """Witnesses for checkpoints, with the writers of one configuration. Thread-safe enough for one
    scheduler job (APScheduler runs a job one instance at a time)."""

    def __init__(self, store: Store, anchors: Any, *, tsa_clients: Sequence[TsaClient] | None = None) -> None:
        self.store = store
        self.tsas = (
            list(tsa_clients)
            if tsa_clients is not None
            else [TsaClient(t.url, ca_bundle=t.ca_bundle, timeout=t.timeout.total_seconds()) for t in anchors.tsa]
        )
        self.s3 = S3Writer(anchors.s3) if anchors.s3 is not None else None
        self._refs: dict[tuple[str, tuple[str, int]], tuple[int, bytes]] | None = None

    @property
    def configured(self) -> bool:
        return bool(self.tsas or self.s3)

    def close(self) -> None:
        for t in self.tsas:
            t.close()

    def _references(self) -> dict[tuple[str, tuple[str, int]], tuple[int, bytes]]:
        """(TSA url, signer) -> (id, reference token) of the rfc3161-certs rows recorded so far."""
        if self._refs is None:
            self._refs = {}
            for r in anchor_rows.certificate_rows(self.store):
                for pem in json.loads(r.detail).get("certs", []):
                    for cert in x509.load_pem_x509_certificates(pem.encode()):
                        self._refs[(r.witness, _signer_key(cert))] = (r.id, r.reference)
        return self._refs

    def pending(self, now: datetime) -> tuple[list[dict[str, Any]], set[tuple[int, str, str]]]:
        """The checkpoints of the last day, and the witnesses they already have."""
        recent, done = anchor_rows.recent(self.store, checkpoints=200, witnesses=_RECENT_ROWS)
        since = now - ANCHOR_WITHIN
        fresh = [c for c in recent if datetime.fromisoformat(c["at"].replace("Z", "+00:00")) >= since]
        return sorted(fresh, key=lambda c: int(c["seq"])), done

    def anchor_tsa(self, tsa: TsaClient, c: dict[str, Any]) -> None:
        """A token for the checkpoint; the first from a TSA signing certificate also records that
        certificate's chain, with the token as the reference the later ones are stored against."""
        data = checkpoint_body(c)
        stamp = tsa.stamp(data)
        refs = self._references()
        ref = refs.get((tsa.url, stamp.signer))
        certs = tsa.chain(data) if ref is None else []  # asked outside the write transaction
        ref = anchor_rows.insert_token(
            self.store,
            checkpoint_seq=int(c["seq"]),
            witness=tsa.url,
            at=stamp.gen_time,
            der=stamp.der,
            nonce=stamp.nonce,
            reference=ref,
            certs=[x.public_bytes(serialization.Encoding.PEM).decode() for x in certs],
        )
        for cert in certs:  # committed: later tokens of this certificate are packed against this one
            refs[(tsa.url, _signer_key(cert))] = ref

    def anchor_s3(self, writer: S3Writer, c: dict[str, Any], now: datetime) -> None:
        _, prefix = parse_bucket_url(writer.url)
        key = checkpoint_key(prefix, store_of(c), int(c["seq"]))
        receipt = writer.put(key, checkpoint_object(checkpoint_body(c), c.get("signature")), now)
        # the key follows from the witness, the store and the seq; the retention is the bucket's to say
        detail = {"version_id": receipt["version_id"], "etag": receipt["etag"]}
        anchor_rows.insert_receipt(
            self.store,
            checkpoint_seq=int(c["seq"]),
            witness=writer.url,
            at=receipt["at"],
            detail=json.dumps(detail, separators=(",", ":"), sort_keys=True),
        )

    def run(self, now: datetime | None = None) -> AnchorResult:
        """Give every recent checkpoint its missing witnesses; failures are logged, never raised."""
        now = now or utcnow()
        res = AnchorResult()
        if not self.configured:
            return res
        checkpoints, done = self.pending(now)
        for c in checkpoints:
            seq = int(c["seq"])
            for tsa in self.tsas:
                if (seq, "rfc3161", tsa.url) in done:
                    continue
                try:
                    self.anchor_tsa(tsa, c)
                    res.anchored += 1
                except Exception as exc:  # network, TSA or database: retried on the next tick
                    res.failed += 1
                    log.warning(
                        "evidence anchoring failed",
                        extra={"witness": tsa.url, "checkpoint": seq, "error": f"{type(exc).__name__}: {exc}"},
                    )
            if self.s3 is not None and (seq, "s3", self.s3.url) not in done:
                try:
                    self.anchor_s3(self.s3, c, now)
                    res.anchored += 1
                except AnchorWriteRefused:
                    raise
                except Exception as exc:
                    res.failed += 1
                    log.warning(
                        "evidence anchoring failed",
                        extra={"witness": self.s3.url, "checkpoint": seq, "error": f"{type(exc).__name__}: {exc}"},
                    )
        if res.anchored:
            log.info("evidence anchored", extra={"witnesses": res.anchored, "failed": res.failed})
        return res


def anchor_pending(store: Store, anchors: Any, now: datetime | None = None) -> AnchorResult:
    """One pass of the daemon's job with a fresh :class:`Anchorer` (the CLI and tests)."""
    anchorer = Anchorer(store, anchors)
    try:
        return anchorer.run(now)
    finally:
        anchorer.close()


def _job(anchorer: Anchorer) -> None:
    try:
        anchorer.run()
    except Exception:
        log.exception("evidence anchoring failed")


def schedule(scheduler: Any, store: Store | None, evidence_config: Any) -> list[str]:
    """Add the anchoring job to an APScheduler scheduler when anchors are configured; its id, or none."""
    anchors = getattr(evidence_config, "anchors", None)
    if store is None or anchors is None or not (anchors.tsa or anchors.s3):
        return []
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.triggers.interval import IntervalTrigger

    anchorer = Anchorer(store, anchors)
    # a thread of its own: collection keeping every worker busy must not delay a witness past the tolerance
    scheduler.add_executor(ThreadPoolExecutor(1), alias="evidence-anchor")
    scheduler.add_job(
        _job,
        IntervalTrigger(seconds=max(1, int(anchors.every.total_seconds())), timezone="UTC"),
        args=[anchorer],
        id="evidence-anchor",
        name="evidence-anchor",
        next_run_time=utcnow(),
        executor="evidence-anchor",
        coalesce=True,
        misfire_grace_time=None,
        max_instances=1,
    )
    return ["evidence-anchor"]


# -- the bundle manifest --------------------------------------------------------------------------------


def declared_witnesses(anchors: Any) -> dict[str, Any] | None:
    """What a bundle manifest says it was given (so the verifier misses a removed one), or None."""
    if anchors is None or not (anchors.tsa or anchors.s3):
        return None
    s3 = anchors.s3
    return {
        "rfc3161": bool(anchors.tsa),
        "s3": (f"s3://{s3.bucket}/{s3.prefix.strip('/')}" if s3.prefix.strip("/") else f"s3://{s3.bucket}")
        if s3 is not None
        else None,
    }


def witness_manifest(anchors: Any, body: bytes, store_id: str, now: datetime | None = None) -> bytes | None:
    """Timestamp a bundle manifest's canonical body (the DER response for manifest.tsr, with the
    TSA's certificates) and copy it to the anchor bucket. Raises when a declared witness fails: a
    bundle must not claim a witness it lacks."""
    now = now or utcnow()
    tsr: bytes | None = None
    errors = []
    for t in anchors.tsa:
        client = TsaClient(t.url, ca_bundle=t.ca_bundle, timeout=t.timeout.total_seconds())
        try:
            der, _ = client.request(body, cert_req=True)
            try:
                parse_response(der)
            except ValueError:  # a strict parser refuses it (an unsorted certificate set): without certificates
                der = client.stamp(body).der
            tsr = der
            break
        except Exception as exc:
            errors.append(f"{t.url}: {type(exc).__name__}: {exc}")
        finally:
            client.close()
    if anchors.tsa and tsr is None:
        raise AgentError("the bundle manifest could not be timestamped: " + "; ".join(errors))
    if anchors.s3 is not None:
        writer = S3Writer(anchors.s3)
        _, prefix = parse_bucket_url(writer.url)
        key = bundle_key(prefix, store_id, sha256_hex(body))
        try:
            writer.put(key, body, now)
        except AnchorWriteRefused:
            raise
        except Exception as exc:
            raise AgentError(
                f"the bundle manifest could not be copied to s3://{writer.bucket}/{key}: {type(exc).__name__}: {exc}"
            ) from None
    return tsr
