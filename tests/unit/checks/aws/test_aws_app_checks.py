"""Application edge and compute: ELBv2, Lambda, ACM, EKS, ECR."""
# ruff: noqa: E501 -- case tables read best with one case per line

from __future__ import annotations

from typing import Any

import pytest
from aws_check_fixtures import (
    ACCT,
    ERROR,
    FAIL,
    NA,
    PASS,
    REGION,
    Case,
    ago,
    assert_covered,
    case,
    check_case,
    listing_error,
    res,
)

import checks.aws.acm as acm
import checks.aws.ecr as ecr
import checks.aws.eks as eks
import checks.aws.elb as elb
import checks.aws.lambda_ as lambda_

HTTPS = {
    "Protocol": "HTTPS",
    "Port": 443,
    "SslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "DefaultActions": [{"Type": "forward"}],
}
REDIRECT = {
    "Protocol": "HTTP",
    "Port": 80,
    "DefaultActions": [
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}
    ],
}
PLAIN = {"Protocol": "HTTP", "Port": 80, "DefaultActions": [{"Type": "forward"}]}


def lb(
    listeners: list[dict[str, Any]] | None,
    lb_type: str = "application",
    scheme: str = "internet-facing",
    errors: dict[str, str] | None = None,
):
    attrs: dict[str, Any] = {"LoadBalancerName": "web", "Type": lb_type, "Scheme": scheme}
    if listeners is not None:
        attrs["Listeners"] = listeners
    return res(
        "aws.elbv2.load_balancer",
        f"arn:aws:elasticloadbalancing:{REGION}:{ACCT}:loadbalancer/app/web/abc",
        errors=errors,
        **attrs,
    )


def fn(errors: dict[str, str] | None = None, **attrs: Any):
    return res(
        "aws.lambda.function",
        f"arn:aws:lambda:{REGION}:{ACCT}:function:api",
        errors=errors,
        FunctionName="api",
        **attrs,
    )


def cert(errors: dict[str, str] | None = None, nested: bool = True, **body: Any):
    base = {"DomainName": "example.com", "Status": "ISSUED", "Type": "AMAZON_ISSUED"} | body
    attrs = {"Certificate": base} if nested and not errors else ({} if errors else base)
    return res("aws.acm.certificate", f"arn:aws:acm:{REGION}:{ACCT}:certificate/c1", errors=errors, **attrs)


def cluster(vpc_config: dict[str, Any] | None):
    attrs: dict[str, Any] = {"name": "prod"}
    if vpc_config is not None:
        attrs["resourcesVpcConfig"] = vpc_config
    return res("aws.eks.cluster", f"arn:aws:eks:{REGION}:{ACCT}:cluster/prod", **attrs)


def repo(config: dict[str, Any] | None):
    attrs: dict[str, Any] = {"repositoryName": "app"}
    if config is not None:
        attrs["imageScanningConfiguration"] = config
    return res("aws.ecr.repository", f"arn:aws:ecr:{REGION}:{ACCT}:repository/app", **attrs)


