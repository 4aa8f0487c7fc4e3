"""A timestamping authority (RFC 3161) on loopback, for the demo and the tests: OpenSSL's own TSA
(`openssl ts -reply`) behind a small HTTP server.

``LocalTsa().start()`` makes a CA and a TSA certificate (EC P-256; extendedKeyUsage timeStamping,
critical, as RFC 3161 section 2.3 requires), writes an ``openssl ts`` configuration, and answers
``POST /`` with ``Content-Type: application/timestamp-query`` by running ``openssl ts -reply`` on the
request: the token is OpenSSL's, not ours. ``ca_pem`` is what an auditor pins (``--tsa-cert``).
``down = True`` makes it answer 503 (an outage); ``available()`` says whether openssl is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["DEMO_POLICY", "LocalTsa", "available"]

DEMO_POLICY = "1.3.6.1.4.1.59999.13.1"  # a private-arc policy OID: this TSA promises nothing
QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


def available() -> bool:
    """Whether `openssl` is on PATH (Debian's openssl package)."""
    return shutil.which("openssl") is not None


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "posture-agent local TSA"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_tsa_certs(name: str) -> tuple[x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A root CA and a TSA certificate it issued, and the TSA's private key."""
    now = datetime.now(UTC)
    ca_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{name} root CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(ca_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca, tsa, tsa_key


_CONFIG = """\
[ tsa ]
default_tsa = local_tsa

[ local_tsa ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class LocalTsa:
    """OpenSSL's TSA on a loopback port. Thread-safe; ``stop()`` removes its key and files."""

    def __init__(self, name: str = "posture-agent demo TSA", *, policy: str = DEMO_POLICY) -> None:
        if not available():
            raise RuntimeError("openssl is not installed (Debian: apt-get install openssl)")
        self.name, self.policy = name, policy
        self.down = False
        self.requests = 0
        self._dir = Path(tempfile.mkdtemp(prefix="posture-tsa-"))
        ca, tsa, key = make_tsa_certs(name)
        self.ca_pem, self.cert_pem = _pem(ca), _pem(tsa)
        (self._dir / "ca.pem").write_bytes(self.ca_pem)
        (self._dir / "tsa.pem").write_bytes(self.cert_pem)
        key_file = self._dir / "tsa.key"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key_file.chmod(0o600)
        (self._dir / "serial").write_text("01\n")
        (self._dir / "tsa.cnf").write_text(_CONFIG.format(dir=self._dir, policy=policy))
        self._lock = threading.Lock()  # openssl ts keeps its serial number in a file
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def write_ca(self, path: Path) -> Path:
        """The CA certificate as a PEM file (what `--tsa-cert` takes)."""
        path.write_bytes(self.ca_pem)
        return path

    def reply(self, query: bytes) -> bytes:
        """``openssl ts -reply`` on a DER TimeStampReq; the DER TimeStampResp."""
        with self._lock, tempfile.TemporaryDirectory(dir=self._dir) as tmp:
            q, r = Path(tmp) / "req.tsq", Path(tmp) / "resp.tsr"
            q.write_bytes(query)
            done = subprocess.run(
                [
                    "openssl",
                    "ts",
                    "-reply",
                    "-config",
                    str(self._dir / "tsa.cnf"),
                    "-queryfile",
                    str(q),
                    "-out",
                    str(r),
                ],
                capture_output=True,
                timeout=30,
                check=False,
            )
            if done.returncode != 0 or not r.exists():
                raise ValueError(done.stderr.decode(errors="replace").strip() or "openssl ts -reply failed")
            self.requests += 1
            return r.read_bytes()

    def start(self) -> LocalTsa:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if tsa.down:
                    return self._answer(503, b"down", "text/plain")
                if self.headers.get("Content-Type", "").split(";")[0].strip() != QUERY_TYPE:
                    return self._answer(415, b"expected application/timestamp-query", "text/plain")
                try:
                    resp = tsa.reply(body)
                except ValueError as exc:
                    return self._answer(400, str(exc).encode(), "text/plain")
                return self._answer(200, resp, REPLY_TYPE)

            def _answer(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-tsa", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> LocalTsa:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
