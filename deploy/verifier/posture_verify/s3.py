"""The anchor bucket: where the agent copies each checkpoint (S3 Object Lock, compliance mode), and
how the auditor reads it back with their own credentials (docs/evidence-format.md, "Witnesses").

Layout, shared with the agent's writer:

    <prefix>/<store>/checkpoints/<seq, 12 digits>.json   C({"body": <checkpoint body text>, "signature": ...})
    <prefix>/<store>/bundles/<SHA-256 of the manifest body>.json   the bundle manifest's canonical body

Reading needs only the standard library: S3's REST API over urllib, signed with AWS Signature
Version 4. Credentials come from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN) or the shared credentials file (AWS_PROFILE, default ``default``); without any,
requests go unsigned (an emulator, or a public bucket).
"""

from __future__ import annotations

import configparser
import hashlib
import hmac
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from posture_verify.canonical import canonical_json

__all__ = [
    "Credentials",
    "S3Error",
    "S3Reader",
    "Version",
    "bundle_key",
    "checkpoint_key",
    "checkpoint_object",
    "lock_of",
    "parse_bucket_url",
    "store_prefix",
]

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# -- layout ---------------------------------------------------------------------------------------------


def parse_bucket_url(url: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, prefix without slashes at either end); ValueError otherwise."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"expected s3://BUCKET[/PREFIX], got {url!r}")
    return parsed.netloc, parsed.path.strip("/")


def store_prefix(prefix: str, store: str) -> str:
    return f"{prefix}/{store}" if prefix else store


def checkpoint_key(prefix: str, store: str, seq: int) -> str:
    return f"{store_prefix(prefix, store)}/checkpoints/{seq:012d}.json"


def bundle_key(prefix: str, store: str, manifest_sha256: str) -> str:
    return f"{store_prefix(prefix, store)}/bundles/{manifest_sha256}.json"


def checkpoint_object(body: bytes, signature: str | None) -> bytes:
    """The bytes of a checkpoint's copy: its signed body (as text) and its signature."""
    return canonical_json({"body": body.decode("utf-8"), "signature": signature})


# -- reading --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def from_environment(cls) -> Credentials | None:
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if key and secret:
            return cls(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
        path = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws" / "credentials")
        profile = os.environ.get("AWS_PROFILE") or "default"
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
            section = parser[profile]
            return cls(
                section["aws_access_key_id"], section["aws_secret_access_key"], section.get("aws_session_token") or None
            )
        except (KeyError, configparser.Error):
            return None


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str, *, region: str | None = None) -> None:
        super().__init__(f"HTTP {status} {code}: {message}".strip())
        self.status, self.code, self.region = status, code, region


@dataclass(frozen=True)
class Version:
    key: str
    version_id: str
    etag: str
    last_modified: datetime
    delete_marker: bool = False


def _quote(value: str, safe: str = "") -> str:
    return urllib.parse.quote(value, safe="-_.~" + safe)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _s3_time(value: str) -> datetime:
    """``2026-11-30T15:17:12.000Z`` (listings, lock headers) or an HTTP date (``Last-Modified``)."""
    value = value.strip()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).astimezone(UTC)


