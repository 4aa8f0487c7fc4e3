"""ACM: certificates are renewed before they expire."""

from __future__ import annotations

from agent.models import Resource
from checks.aws._util import attr_or_detail, parse_time
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    not_applicable,
    passed,
)


@check(
    id="aws.acm.certificate_not_expiring",
    title="ACM certificates are not expired or close to expiry",
    severity=Severity.HIGH,
    resource_type="aws.acm.certificate",
    rationale=(
        "An expired certificate breaks TLS for customers, and teams under pressure then turn off "
        "verification. ACM renews its own certificates 60 days early, so one still near expiry "
        "means renewal is failing or the certificate was imported."
    ),
    remediation=Remediation(
        console=(
            "1. Open the ACM console and choose the certificate.\n"
            "2. For an Amazon-issued certificate, fix the DNS or email validation that renewal waits on.\n"
            "3. For an imported certificate, obtain a new one and choose Reimport certificate."
        ),
        cli="aws acm import-certificate --certificate-arn <certificate-arn> --certificate fileb://<cert.pem> "
        "--private-key fileb://<key.pem> --certificate-chain fileb://<chain.pem>",
        docs="https://docs.aws.amazon.com/acm/latest/userguide/managed-renewal.html",
    ),
    params={"days": 30},
    reads=(
        "acm:ListCertificates (all key types): CertificateArn",
        "acm:DescribeCertificate: Certificate.DomainName, Status, NotAfter",
    ),
    needs="acm:ListCertificates, acm:DescribeCertificate",
)
def certificate_not_expiring(cert: Resource, ctx: Context) -> Verdict:
    body = attr_or_detail(cert, "Certificate")
    name = body.get("DomainName") or cert.id.rsplit("/", 1)[-1]
    status = body.get("Status")
    if status is None:
        raise MissingInput("certificate status was not collected")
    if status == "EXPIRED":
        # ACM marks an expired certificate EXPIRED instead of ISSUED: the worst case, not a skip.
        when = f" (NotAfter {body['NotAfter']})" if body.get("NotAfter") else ""
        return failed(f"certificate {name} has expired{when}")
    if status != "ISSUED":
        return not_applicable(f"certificate {name} is {status}")
    if "NotAfter" not in body:
        raise MissingInput(f"certificate {name} has no NotAfter date")
    try:
        not_after = parse_time(body["NotAfter"])
    except ValueError as exc:
        raise MissingInput(f"certificate {name} NotAfter is not a date: {body['NotAfter']!r}") from exc
    if not_after is None:
        raise MissingInput(f"certificate {name} has no NotAfter date")
    left = (not_after - ctx.now).total_seconds() / 86400
    days = int(ctx.params.get("days", 30))
    if left < 0:
        return failed(f"certificate {name} expired on {not_after.date().isoformat()}")
    if left < days:
        return failed(f"certificate {name} expires in {int(left)} days ({not_after.date().isoformat()})")
    return passed(f"certificate {name} is valid until {not_after.date().isoformat()}")
