"""The standalone verifier reads the anchor bucket with its own SigV4 (standard library only): it must
sign exactly as AWS documents (the examples of "Signature Version 4: header-based authentication",
Amazon S3 API reference), and lay objects out as the agent writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from posture_verify.s3 import (
    Credentials,
    S3Reader,
    bundle_key,
    checkpoint_key,
    checkpoint_object,
    lock_of,
    parse_bucket_url,
)

EXAMPLE = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


@pytest.mark.parametrize(
    ("query", "signature"),
    [
        ("lifecycle=", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"),  # GET Bucket Lifecycle
        ("max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),  # List Objects
    ],
)
def test_sigv4_matches_the_aws_examples(query: str, signature: str) -> None:
    reader = S3Reader("examplebucket", credentials=EXAMPLE)
    reader.base, reader.path_prefix = "https://examplebucket.s3.amazonaws.com", ""  # the examples' global host
    headers = reader.signed_headers("GET", "/", query, now=datetime(2013, 5, 24, tzinfo=UTC))
    assert headers["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}"
    )


def test_session_token_is_signed_and_hosts_follow_the_bucket() -> None:
    reader = S3Reader("acme-anchors", region="eu-west-1", credentials=Credentials("AK", "SK", "TOKEN"))
    headers = reader.signed_headers("GET", "/k", "")
    assert headers["x-amz-security-token"] == "TOKEN"
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token," in headers["authorization"]
    assert reader.base == "https://acme-anchors.s3.eu-west-1.amazonaws.com" and reader.path_prefix == ""
    dotted = S3Reader("acme.anchors", region="eu-west-1")
    assert (dotted.base, dotted.path_prefix) == ("https://s3.eu-west-1.amazonaws.com", "/acme.anchors")
    moto = S3Reader("b", endpoint="http://127.0.0.1:5000/")
    assert (moto.base, moto.path_prefix) == ("http://127.0.0.1:5000", "/b")
    assert "authorization" not in S3Reader("b").signed_headers("GET", "/", "")  # no credentials: unsigned


def test_layout_and_lock_headers() -> None:
    assert parse_bucket_url("s3://acme-anchors/posture-agent/") == ("acme-anchors", "posture-agent")
    assert parse_bucket_url("s3://acme-anchors") == ("acme-anchors", "")
    with pytest.raises(ValueError):
        parse_bucket_url("https://acme-anchors")
    assert checkpoint_key("p", "ab12", 7) == "p/ab12/checkpoints/000000000007.json"
    assert checkpoint_key("", "ab12", 7) == "ab12/checkpoints/000000000007.json"
    assert bundle_key("p", "ab12", "f" * 64) == f"p/ab12/bundles/{'f' * 64}.json"
    assert checkpoint_object(b'{"seq":1}', None) == b'{"body":"{\\"seq\\":1}","signature":null}'
    assert lock_of(
        {"x-amz-object-lock-mode": "COMPLIANCE", "x-amz-object-lock-retain-until-date": "2027-01-01T00:00:00.000Z"}
    ) == ("COMPLIANCE", datetime(2027, 1, 1, tzinfo=UTC))
    assert lock_of({}) == (None, None)
