"""RFC 3161 timestamp tokens: a timestamping authority's signed statement that a SHA-256 existed at
its clock's time (docs/evidence-format.md, "Witnesses").

A token is checked with ``rfc3161_client`` (OpenSSL's PKCS7_verify underneath): the response was
granted, its message imprint is the SHA-256 of the witnessed bytes, its nonce is the one the agent
sent, its CMS signature verifies with the TSA certificate its SignerInfo names, that certificate
carries the critical id-kp-timeStamping extended key usage, and its chain (valid at genTime) ends at
a self-signed certificate the auditor pinned. Without a pinned certificate a token is checked against
its own chain: that proves it is intact, not who signed it.

Tokens are requested without certificates (certReq false, to keep the store small); the TSA's chain
travels once per TSA as an ``rfc3161-certs`` witness record. Certificates from a bundle only ever
complete a chain: a self-signed one is never trusted unless the auditor pinned it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from rfc3161_client import PKIStatus, TimeStampResponse, VerificationError, VerifierBuilder, decode_timestamp_response

__all__ = ["SHA256_OID", "Checked", "TsaCerts", "check_token", "parse_response"]

SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


def parse_response(der: bytes) -> TimeStampResponse:
    """A DER TimeStampResp; ValueError when it is not one."""
    try:
        return decode_timestamp_response(der)
    except Exception as exc:  # the Rust parser raises ValueError, and others on odd input
        raise ValueError(f"not a DER TimeStampResp: {exc}") from None


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


class TsaCerts:
    """The certificates that may complete a token's chain, and the roots the auditor pinned."""

    def __init__(self, pinned_pems: Sequence[bytes] = ()) -> None:
        self.roots: list[x509.Certificate] = []
        for pem in pinned_pems:
            self.roots.extend(x509.load_pem_x509_certificates(pem))
        self._known: dict[bytes, x509.Certificate] = {}
        for cert in self.roots:
            self.add(cert)

    @property
    def pinned(self) -> bool:
        return bool(self.roots)

    def add(self, cert: x509.Certificate) -> None:
        self._known.setdefault(cert.fingerprint(hashes.SHA256()), cert)

    def add_pem(self, pem: str | bytes) -> None:
        for cert in x509.load_pem_x509_certificates(pem.encode() if isinstance(pem, str) else pem):
            self.add(cert)

    def add_der(self, ders: Iterable[bytes]) -> None:
        for der in ders:
            self.add(x509.load_der_x509_certificate(der))

    def leaf(self, issuer: x509.Name, serial: int) -> x509.Certificate | None:
        for cert in self._known.values():
            if cert.issuer == issuer and cert.serial_number == serial:
                return cert
        return None

    def intermediates(self, leaf: x509.Certificate) -> list[x509.Certificate]:
        """Certificates that may link the leaf to a root: never a self-signed one (OpenSSL would
        trust it as an anchor)."""
        return [c for c in self._known.values() if not _self_signed(c) and c != leaf]

    def own_root(self, leaf: x509.Certificate) -> x509.Certificate | None:
        """The self-signed certificate at the top of the leaf's chain among the known ones."""
        cert, seen = leaf, 0
        while seen < 8:
            if _self_signed(cert):
                return cert
            issuer = next((c for c in self._known.values() if c.subject == cert.issuer and c != cert), None)
            if issuer is None:
                return None
            cert, seen = issuer, seen + 1
        return None


@dataclass(frozen=True)
class Checked:
    """The outcome of one token: its facts when readable, a problem when it does not hold, and
    whether its chain ends at a pinned certificate."""

    gen_time: datetime | None = None
    tsa: str = ""  # subject of the signing certificate
    policy: str = ""
    serial: int | None = None
    problem: str | None = None  # the token is unreadable, altered, of other data, or its signature fails
    trusted: bool = False  # chains to a pinned certificate
    note: str | None = None  # why it is not trusted although intact


def _verify(resp: TimeStampResponse, digest: bytes, roots: list[x509.Certificate],
            intermediates: list[x509.Certificate], leaf: x509.Certificate) -> str | None:
    """None when the token verifies with ``roots`` as the only trust anchors, else why not."""
    builder = VerifierBuilder(roots=list(roots), intermediates=list(intermediates), tsa_certificate=leaf)
    try:
        builder.build().verify(resp, digest)
    except (VerificationError, ValueError) as exc:
        return str(exc)
    return None


def check_token(der: bytes, message: bytes, certs: TsaCerts, nonce: int | None) -> Checked:
    """Check a TimeStampResp over ``message`` (its imprint must be SHA-256(message))."""
    try:
        resp = parse_response(der)
    except ValueError as exc:
        return Checked(problem=f"is not a readable RFC 3161 timestamp response ({exc}) (altered)")
    if resp.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        return Checked(problem=f"the TSA did not grant it (PKIStatus {resp.status})")
    tst = resp.tst_info
    gen = tst.gen_time if tst.gen_time.tzinfo else tst.gen_time.replace(tzinfo=UTC)
    facts = Checked(gen_time=gen, policy=tst.policy.dotted_string, serial=tst.serial_number)
    imprint = tst.message_imprint
    digest = hashlib.sha256(message).digest()
    if imprint.hash_algorithm != SHA256_OID:
        return replace(facts, problem=f"its message imprint uses {imprint.hash_algorithm.dotted_string}, not "
                       "SHA-256")
    if imprint.message != digest:
        return replace(facts, problem="its message imprint is not the SHA-256 of what it is recorded for (a token "
                       "of other data: swapped, or the checkpoint altered)")
    if nonce is not None and tst.nonce != nonce:
        return replace(facts, problem=f"its nonce {tst.nonce} is not the {nonce} the request carried (not the "
                       "answer to this request)")
    signers = list(resp.signed_data.signer_infos)
    if len(signers) != 1:
        return replace(facts, problem=f"has {len(signers)} signers, expected 1")
    try:
        certs.add_der(resp.signed_data.certificates)
    except ValueError:
        return replace(facts, problem="carries a certificate that cannot be read (altered)")
    leaf = certs.leaf(signers[0].issuer, signers[0].serial_number)
    if leaf is None:
        return replace(facts, problem=f"was signed by a certificate (issuer {signers[0].issuer.rfc4514_string()}, "
                       f"serial {signers[0].serial_number}) found neither in the token nor in the TSA certificates "
                       "recorded with it")
    facts = replace(facts, tsa=leaf.subject.rfc4514_string())
    intermediates = certs.intermediates(leaf)
    if certs.pinned:
        why = _verify(resp, digest, certs.roots, intermediates, leaf)
        if why is None:
            return replace(facts, trusted=True)
    own = certs.own_root(leaf)
    if own is None:
        if certs.pinned:
            return replace(facts, note=f"does not chain to a pinned --tsa-cert certificate ({why}) and its own chain "
                           "is incomplete, so its signature was not checked (untrusted TSA)")
        return replace(facts, note="its certificate chain is incomplete, so its signature was not checked")
    why_own = _verify(resp, digest, [own], intermediates, leaf)
    if why_own is not None:
        return replace(facts, problem=f"its signature does not verify ({why_own}) (token altered)")
    if certs.pinned:
        return replace(facts, note=f"intact, but its TSA ({own.subject.rfc4514_string()}) is not among the "
                       "pinned --tsa-cert certificates (untrusted TSA)")
    return replace(facts, note="intact; the TSA was not pinned (--tsa-cert), so who signed it is not established")