CASES = [
    # listener TLS
    case(elb.listener_tls, lb([HTTPS, REDIRECT]), PASS, "encrypted or redirects", id="pass"),
    case(elb.listener_tls, lb([HTTPS, PLAIN]), FAIL, "unencrypted listeners: HTTP:80", id="plain-http"),
    case(elb.listener_tls, lb([{"Protocol": "TLS", "Port": 443}], lb_type="network"), PASS, id="nlb-tls"),
    case(elb.listener_tls, lb([{"Protocol": "TCP", "Port": 22}], lb_type="network"), FAIL, "TCP:22", id="nlb-tcp"),
    case(elb.listener_tls, lb([PLAIN], scheme="internal"), NA, "internal", id="internal"),
    case(elb.listener_tls, lb([], lb_type="gateway"), NA, "gateway", id="gateway"),
    case(elb.listener_tls, lb(None, errors={"Listeners": "AccessDenied"}), ERROR, "Listeners", id="error"),
    # TLS policy
    case(elb.tls_policy_current, lb([HTTPS, REDIRECT]), PASS, "ELBSecurityPolicy-TLS13-1-2-2021-06", id="pass"),
    case(
        elb.tls_policy_current,
        lb([HTTPS | {"SslPolicy": "ELBSecurityPolicy-2016-08"}]),
        FAIL,
        "uses ELBSecurityPolicy-2016-08",
        id="fail",
    ),
    case(elb.tls_policy_current, lb([HTTPS]), FAIL, params={"old_policies": [HTTPS["SslPolicy"]]}, id="param"),
    case(elb.tls_policy_current, lb([PLAIN]), NA, "no HTTPS or TLS listeners", id="na"),
    case(elb.tls_policy_current, lb(None, errors={"Listeners": "AccessDenied"}), ERROR, id="error"),
    # Lambda URL
    case(
        lambda_.function_url_auth,
        fn(UrlConfigs=[{"FunctionUrl": "https://x.lambda-url", "AuthType": "AWS_IAM"}]),
        PASS,
        "requires IAM",
        id="pass",
    ),
    case(
        lambda_.function_url_auth,
        fn(UrlConfigs=[{"FunctionUrl": "https://x.lambda-url", "AuthType": "NONE"}]),
        FAIL,
        "anyone can invoke",
        id="fail",
    ),
    case(lambda_.function_url_auth, fn(UrlConfigs=[]), NA, "no function URL", id="na"),
    case(lambda_.function_url_auth, fn(errors={"UrlConfigs": "AccessDenied"}), ERROR, id="error"),
    # Lambda runtime
    case(lambda_.runtime_supported, fn(Runtime="python3.12", PackageType="Zip"), PASS, "python3.12", id="pass"),
    case(lambda_.runtime_supported, fn(Runtime="nodejs14.x", PackageType="Zip"), FAIL, "deprecated runtime", id="fail"),
    case(lambda_.runtime_supported, fn(Runtime="provided", PackageType="Zip"), FAIL, id="provided"),
    case(lambda_.runtime_supported, fn(Runtime="provided.al2023", PackageType="Zip"), PASS, id="provided-al2023"),
    case(lambda_.runtime_supported, fn(PackageType="Image"), NA, "container image", id="image"),
    case(lambda_.runtime_supported, fn(PackageType="Zip"), ERROR, "Runtime", id="error"),
    # ACM
    case(acm.certificate_not_expiring, cert(NotAfter=ago(-200)), PASS, "valid until", id="pass"),
    case(acm.certificate_not_expiring, cert(nested=False, NotAfter=ago(-200)), PASS, id="flat-shape"),
    case(acm.certificate_not_expiring, cert(NotAfter=ago(-10)), FAIL, "expires in 10 days", id="soon"),
    case(acm.certificate_not_expiring, cert(NotAfter=ago(3)), FAIL, "expired on", id="expired"),
    case(acm.certificate_not_expiring, cert(NotAfter=ago(-40)), FAIL, params={"days": 60}, id="param"),
    case(acm.certificate_not_expiring, cert(Status="PENDING_VALIDATION"), NA, "PENDING_VALIDATION", id="pending"),
    case(acm.certificate_not_expiring, cert(), ERROR, "NotAfter", id="no-date"),
    case(acm.certificate_not_expiring, cert(errors={"Certificate": "AccessDenied"}), ERROR, "AccessDenied", id="error"),
    # EKS
    case(
        eks.endpoint_not_public,
        cluster({"endpointPublicAccess": False, "endpointPrivateAccess": True}),
        PASS,
        "private",
        id="pass",
    ),
    case(
        eks.endpoint_not_public,
        cluster({"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}),
        PASS,
        "limited to 1",
        id="restricted",
    ),
    case(
        eks.endpoint_not_public,
        cluster({"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}),
        FAIL,
        "public to 0.0.0.0/0",
        id="fail",
    ),
    case(eks.endpoint_not_public, cluster(None), ERROR, "resourcesVpcConfig", id="error"),
    case(
        eks.endpoint_not_public,
        res("aws.eks.cluster", name="prod", errors={"cluster": "AccessDenied"}),
        ERROR,
        "cluster could not be read",
        id="describe-error",
    ),
    # ECR
    case(ecr.scan_on_push, repo({"scanOnPush": True}), PASS, id="pass"),
    case(ecr.scan_on_push, repo({"scanOnPush": False}), FAIL, "does not scan", id="fail"),
    case(ecr.scan_on_push, repo(None), ERROR, id="error"),
    # -- looks fine but is not ----------------------------------------------------------------------
    case(
        elb.listener_tls,
        lb(
            [
                HTTPS,
                {
                    "Protocol": "HTTP",
                    "Port": 80,
                    "DefaultActions": [
                        {
                            "Type": "redirect",
                            "RedirectConfig": {"Protocol": "#{protocol}", "Port": "8080", "StatusCode": "HTTP_302"},
                        }
                    ],
                },
            ]
        ),
        FAIL,
        "unencrypted listeners: HTTP:80",
        id="redirect-keeps-protocol",
        looks_fine="the HTTP listener redirects, but to #{protocol}, the default, which keeps the request on plain "
        "HTTP",
    ),
    case(
        elb.listener_tls,
        lb([{"Protocol": "TCP", "Port": 443}], lb_type="network"),
        FAIL,
        "TCP:443",
        id="nlb-tcp-443",
        looks_fine="the listener is on port 443, the HTTPS port, but the network load balancer passes TCP through "
        "without terminating TLS",
    ),
    case(
        elb.tls_policy_current,
        lb([HTTPS | {"SslPolicy": "ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04"}]),
        FAIL,
        "uses ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04",
        id="defect-fips-tls10",
        looks_fine="the policy name says TLS13 and FIPS, which sounds modern and strict, but it still accepts TLS 1.0",
    ),
    case(
        elb.tls_policy_current,
        lb([{"Protocol": "TLS", "Port": 443, "SslPolicy": "ELBSecurityPolicy-TLS-1-1-2017-01"}], lb_type="network"),
        FAIL,
        "TLS:443",
        id="tls-1-1-by-name",
    ),
    case(
        elb.tls_policy_current,
        lb([{"Protocol": "HTTPS", "Port": 443, "DefaultActions": [{"Type": "forward"}]}]),
        ERROR,
        "has no SslPolicy",
        id="defect-no-ssl-policy",
        looks_fine="the HTTPS listener names no outdated policy, but only because SslPolicy was not collected",
    ),
    case(
        lambda_.function_url_auth,
        fn(
            UrlConfigs=[
                {"FunctionUrl": "https://a.lambda-url", "AuthType": "AWS_IAM"},
                {
                    "FunctionUrl": "https://b.lambda-url",
                    "AuthType": "NONE",
                    "Cors": {"AllowOrigins": ["https://app.example.com"]},
                },
            ]
        ),
        FAIL,
        "https://b.lambda-url",
        id="alias-url-open",
        looks_fine="the function's main URL uses AWS_IAM and the alias URL allows one CORS origin, but CORS binds "
        "only browsers: the alias URL has AuthType NONE",
    ),
    case(
        lambda_.runtime_supported,
        fn(Runtime="nodejs8.10", PackageType="Zip"),
        FAIL,
        "nodejs8.10",
        id="defect-retired-2020",
        looks_fine="nodejs8.10 is missing from a deprecation list that starts at nodejs10.x, but Lambda retired it "
        "in March 2020",
    ),
    case(lambda_.runtime_supported, fn(Runtime="python3.9", PackageType="Zip"), PASS, id="before-deprecation-date"),
    case(
        lambda_.runtime_supported,
        fn(Runtime="python3.9", PackageType="Zip"),
        FAIL,
        "since 2025-05-01",
        params={"deprecated_on": {"python3.9": "2025-05-01"}},
        id="after-deprecation-date",
    ),
    case(
        acm.certificate_not_expiring,
        cert(Status="EXPIRED", NotAfter=ago(3)),
        FAIL,
        "has expired",
        id="defect-expired-status",
        looks_fine="the status is not ISSUED, so a check that skips other states skips it, but EXPIRED is the very "
        "state to report",
    ),
    case(
        acm.certificate_not_expiring,
        cert(NotAfter=ago(-20), RenewalEligibility="ELIGIBLE", RenewalSummary={"RenewalStatus": "PENDING_VALIDATION"}),
        FAIL,
        "expires in 20 days",
        id="renewal-stuck",
        looks_fine="Amazon-issued and eligible for renewal, so ACM should renew it, but renewal waits on validation",
    ),
    case(
        eks.endpoint_not_public,
        cluster({"endpointPublicAccess": True, "endpointPrivateAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}),
        FAIL,
        "public to 0.0.0.0/0",
        id="private-and-public",
        looks_fine="private endpoint access is on, but the public endpoint stays open to 0.0.0.0/0 beside it",
    ),
    case(
        ecr.scan_on_push,
        res(
            "aws.ecr.repository",
            f"arn:aws:ecr:{REGION}:{ACCT}:repository/app",
            repositoryName="app",
            imageTagMutability="IMMUTABLE",
            encryptionConfiguration={"encryptionType": "KMS"},
            imageScanningConfiguration={"scanOnPush": False},
        ),
        FAIL,
        "does not scan",
        id="hardened-but-unscanned",
        looks_fine="immutable tags and KMS encryption make the repository look hardened, but images are not scanned",
    ),
]


@pytest.mark.parametrize("c", CASES)
def test_case(c: Case) -> None:
    check_case(c)


def test_every_check_covered() -> None:
    for module in (elb, lambda_, acm, eks, ecr):
        assert_covered(CASES, module)


def test_listing_error_gives_scope_error() -> None:
    finding = Case(ecr.scan_on_push, [], ERROR, errors=[listing_error("aws.ecr.repository")]).run()
    assert finding.resource_id.startswith("scope:aws/")
