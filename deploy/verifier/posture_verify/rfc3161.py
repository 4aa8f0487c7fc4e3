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
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
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
        # (how a chain was checked, leaf fingerprint) -> the genTimes between which it verified: within
        # them only a token's own signature needs checking (a certificate's validity is one interval)
        self._spans: dict[tuple[str, bytes], tuple[datetime, datetime]] = {}
        self._latest: dict[tuple[str, int], TimeStampResponse] = {}  # signer -> its token with the latest genTime
        self._tried: set[tuple[str, bytes]] = set()
        self._fingerprints: dict[int, bytes] = {}

    def expect(self, responses: Iterable[TimeStampResponse]) -> None:
        """The tokens about to be checked: the first full check of a TSA certificate's chain also checks it
        at the latest of their genTimes, so the tokens in between need their own signature checked only."""
        for resp in responses:
            try:
                (signer,) = list(resp.signed_data.signer_infos)
                key = (signer.issuer.rfc4514_string(), signer.serial_number)
                best = self._latest.get(key)
                if best is None or _gen_time(resp) > _gen_time(best):
                    self._latest[key] = resp
            except (ValueError, TypeError):
                continue  # not one signer: checked, and named, token by token

    def _fingerprint(self, cert: x509.Certificate) -> bytes:
        fp = self._fingerprints.get(id(cert))  # certificates stay referenced by ``_known``
        if fp is None:
            fp = self._fingerprints[id(cert)] = cert.fingerprint(hashes.SHA256())
        return fp

    def covered(self, how: str, leaf: x509.Certificate, when: datetime) -> bool:
        span = self._spans.get((how, self._fingerprint(leaf)))
        return span is not None and span[0] <= when <= span[1]

    def verified(
        self, how: str, leaf: x509.Certificate, when: datetime, check: Callable[[TimeStampResponse], bool]
    ) -> None:
        """The chain of ``leaf`` verified (``how``) at ``when``; ``check`` verifies another token's chain the
        same way, tried once on the latest token of this signer to cover the span up to it."""
        key = (how, self._fingerprint(leaf))
        lo, hi = self._spans.get(key, (when, when))
        lo, hi = min(lo, when), max(hi, when)
        latest = self._latest.get((leaf.issuer.rfc4514_string(), leaf.serial_number))
        if latest is not None and key not in self._tried and _gen_time(latest) > hi:
            self._tried.add(key)
            if check(latest):
                hi = _gen_time(latest)
        self._spans[key] = (lo, hi)

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


def _verify(
    resp: TimeStampResponse,
    digest: bytes,
    roots: list[x509.Certificate],
    intermediates: list[x509.Certificate],
    leaf: x509.Certificate,
) -> str | None:
    """None when the token verifies with ``roots`` as the only trust anchors, else why not."""
    builder = VerifierBuilder(roots=list(roots), intermediates=list(intermediates), tsa_certificate=leaf)
    try:
        builder.build().verify(resp, digest)
    except (VerificationError, ValueError) as exc:
        return str(exc)
    return None


