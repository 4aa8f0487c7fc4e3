"""Elastic Load Balancing v2: encrypted listeners with current TLS policies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.models import Resource
from checks.base import (
    Context,
    MissingInput,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)

ALB_DOCS = "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/"


def _lb(lb: Resource) -> str:
    return str(lb.attributes.get("LoadBalancerName") or lb.name or lb.id.rsplit("/", 2)[-2])


def _redirects_to_https(listener: Mapping[str, Any]) -> bool:
    actions = listener.get("DefaultActions") or []
    return bool(actions) and all(
        a.get("Type") == "redirect" and (a.get("RedirectConfig") or {}).get("Protocol") == "HTTPS" for a in actions
    )


def _plain_listeners(lb_type: str, listeners: list[Mapping[str, Any]]) -> list[str]:
    bad = []
    for lst in listeners:
        proto, port = lst.get("Protocol"), lst.get("Port")
        if lb_type == "application":
            if proto == "HTTPS" or (proto == "HTTP" and _redirects_to_https(lst)):
                continue
        elif proto == "TLS":
            continue
        bad.append(f"{proto}:{port}")
    return bad


@check(
    id="aws.elbv2.listener_tls",
    title="Internet-facing load balancers only accept encrypted connections",
    severity=Severity.HIGH,
    resource_type="aws.elbv2.load_balancer",
    rationale=(
        "Plain HTTP or TCP listeners on the internet expose sessions, credentials and data to "
        "anyone on the path. Application load balancers should serve HTTPS and only redirect "
        "HTTP; network load balancers should terminate TLS."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console and choose Load Balancers, then the load balancer.\n"
            "2. On Listeners add an HTTPS (or TLS) listener with an ACM certificate.\n"
            "3. Change the HTTP listener's default action to Redirect to HTTPS 443 (or remove it)."
        ),
        cli=(
            "aws elbv2 modify-listener --listener-arn <http-listener-arn> --default-actions "
            "'Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}'"
        ),
        docs=ALB_DOCS + "create-https-listener.html",
    ),
    reads=(
        "elbv2:DescribeLoadBalancers: Type, Scheme",
        (
            "elbv2:DescribeListeners: Listeners[].Protocol, Port, DefaultActions[].Type, "
            "DefaultActions[].RedirectConfig.Protocol"
        ),
    ),
    needs="elasticloadbalancing:DescribeLoadBalancers, elasticloadbalancing:DescribeListeners",
)
def listener_tls(lb: Resource, ctx: Context) -> Verdict:
    lb_type = str(need(lb, "Type"))
    if need(lb, "Scheme") != "internet-facing":
        return not_applicable(f"load balancer {_lb(lb)} is internal")
    if lb_type not in ("application", "network"):
        return not_applicable(f"load balancer {_lb(lb)} is a {lb_type} load balancer")
    listeners = need(lb, "Listeners") or []
    if not listeners:
        return not_applicable(f"load balancer {_lb(lb)} has no listeners")
    bad = _plain_listeners(lb_type, listeners)
    if bad:
        return failed(f"internet-facing {lb_type} load balancer {_lb(lb)} has unencrypted listeners: " + ", ".join(bad))
    return passed(f"every listener of {lb_type} load balancer {_lb(lb)} is encrypted or redirects to HTTPS")


# Policies whose names do not say their lowest TLS version; the others are recognised by name.
OLD_TLS_POLICIES = [
    "ELBSecurityPolicy-2016-08",
    "ELBSecurityPolicy-2015-05",
    "ELBSecurityPolicy-TLS-1-0-2015-04",
    "ELBSecurityPolicy-TLS-1-1-2017-01",
    "ELBSecurityPolicy-FS-2018-06",
    "ELBSecurityPolicy-FS-1-1-2019-08",
    "ELBSecurityPolicy-TLS13-1-0-2021-06",
    "ELBSecurityPolicy-TLS13-1-1-2021-06",
]
# Names that state a lowest version of TLS 1.0 or 1.1, in every family (FIPS, post-quantum...):
# ELBSecurityPolicy-TLS13-1-0-FIPS-2023-04, ELBSecurityPolicy-TLS-1-1-2017-01, ...-FS-1-1-2019-08.
_OLD_TLS_NAME = re.compile(r"-(?:TLS13|TLS|FS)-1-[01]-")


@check(
    id="aws.elbv2.tls_policy_current",
    title="Load balancer TLS listeners use a security policy without TLS 1.0 and 1.1",
    severity=Severity.MEDIUM,
    resource_type="aws.elbv2.load_balancer",
    rationale=(
        "TLS 1.0 and 1.1 have known weaknesses and are no longer accepted by PCI DSS or most "
        "browsers. Listener security policies should allow TLS 1.2 or newer only."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EC2 console and choose Load Balancers, then the load balancer.\n"
            "2. On Listeners select the HTTPS/TLS listener and choose Edit.\n"
            "3. Under Security policy pick a TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-2021-06."
        ),
        cli="aws elbv2 modify-listener --listener-arn <listener-arn> --ssl-policy ELBSecurityPolicy-TLS13-1-2-2021-06",
        docs=ALB_DOCS + "describe-ssl-policies.html",
    ),
    params={"old_policies": OLD_TLS_POLICIES},
    reads=(
        "elbv2:DescribeLoadBalancers: LoadBalancerName",
        "elbv2:DescribeListeners: Listeners[].Protocol, Port, SslPolicy",
    ),
    needs="elasticloadbalancing:DescribeLoadBalancers, elasticloadbalancing:DescribeListeners",
)
def tls_policy_current(lb: Resource, ctx: Context) -> Verdict:
    old = set(ctx.params.get("old_policies", OLD_TLS_POLICIES))
    tls = [lst for lst in need(lb, "Listeners") or [] if lst.get("Protocol") in ("HTTPS", "TLS")]
    if not tls:
        return not_applicable(f"load balancer {_lb(lb)} has no HTTPS or TLS listeners")
    unnamed = [f"{lst.get('Protocol')}:{lst.get('Port')}" for lst in tls if not lst.get("SslPolicy")]
    if unnamed:
        raise MissingInput(f"load balancer {_lb(lb)} listener {', '.join(unnamed)} has no SslPolicy")
    outdated = [
        f"{lst.get('Protocol')}:{lst.get('Port')} uses {lst.get('SslPolicy')}"
        for lst in tls
        if lst["SslPolicy"] in old or _OLD_TLS_NAME.search(str(lst["SslPolicy"]))
    ]
    if outdated:
        return failed(f"load balancer {_lb(lb)} allows TLS < 1.2: " + "; ".join(outdated))
    policies = sorted({str(lst.get("SslPolicy")) for lst in tls})
    return passed(f"load balancer {_lb(lb)} TLS listeners use {', '.join(policies)}")
