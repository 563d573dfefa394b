"""AWS region facts the config validation and the components rely on."""

from __future__ import annotations

# Commercial regions where every service this program uses (API Gateway, Lambda, DynamoDB global
# tables, Kinesis on-demand, SES) is available. A typo such as "us-east1" fails at config time
# instead of half-way through a deploy.
KNOWN_REGIONS: frozenset[str] = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-south-1",
        "sa-east-1",
    }
)

# CloudFront certificates and Route 53 health-check metrics exist only in us-east-1.
GLOBAL_SERVICES_REGION = "us-east-1"

# Multi-Region strong consistency (MRSC) works only within one of these region sets; the witness
# must be in the same set as the replicas (DynamoDB developer guide, GlobalTableWitness).
STRONG_CONSISTENCY_REGION_SETS: tuple[frozenset[str], ...] = (
    frozenset({"us-east-1", "us-east-2", "us-west-2"}),
    frozenset({"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"}),
    frozenset({"ap-northeast-1", "ap-northeast-2", "ap-northeast-3"}),
)


def strong_consistency_region_set(regions: set[str]) -> frozenset[str] | None:
    """The MRSC region set holding every region given, or None when they span sets."""
    return next((s for s in STRONG_CONSISTENCY_REGION_SETS if regions <= s), None)