class S3Reader:
    """GETs on one bucket, SigV4-signed. ``endpoint``: another S3 endpoint (path-style), e.g. moto."""

    def __init__(
        self,
        bucket: str,
        *,
        region: str = "us-east-1",
        endpoint: str | None = None,
        credentials: Credentials | None = None,
        timeout: float = 30,
    ) -> None:
        self.bucket, self.region, self.timeout = bucket, region, timeout
        self.credentials = credentials
        if endpoint:
            self.base, self.path_prefix = endpoint.rstrip("/"), f"/{bucket}"
        elif "." in bucket:  # a dotted name breaks the TLS name of the virtual host
            self.base, self.path_prefix = f"https://s3.{region}.amazonaws.com", f"/{bucket}"
        else:
            self.base, self.path_prefix = f"https://{bucket}.s3.{region}.amazonaws.com", ""

    def signed_headers(self, method: str, path: str, query: str, now: datetime | None = None) -> dict[str, str]:
        """The request's headers with its SigV4 Authorization (``path`` and ``query`` already encoded)."""
        host = urllib.parse.urlsplit(self.base).netloc
        now = now or datetime.now(UTC)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": host, "x-amz-content-sha256": _EMPTY_SHA256, "x-amz-date": amz_date}
        if self.credentials is None:
            return headers
        if self.credentials.token:
            headers["x-amz-security-token"] = self.credentials.token
        names = sorted(headers)
        canonical = "\n".join(
            [method, path, query, *(f"{n}:{headers[n].strip()}" for n in names), "", ";".join(names), _EMPTY_SHA256]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = _hmac(
            _hmac(_hmac(_hmac(f"AWS4{self.credentials.secret_key}".encode(), day), self.region), "s3"), "aws4_request"
        )
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.credentials.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )
        return headers

    def _use_region(self, region: str) -> None:
        """S3 said the bucket lives elsewhere: sign for (and, on AWS, talk to) that region."""
        self.region = region
        if self.base.endswith(".amazonaws.com"):
            self.base = (
                f"https://s3.{region}.amazonaws.com"
                if self.path_prefix
                else f"https://{self.bucket}.s3.{region}.amazonaws.com"
            )

    def request(
        self, method: str, key: str = "", query: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            return self._request(method, key, query)
        except S3Error as exc:
            if exc.region and exc.region != self.region:  # the bucket's region, which no option had to name
                self._use_region(exc.region)
                return self._request(method, key, query)
            raise

    def _request(self, method: str, key: str, query: dict[str, str] | None) -> tuple[int, dict[str, str], bytes]:
        path = self.path_prefix + "/" + _quote(key, safe="/") if key else (self.path_prefix or "/")
        qs = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted((query or {}).items()))
        headers = self.signed_headers(method, path, qs)
        req = urllib.request.Request(
            self.base + path + (f"?{qs}" if qs else ""),
            method=method,
            headers={k: v for k, v in headers.items() if k != "host"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (https or the given endpoint)
                return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            code, message = str(exc.code), exc.reason
            region = exc.headers.get("x-amz-bucket-region") if exc.headers is not None else None
            try:
                root = ElementTree.fromstring(body)
                code = root.findtext("Code") or code
                message = root.findtext("Message") or message
                region = region or root.findtext("Region")
            except ElementTree.ParseError:
                pass
            raise S3Error(exc.code, code, str(message), region=region) from None
        except (urllib.error.URLError, OSError) as exc:
            raise S3Error(0, "unreachable", str(getattr(exc, "reason", exc))) from None

    def list_versions(self, prefix: str) -> list[Version]:
        """Every version and delete marker under ``prefix``, oldest first per key."""
        out: list[Version] = []
        query = {"versions": "", "prefix": prefix}
        while True:
            _, _, body = self.request("GET", "", query)
            root = ElementTree.fromstring(body)
            for el in root:
                tag = el.tag.removeprefix(_NS)
                if tag in ("Version", "DeleteMarker"):
                    out.append(
                        Version(
                            key=el.findtext(f"{_NS}Key") or "",
                            version_id=el.findtext(f"{_NS}VersionId") or "null",
                            etag=(el.findtext(f"{_NS}ETag") or "").strip('"'),
                            last_modified=_s3_time(el.findtext(f"{_NS}LastModified") or ""),
                            delete_marker=tag == "DeleteMarker",
                        )
                    )
            if (root.findtext(f"{_NS}IsTruncated") or "false").lower() != "true":
                break
            query = {
                "versions": "",
                "prefix": prefix,
                "key-marker": root.findtext(f"{_NS}NextKeyMarker") or "",
                "version-id-marker": root.findtext(f"{_NS}NextVersionIdMarker") or "",
            }
        # S3 lists a key's versions newest first: reverse within each key, keep the keys in order
        by_key: dict[str, list[Version]] = {}
        for v in out:
            by_key.setdefault(v.key, []).append(v)
        return [v for key in by_key for v in sorted(reversed(by_key[key]), key=lambda x: x.last_modified)]

    def get(self, key: str, version_id: str | None = None) -> tuple[dict[str, str], bytes]:
        """One object version: its headers (lowercase names; the Object Lock headers are those of
        HeadObject) and its bytes."""
        _, headers, body = self.request("GET", key, {"versionId": version_id} if version_id else None)
        return headers, body


def lock_of(headers: dict[str, Any]) -> tuple[str | None, datetime | None]:
    """(x-amz-object-lock-mode, x-amz-object-lock-retain-until-date) of an object version."""
    mode = headers.get("x-amz-object-lock-mode")
    until = headers.get("x-amz-object-lock-retain-until-date")
    try:
        return mode, _s3_time(until) if until else None
    except (ValueError, TypeError):
        return mode, None
