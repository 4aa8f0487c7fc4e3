"""Lambda: function URL authentication and supported runtimes."""

from __future__ import annotations

from datetime import date

from agent.models import Resource
from checks.base import (
    Context,
    Remediation,
    Severity,
    Verdict,
    check,
    failed,
    need,
    not_applicable,
    passed,
)

LAMBDA_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/"


def _fn(fn: Resource) -> str:
    return str(fn.attributes.get("FunctionName") or fn.name or fn.id.rsplit(":", 1)[-1])


@check(
    id="aws.lambda.function_url_auth",
    title="Lambda function URLs require IAM authentication",
    severity=Severity.HIGH,
    resource_type="aws.lambda.function",
    rationale=(
        "A function URL with auth type NONE can be invoked by anyone on the internet, so every "
        "caller gets whatever the function's role can reach. IAM auth limits callers to signed requests."
    ),
    remediation=Remediation(
        console=(
            "1. Open the Lambda console and choose the function.\n"
            "2. On Configuration > Function URL choose Edit.\n"
            "3. Set Auth type to AWS_IAM (or delete the URL and put API Gateway with auth in front)."
        ),
        cli="aws lambda update-function-url-config --function-name <function-name> --auth-type AWS_IAM",
        docs=LAMBDA_DOCS + "urls-auth.html",
    ),
    reads=(
        "lambda:ListFunctions: FunctionName",
        "lambda:ListFunctionUrlConfigs: FunctionUrlConfigs[].FunctionUrl, AuthType",
    ),
    needs="lambda:ListFunctions, lambda:ListFunctionUrlConfigs",
)
def function_url_auth(fn: Resource, ctx: Context) -> Verdict:
    urls = need(fn, "UrlConfigs") or []
    if not urls:
        return not_applicable(f"function {_fn(fn)} has no function URL")
    open_urls = [u.get("FunctionUrl", "?") for u in urls if u.get("AuthType") == "NONE"]
    if open_urls:
        return failed(f"function {_fn(fn)} has a URL anyone can invoke: {', '.join(open_urls)}")
    return passed(f"function {_fn(fn)} URL requires IAM authentication")


DEPRECATED_RUNTIMES = [
    "python2.7",
    "python3.6",
    "python3.7",
    "python3.8",
    # the first Node.js runtimes were retired in 2016-2020, yet their functions still run
    "nodejs",
    "nodejs4.3",
    "nodejs4.3-edge",
    "nodejs6.10",
    "nodejs8.10",
    "nodejs10.x",
    "nodejs12.x",
    "nodejs14.x",
    "nodejs16.x",
    "java8",
    "dotnetcore1.0",
    "dotnetcore2.0",
    "dotnetcore2.1",
    "dotnetcore3.1",
    "dotnet5.0",
    "dotnet6",
    "ruby2.5",
    "ruby2.7",
    "go1.x",
    "provided",
]
# Runtimes that reach deprecation on a date: judged against the snapshot's time.
DEPRECATED_ON = {"nodejs18.x": "2025-09-01", "python3.9": "2025-12-15"}


@check(
    id="aws.lambda.runtime_supported",
    title="Lambda functions use a runtime that still receives security updates",
    severity=Severity.MEDIUM,
    resource_type="aws.lambda.function",
    rationale=(
        "Once a runtime is deprecated AWS stops patching it, so known vulnerabilities in the "
        "language runtime stay in production. Functions should move to a supported version."
    ),
    remediation=Remediation(
        console=(
            "1. Open the Lambda console and choose the function.\n"
            "2. Test the code against a supported runtime version.\n"
            "3. In Runtime settings choose Edit, pick the supported runtime and save."
        ),
        cli="aws lambda update-function-configuration --function-name <function-name> --runtime <runtime>",
        docs=LAMBDA_DOCS + "lambda-runtimes.html",
    ),
    params={"deprecated": DEPRECATED_RUNTIMES, "deprecated_on": DEPRECATED_ON},
    reads=("lambda:ListFunctions: Runtime, PackageType",),
    needs="lambda:ListFunctions",
)
def runtime_supported(fn: Resource, ctx: Context) -> Verdict:
    if fn.attributes.get("PackageType") == "Image":
        return not_applicable(f"function {_fn(fn)} is a container image; its runtime is in the image")
    runtime = need(fn, "Runtime")
    if runtime in set(ctx.params.get("deprecated", DEPRECATED_RUNTIMES)):
        return failed(f"function {_fn(fn)} uses deprecated runtime {runtime}")
    since = dict(ctx.params.get("deprecated_on", DEPRECATED_ON)).get(runtime)
    if since and ctx.now.date() >= date.fromisoformat(str(since)):
        return failed(f"function {_fn(fn)} uses deprecated runtime {runtime} (since {since})")
    return passed(f"function {_fn(fn)} uses runtime {runtime}")