def check_token(
    der: bytes, message: bytes, certs: TsaCerts, nonce: int | None, parsed: TimeStampResponse | None = None
) -> Checked:
    """Check a TimeStampResp over ``message`` (its imprint must be SHA-256(message)); ``parsed``: ``der``
    already parsed."""
    try:
        resp = parsed if parsed is not None else parse_response(der)
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
        return replace(facts, problem=f"its message imprint uses {imprint.hash_algorithm.dotted_string}, not SHA-256")
    if imprint.message != digest:
        return replace(
            facts,
            problem="its message imprint is not the SHA-256 of what it is recorded for (a token "
            "of other data: swapped, or the checkpoint altered)",
        )
    if nonce is not None and tst.nonce != nonce:
        return replace(
            facts,
            problem=f"its nonce {tst.nonce} is not the {nonce} the request carried (not the answer to this request)",
        )
    signers = list(resp.signed_data.signer_infos)
    if len(signers) != 1:
        return replace(facts, problem=f"has {len(signers)} signers, expected 1")
    try:
        certs.add_der(resp.signed_data.certificates)
    except ValueError:
        return replace(facts, problem="carries a certificate that cannot be read (altered)")
    leaf = certs.leaf(signers[0].issuer, signers[0].serial_number)
    if leaf is None:
        return replace(
            facts,
            problem=f"was signed by a certificate (issuer {signers[0].issuer.rfc4514_string()}, "
            f"serial {signers[0].serial_number}) found neither in the token nor in the TSA certificates "
            "recorded with it",
        )
    facts = replace(facts, tsa=leaf.subject.rfc4514_string())
    intermediates = certs.intermediates(leaf)
    if certs.pinned:
        if certs.covered("pinned", leaf, gen) and signature_holds(resp, leaf):
            return replace(facts, trusted=True)
        why = _verify(resp, digest, certs.roots, intermediates, leaf)
        if why is None:
            certs.verified(
                "pinned",
                leaf,
                gen,
                lambda other: (
                    _verify(other, other.tst_info.message_imprint.message, certs.roots, intermediates, leaf) is None
                ),
            )
            return replace(facts, trusted=True)
    own = certs.own_root(leaf)
    if own is None:
        if certs.pinned:
            return replace(
                facts,
                note=f"does not chain to a pinned --tsa-cert certificate ({why}) and its own chain "
                "is incomplete, so its signature was not checked (untrusted TSA)",
            )
        return replace(facts, note="its certificate chain is incomplete, so its signature was not checked")
    how = "own " + own.fingerprint(hashes.SHA256()).hex()
    if certs.covered(how, leaf, gen) and signature_holds(resp, leaf):
        why_own = None
    else:
        why_own = _verify(resp, digest, [own], intermediates, leaf)
        if why_own is None:
            certs.verified(
                how,
                leaf,
                gen,
                lambda other: (
                    _verify(other, other.tst_info.message_imprint.message, [own], intermediates, leaf) is None
                ),
            )
    if why_own is not None:
        return replace(facts, problem=f"its signature does not verify ({why_own}) (token altered)")
    if certs.pinned:
        return replace(
            facts,
            note=f"intact, but its TSA ({own.subject.rfc4514_string()}) is not among the "
            "pinned --tsa-cert certificates (untrusted TSA)",
        )
    return replace(facts, note="intact; the TSA was not pinned (--tsa-cert), so who signed it is not established")


# -- a token's own signature -----------------------------------------------------------------------------
#
# What a full check (rfc3161_client: OpenSSL's PKCS7_verify, then its own checks) establishes for a token
# is (a) its TSA certificate's chain to a trusted root, valid at the token's genTime, and (b) the token's
# signature by that certificate over its TSTInfo. (a) holds between two genTimes at which it was checked,
# since every certificate is valid over one interval; within such a span only (b) is checked here, by
# reading the CMS SignedData (RFC 5652) directly. Anything this reader does not expect returns False, and
# the token gets the full check, whose verdict is the one reported: this path can only say yes.

_OID_SIGNED_DATA = bytes.fromhex("2a864886f70d010702")  # 1.2.840.113549.1.7.2
_OID_TST_INFO = bytes.fromhex("2a864886f70d0109100104")  # 1.2.840.113549.1.9.16.1.4
_OID_CONTENT_TYPE = bytes.fromhex("2a864886f70d010903")  # 1.2.840.113549.1.9.3
_OID_MESSAGE_DIGEST = bytes.fromhex("2a864886f70d010904")  # 1.2.840.113549.1.9.4
_DIGESTS: dict[bytes, type[hashes.HashAlgorithm]] = {
    bytes.fromhex("608648016503040201"): hashes.SHA256,  # 2.16.840.1.101.3.4.2.1
    bytes.fromhex("608648016503040202"): hashes.SHA384,
    bytes.fromhex("608648016503040203"): hashes.SHA512,
}
_ECDSA: dict[bytes, type[hashes.HashAlgorithm]] = {
    bytes.fromhex("2a8648ce3d040302"): hashes.SHA256,  # ecdsa-with-SHA256, 1.2.840.10045.4.3.2
    bytes.fromhex("2a8648ce3d040303"): hashes.SHA384,
    bytes.fromhex("2a8648ce3d040304"): hashes.SHA512,
}
_RSA_PKCS1: dict[bytes, type[hashes.HashAlgorithm] | None] = {
    bytes.fromhex("2a864886f70d010101"): None,  # rsaEncryption: the signer's digest algorithm
    bytes.fromhex("2a864886f70d01010b"): hashes.SHA256,  # sha256WithRSAEncryption
    bytes.fromhex("2a864886f70d01010c"): hashes.SHA384,
    bytes.fromhex("2a864886f70d01010d"): hashes.SHA512,
}
_ED25519 = bytes.fromhex("2b6570")  # 1.3.101.112
_GEN_TIME = re.compile(r"(\d{14})(?:\.(\d{1,6}))?Z")


