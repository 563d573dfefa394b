"""Failover arithmetic, shared by FailoverDns, StaticSite, the stack's DR budget and config checks.

Route 53 marks an endpoint unhealthy after `failure_threshold` consecutive failed checks, one per
`request_interval`; resolvers then keep the old alias answer for up to its TTL, 60 s for an alias
to API Gateway.
"""

# Route 53 gives an alias record the TTL of its target and does not let it be set. 60 s is what
# ELB documents and what API Gateway regional names answer with when queried; it is not in the API
# Gateway documentation, so `sdr drill drain --measure` measures the real end-to-end time on a deployed stack.
ALIAS_TTL_SECONDS = 60


def detection_seconds(interval: int, failure_threshold: int) -> int:
    return interval * failure_threshold


def api_failover_seconds(interval: int, failure_threshold: int) -> int:
    """Worst case from the first failed check until resolvers stop answering the dead region."""
    return detection_seconds(interval, failure_threshold) + ALIAS_TTL_SECONDS


# CloudFront origin failover (StaticSite): a dead origin costs attempts x timeout before the next
# origin of the group is tried (defaults 3 x 10 s; allowed 1-3 attempts, 1-10 s).
ORIGIN_CONNECTION_ATTEMPTS = 1
ORIGIN_CONNECTION_TIMEOUT_SECONDS = 2
# An origin that accepts the connection and then stalls is bound by the response (read) timeout
# instead: 30 s by default, and pulumi-aws exposes no read timeout for an S3 (OAC) origin.
ORIGIN_RESPONSE_TIMEOUT_SECONDS = 30


# A Fargate task scaled from zero (pilot-light containers): the image pull and the process start,
# about 60 s for a 250 MB image pulled inside a VPC (aws/containers-roadmap#696, #358), then the
# load balancer's checks until the target is healthy. Only a real account measures the pull:
# `sdr drill scale-containers --measure` prints it against this estimate.
CONTAINER_START_SECONDS = 60
TARGET_HEALTH_INTERVAL_SECONDS = 10
TARGET_HEALTHY_THRESHOLD = 2


def container_scale_seconds() -> int:
    """From a scale request until the new tasks take requests from the load balancer."""
    return CONTAINER_START_SECONDS + TARGET_HEALTH_INTERVAL_SECONDS * TARGET_HEALTHY_THRESHOLD


def pilot_light_container_seconds(interval: int, failure_threshold: int) -> int:
    """A lost region's container routes back elsewhere: detection, a standby scaled from zero, DNS."""
    return detection_seconds(interval, failure_threshold) + container_scale_seconds() + ALIAS_TTL_SECONDS


# Aurora global database (relationalDb global): estimates, to be measured by `sdr drill promote
# --measure` on a real account. A headless secondary first needs an instance (a db.serverless
# instance is created in minutes), then the global switchover or failover itself (AWS documents
# global database recovery "typically" within a minute; allowed twice that here).
AURORA_INSTANCE_CREATE_SECONDS = 600
AURORA_GLOBAL_FAILOVER_SECONDS = 120


def relational_rto_seconds(interval: int, failure_threshold: int, *, headless: bool) -> int:
    """The relational store writable again in another region after its region is lost."""
    create = AURORA_INSTANCE_CREATE_SECONDS if headless else 0
    return detection_seconds(interval, failure_threshold) + create + AURORA_GLOBAL_FAILOVER_SECONDS
