"""EKS: the Kubernetes API endpoint is not open to the whole internet."""

from __future__ import annotations

from agent.models import Resource
from checks.aws._util import described
from checks.base import Context, Remediation, Severity, Verdict, check, failed, need, passed

_ANYWHERE = {"0.0.0.0/0", "::/0"}


@check(
    id="aws.eks.endpoint_not_public",
    title="EKS cluster API endpoints are not reachable from the whole internet",
    severity=Severity.HIGH,
    resource_type="aws.eks.cluster",
    rationale=(
        "A public Kubernetes API endpoint open to every address is exposed to credential attacks "
        "and any API server vulnerability. Make it private or limit it to known address ranges."
    ),
    remediation=Remediation(
        console=(
            "1. Open the EKS console and choose the cluster, then Networking > Manage endpoint access.\n"
            "2. Choose Private, or Public and private with specific CIDR blocks.\n"
            "3. Save and confirm that kubectl still reaches the cluster from your networks."
        ),
        cli="aws eks update-cluster-config --name <cluster-name> --resources-vpc-config "
        "endpointPublicAccess=true,publicAccessCidrs=<cidr>,endpointPrivateAccess=true",
        docs="https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html",
    ),
    reads=("eks:ListClusters/DescribeCluster: cluster.resourcesVpcConfig.endpointPublicAccess, publicAccessCidrs",),
    needs="eks:ListClusters, eks:DescribeCluster",
)
def endpoint_not_public(cluster: Resource, ctx: Context) -> Verdict:
    described(cluster, "cluster")
    name = cluster.attributes.get("name") or cluster.id.rsplit("/", 1)[-1]
    vpc = need(cluster, "resourcesVpcConfig") or {}
    if vpc.get("endpointPublicAccess") is not True:
        return passed(f"cluster {name} API endpoint is private")
    # EKS reports 0.0.0.0/0 when no CIDRs were given; treat absence the same way.
    cidrs = set(vpc.get("publicAccessCidrs") or ["0.0.0.0/0"])
    if cidrs & _ANYWHERE:
        return failed(f"cluster {name} API endpoint is public to 0.0.0.0/0")
    return passed(f"cluster {name} API endpoint is public but limited to {len(cidrs)} CIDR block(s)")