class _Unexpected(ValueError):
    """The token is not laid out as this reader expects: it gets the full check."""


def _element(data: bytes, at: int, end: int) -> tuple[int, int, int]:
    """(tag, start, end of the value) of the DER element at ``at``: definite, minimal lengths only."""
    if at + 2 > end:
        raise _Unexpected("truncated")
    tag, first = data[at], data[at + 1]
    if tag & 0x1F == 0x1F:
        raise _Unexpected("multi-byte tag")
    if first < 0x80:
        start, length = at + 2, first
    else:
        n = first & 0x7F
        if not 1 <= n <= 4 or at + 2 + n > end or data[at + 2] == 0:
            raise _Unexpected("length")
        start, length = at + 2 + n, int.from_bytes(data[at + 2 : at + 2 + n], "big")
        if length < 0x80:
            raise _Unexpected("length not minimal")
    if start + length > end:
        raise _Unexpected("truncated")
    return tag, start, start + length


def _items(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements inside [start, end): (tag, element start, value start, value end)."""
    out = []
    at = start
    while at < end:
        tag, s, e = _element(data, at, end)
        out.append((tag, at, s, e))
        at = e
    return out


def _shape(items: list[tuple[int, int, int, int]], *tags: int) -> None:
    if [x[0] for x in items] != list(tags):
        raise _Unexpected("layout")


def _algorithm(data: bytes, item: tuple[int, int, int, int]) -> bytes:
    """The OID of an AlgorithmIdentifier (its parameters absent or NULL)."""
    parts = _items(data, item[2], item[3])
    if (
        not parts
        or parts[0][0] != 0x06
        or len(parts) > 2
        or (len(parts) == 2 and data[parts[1][1] : parts[1][3]] != b"\x05\x00")
    ):
        raise _Unexpected("algorithm")
    return data[parts[0][2] : parts[0][3]]


def _gen_time(resp: TimeStampResponse) -> datetime:
    gen = resp.tst_info.gen_time
    return gen if gen.tzinfo else gen.replace(tzinfo=UTC)


def _tst_facts(tst: bytes) -> tuple[bytes, int, datetime, int | None]:
    """(message imprint, serial number, genTime, nonce) of a DER TSTInfo (RFC 3161 section 2.4.2)."""
    tag, s, e = _element(tst, 0, len(tst))
    if tag != 0x30 or e != len(tst):
        raise _Unexpected("TSTInfo")
    f = _items(tst, s, e)
    _shape(f[:5], 0x02, 0x06, 0x30, 0x02, 0x18)  # version, policy, messageImprint, serialNumber, genTime
    imprint = _items(tst, f[2][2], f[2][3])
    _shape(imprint, 0x30, 0x04)
    m = _GEN_TIME.fullmatch(tst[f[4][2] : f[4][3]].decode("ascii"))
    if m is None:
        raise _Unexpected("genTime")
    d = m[1]
    gen = datetime(
        int(d[:4]),
        int(d[4:6]),
        int(d[6:8]),
        int(d[8:10]),
        int(d[10:12]),
        int(d[12:14]),
        int((m[2] or "0").ljust(6, "0")),
        tzinfo=UTC,
    )
    rest = [x[0] for x in f[5:]]
    nonce = None
    for i, t in enumerate(rest):  # accuracy, ordering, nonce, tsa [0], extensions [1], in this order
        if t == 0x02:
            if any(x in (0x02, 0x30, 0x01) for x in rest[i + 1 :]):
                raise _Unexpected("TSTInfo order")
            item = f[5 + i]
            nonce = int.from_bytes(tst[item[2] : item[3]], "big", signed=True)
        elif t not in (0x30, 0x01, 0xA0, 0xA1):
            raise _Unexpected("TSTInfo field")
    return (tst[imprint[1][2] : imprint[1][3]], int.from_bytes(tst[f[3][2] : f[3][3]], "big", signed=True), gen, nonce)


def signature_holds(resp: TimeStampResponse, leaf: x509.Certificate) -> bool:
    """Whether ``resp`` is granted and its SignedData is signed by ``leaf`` over the TSTInfo that
    rfc3161_client read from it. False for anything else (the token then gets the full check)."""
    try:
        if resp.status != PKIStatus.GRANTED:
            return False
        token = resp.time_stamp_token()
        tag, s, e = _element(token, 0, len(token))
        if tag != 0x30 or e != len(token):
            return False
        info = _items(token, s, e)
        _shape(info, 0x06, 0xA0)
        if token[info[0][2] : info[0][3]] != _OID_SIGNED_DATA:
            return False
        tag, s, e = _element(token, info[1][2], info[1][3])
        if tag != 0x30 or e != info[1][3]:
            return False
        sd = _items(token, s, e)  # version, digestAlgorithms, encapContentInfo, [certificates], [crls], signerInfos
        if (
            len(sd) < 4
            or [x[0] for x in sd[:3]] != [0x02, 0x31, 0x30]
            or sd[-1][0] != 0x31
            or [x[0] for x in sd[3:-1]] not in ([], [0xA0], [0xA1], [0xA0, 0xA1])
        ):
            return False
        content = _items(token, sd[2][2], sd[2][3])
        _shape(content, 0x06, 0xA0)
        if token[content[0][2] : content[0][3]] != _OID_TST_INFO:
            return False
        tag, s, e = _element(token, content[1][2], content[1][3])
        if tag != 0x04 or e != content[1][3]:
            return False
        tst = token[s:e]
        signers = _items(token, sd[-1][2], sd[-1][3])
        _shape(signers, 0x30)
        si = _items(token, signers[0][2], signers[0][3])
        # version, sid (issuerAndSerialNumber), digestAlgorithm, signedAttrs [0], signatureAlgorithm, signature[, [1]]
        if [x[0] for x in si[:6]] != [0x02, 0x30, 0x30, 0xA0, 0x30, 0x04] or [x[0] for x in si[6:]] not in ([], [0xA1]):
            return False
        sid = _items(token, si[1][2], si[1][3])
        _shape(sid, 0x30, 0x02)
        if (
            token[sid[0][1] : sid[0][3]] != leaf.issuer.public_bytes()
            or int.from_bytes(token[sid[1][2] : sid[1][3]], "big", signed=True) != leaf.serial_number
        ):
            return False
        digest = _DIGESTS.get(_algorithm(token, si[2]))
        if digest is None:
            return False
        attrs: dict[bytes, list[tuple[int, int, int, int]]] = {}
        for tag, _, s, e in _items(token, si[3][2], si[3][3]):
            parts = _items(token, s, e)
            if tag != 0x30:
                return False
            _shape(parts, 0x06, 0x31)
            oid = token[parts[0][2] : parts[0][3]]
            if oid in attrs:
                return False
            attrs[oid] = _items(token, parts[1][2], parts[1][3])
        content_type, message_digest = attrs.get(_OID_CONTENT_TYPE), attrs.get(_OID_MESSAGE_DIGEST)
        if content_type is None or message_digest is None:
            return False
        _shape(content_type, 0x06)
        _shape(message_digest, 0x04)
        if token[content_type[0][2] : content_type[0][3]] != _OID_TST_INFO:
            return False
        h = hashes.Hash(digest())
        h.update(tst)
        if token[message_digest[0][2] : message_digest[0][3]] != h.finalize():
            return False
        # the TSTInfo signed is the one rfc3161_client read (imprint, serial, genTime and nonce were checked on it)
        tst_info = resp.tst_info
        imprint, serial, gen, nonce = _tst_facts(tst)
        if (imprint, serial, gen, nonce) != (
            tst_info.message_imprint.message,
            tst_info.serial_number,
            _gen_time(resp),
            tst_info.nonce,
        ):
            return False
        signed = b"\x31" + token[si[3][1] + 1 : si[3][3]]  # the attributes as signed: a SET, not [0]
        signature = token[si[5][2] : si[5][3]]
        algorithm = _algorithm(token, si[4])
        key = leaf.public_key()
        if algorithm in _ECDSA and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, signed, ec.ECDSA(_ECDSA[algorithm]()))
        elif algorithm in _RSA_PKCS1 and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), (_RSA_PKCS1[algorithm] or digest)())
        elif algorithm == _ED25519 and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, signed)
        else:
            return False
        return True
    except (_Unexpected, InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError, IndexError):
        return False
