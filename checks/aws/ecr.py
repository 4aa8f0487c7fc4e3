"""ECR: images are scanned for vulnerabilities when pushed."""

from __future__ import annotations

from agent.models import Resource
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed


@check(
    id="aws.ecr.scan_on_push",
    title="ECR repositories scan images on push",
    severity=Severity.MEDIUM,
    resource_type="aws.ecr.repository",
    rationale=(
        "Scanning each image when it is pushed reports known vulnerabilities in its packages "
        "before it is deployed, which is part of a vulnerability management process."
    ),
    remediation=Remediation(
        console=(
            "1. Open the ECR console and choose Private registry > Scanning (or the repository's Edit "
            "page).\n"
            "2. Enable Scan on push for the repository, or a registry rule covering it.\n"
            "3. Save; consider enhanced scanning with Amazon Inspector."
        ),
        cli="aws ecr put-image-scanning-configuration --repository-name <repository-name> "
        "--image-scanning-configuration scanOnPush=true",
        docs="https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html",
    ),
    reads=("ecr:DescribeRepositories: imageScanningConfiguration.scanOnPush",),
    needs="ecr:DescribeRepositories",
)
def scan_on_push(repo: Resource, ctx: Context) -> Verdict:
    name = repo.attributes.get("repositoryName") or repo.id.rsplit("/", 1)[-1]
    config = need(repo, "imageScanningConfiguration") or {}
    if config.get("scanOnPush") is True:
        return passed(f"repository {name} scans images on push")
    return failed(f"repository {name} does not scan images on push")
