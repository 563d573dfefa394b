"""What a stack costs: the standing charge at zero traffic, and what traffic adds.

From the resources the offline run recorded and the versioned price table (ops/prices.json:
us-east-1 list prices, each with its source): `idle_lines` gives the fixed monthly cost per
resource type and region, `unit_prices` what one million page views or post reads, one GB stored
or a thousand emails add, `traffic_monthly` the month of a usage profile. Every AWS resource type
the program creates is classified in TYPES: a standing charge, or priced by use only. A type
missing from TYPES is an error, so a new resource cannot slip into a stack unpriced.

    sdr cost --stack <stack> [--page-views-per-day N] [--post-reads-per-day N] [--format text|json]
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from components import aws_cron

PRICE_TABLE = Path(__file__).with_name("prices.json")
# Assumptions of the traffic model, stated where the figures are shown.
ASSUMPTIONS = {
    "api_function_ms": 50,
    "consumer_function_ms_per_batch": 100,
    "log_bytes_per_request": 800,  # an access-log line and a few function log lines
    "post_response_bytes": 5_000,
    "view_response_bytes": 200,
    "xray_sampled_fraction": 0.05,  # the default sampling rule: 1 request/s, then 5 %
    "cache_hit_fraction": 0.9,  # GET /posts/{id} with the stage cache on (TTL 60 s)
    # Reads at the edge (edgeReads): CloudFront fetches a cached answer from a region at most once
    # per answer, regional edge cache and TTL; the readers of a month ask for this many answers
    # (posts, list pages), through this many of CloudFront's 13 regional edge caches.
    "edge_hot_answers": 50,
    "edge_regional_caches": 3,
    "post_response_gzip_bytes": 2_000,  # a post's JSON as CloudFront sends it compressed
    # A post's own page (postPages): the rendered template without the post, compressed (the
    # real template's size is held below this by tests/ops/test_cost.py), plus the post's text.
    "post_page_template_gzip_bytes": 800,
    # The page's shell (SPA, postPages off): the entry point a visit revalidates (index.html,
    # which carries the site's config), shared by the page views of one visit. Scripts and styles
    # are cached an hour by browsers and not counted here, in either mode: a reader back after
    # an hour asks for them again (3 requests with post pages, 4 without), about $0.75 to $1.00
    # more per million views at 4 views a visit.
    "site_shell_requests_per_visit": 1,
    "site_shell_bytes_per_visit": 3_000,
    "page_views_per_visit": 4,
    # Counting from the edge's standard logs: files delivered an hour, a log line's bytes, and the
    # reader's time per file. The queue gathers files for one invocation (its batching window,
    # read from the plan); a batch's files are counted in one transaction when they fit (a mark
    # per file, an increment and a publish per post).
    "edge_log_files_per_hour": 60,
    "edge_log_line_bytes": 450,
    "edge_log_reader_ms_per_file": 200,
    "view_record_bytes": 250,  # one view's JSON in the analytics stream
    # Stored answers (postPages with edgeReads): the renderer's time to read a post and its
    # counters and write its answer (one invocation each, as if no two arrived together).
    "answer_render_ms": 100,
}
# The month the per-million figures are quoted at (the report's default profile): cached reads
# cost less per million the more of them share an answer.
REFERENCE_PAGE_VIEWS_PER_DAY = 1_000_000
REFERENCE_POST_READS_PER_DAY = 10_000


@cache
def price_table() -> dict[str, Any]:
    return json.loads(PRICE_TABLE.read_text())


def price(name: str) -> float:
    return float(price_table()["prices"][name]["usd"])


def hours_per_month() -> int:
    return int(price_table()["hours_per_month"])


# --- standing charges, per resource --------------------------------------------------------------


def _kms_key(_r) -> list[tuple[str, float]]:
    return [("customer managed key", price("kms_key_month"))]


def _alarm(r) -> list[tuple[str, float]]:
    queries = r.inputs.get("metricQueries") or []
    metrics = sum(1 for q in queries if q.get("metric")) if queries else 1
    return [(f"alarm ({metrics} metric{'s' if metrics > 1 else ''})", metrics * price("alarm_metric_month"))]


def _dashboard(_r) -> list[tuple[str, float]]:
    return [("dashboard", price("dashboard_month"))]


def _health_check(r) -> list[tuple[str, float]]:
    kind = str(r.inputs.get("type", ""))
    options = [
        name
        for name, on in (
            ("HTTPS", kind.startswith("HTTPS")),
            ("string matching", kind.endswith("STR_MATCH")),
            ("10 s interval", r.inputs.get("requestInterval") == 10),
            ("latency graphs", bool(r.inputs.get("measureLatency"))),
        )
        if on
    ]
    return [
        ("health check", price("health_check_aws_month")),
        *((f"health check option: {o}", price("health_check_option_aws_month")) for o in options),
    ]


def _stream(r) -> list[tuple[str, float]]:
    mode = (r.inputs.get("streamModeDetails") or {}).get("streamMode", "PROVISIONED")
    if mode == "ON_DEMAND":
        return [("on-demand stream", price("kinesis_on_demand_stream_hour") * hours_per_month())]
    shards = int(r.inputs.get("shardCount") or 1)
    return [(f"provisioned stream, {shards} shard(s)", shards * price("kinesis_shard_hour") * hours_per_month())]


def _stage(r) -> list[tuple[str, float]]:
    if not r.inputs.get("cacheClusterEnabled"):
        return []
    size = str(r.inputs.get("cacheClusterSize", "0.5"))
    if size != "0.5":
        raise ValueError(f"no price for a {size} GB stage cache in ops/prices.json")
    return [("stage cache 0.5 GB", price("apigw_cache_05gb_hour") * hours_per_month())]


# What the write-failover ticks of one region use (stack/write_failover.py, functions/shared/failover.py).
FAILOVER_TICK = {
    "seconds": 0.2,  # an invocation: 2-3 DynamoDB calls, one of them in another region
    "memory_gb": 0.125,
    "log_bytes": 0,  # routine ticks log nothing (platform lines at WARN, the tick's own at WARNING)
    "holder_writes": 2 + 1,  # a renewal on a majority of the voters, and the control item's extension
    "holder_reads": 1,  # its own replica's control item, before renewing (a holder that cannot write lets go)
    "follower_reads": 2,  # a majority of the voters
}


def failover_ticks_monthly(region: str, home: str, regions: int, lease_seconds: float) -> dict[str, float]:
    """The standing cost of keeping the write lease in `region`: a tick every half lease (the
    health checks trigger it) and one every five minutes (the schedule, stack/write_failover.py);
    the home region holds the lease."""
    t = FAILOVER_TICK
    seconds = hours_per_month() * 3600
    scheduled = hours_per_month() * 12
    ticks = seconds / (lease_seconds / 2) + scheduled
    holder = region == home
    return {
        "lambda": ticks * price("lambda_requests_million") / 1e6
        + ticks * t["memory_gb"] * t["seconds"] * price("lambda_arm_gb_second"),
        "dynamodb": ticks
        * (
            (t["holder_writes"] * price("dynamodb_write_million") + t["holder_reads"] * price("dynamodb_read_million")) / 1e6
            + (regions - 1) * price("dynamodb_replicated_write_million") / 1e6  # the extension replicates
            if holder
            else t["follower_reads"] * price("dynamodb_read_million") / 1e6
        ),
        "schedule": scheduled * price("scheduler_invocations_million") / 1e6,
        "logs": ticks * t["log_bytes"] / 1e9 * price("logs_ingest_gb"),
    }


def _failover_schedule(r) -> list[tuple[str, float]]:
    from stack.config import LEASE_SECONDS

    home, regions = r.inputs.get("_home"), r.inputs.get("_regions")
    if home is None:  # the cost model reads them from the run (idle_lines sets them)
        raise ValueError("a failover schedule is priced with its stack's regions")
    costs = failover_ticks_monthly(r.region, home, regions, LEASE_SECONDS)
    role = "holder" if r.region == home else "follower"
    return [(f"write-failover ticks ({role}): {name}", usd) for name, usd in costs.items() if usd > 0]


def _load_balancer(_r) -> list[tuple[str, float]]:
    # LCUs at idle are a fraction of one (health checks only): the hour is the floor.
    return [("application load balancer", price("alb_hour") * hours_per_month())]


def _fargate_service(r) -> list[tuple[str, float]]:
    """Tasks running at the desired count the stack creates (the task definition's size is put on
    the inputs by idle_lines); a public IP per task when the tasks have one."""
    tasks = int(r.inputs.get("desiredCount") or 0)
    if not tasks:
        return []
    arch = "arm" if r.inputs.get("_architecture", "ARM64") == "ARM64" else "x86"
    vcpu, gb = int(r.inputs["_cpu"]) / 1024, int(r.inputs["_memory"]) / 1024
    hourly = vcpu * price(f"fargate_{arch}_vcpu_hour") + gb * price(f"fargate_{arch}_gb_hour")
    lines = [(f"{tasks} x Fargate task {vcpu:g} vCPU / {gb:g} GB {arch.upper()}", tasks * hourly * hours_per_month())]
    if (r.inputs.get("networkConfiguration") or {}).get("assignPublicIp"):
        lines.append(("public IPv4 per task", tasks * price("public_ipv4_hour") * hours_per_month()))
    return lines


def _vpc_endpoint(r) -> list[tuple[str, float]]:
    if r.inputs.get("vpcEndpointType") != "Interface":
        return []  # gateway endpoints (S3, DynamoDB) are free
    zones = len(r.inputs.get("subnetIds") or [])
    return [("interface endpoint per AZ", zones * price("vpc_interface_endpoint_hour") * hours_per_month())]


def _aurora_instance(r) -> list[tuple[str, float]]:
    """A db.serverless instance at its cluster's minimum (put on the inputs by idle_lines); 0 ACU pauses."""
    minimum = float(r.inputs.get("_min_capacity") or 0)
    if not minimum:
        return []
    return [(f"Aurora Serverless v2 at its minimum, {minimum:g} ACU", minimum * price("aurora_acu_hour") * hours_per_month())]


def _secret(r) -> list[tuple[str, float]]:
    copies = 1 + len(r.inputs.get("replicas") or [])
    return [(f"secret ({copies} region{'s' if copies > 1 else ''})", copies * price("secretsmanager_secret_month"))]


STANDING: dict[str, Callable[[Any], list[tuple[str, float]]]] = {
    "aws:rds/clusterInstance:ClusterInstance": _aurora_instance,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:ecs/service:Service": _fargate_service,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/natGateway:NatGateway": lambda _r: [("NAT gateway", price("nat_gateway_hour") * hours_per_month())],
    "aws:ec2/eip:Eip": lambda _r: [("public IPv4 (NAT gateway)", price("public_ipv4_hour") * hours_per_month())],
    "aws:scheduler/schedule:Schedule": _failover_schedule,
    "aws:kms/key:Key": _kms_key,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:kinesis/stream:Stream": _stream,
    "aws:apigateway/stage:Stage": _stage,
}
# Types with no standing charge: priced by requests, storage or transfer (unit_prices), or free.
USAGE_ONLY: dict[str, str] = {
    "aws:acm/certificate:Certificate": "public certificates are free",
    "aws:acm/certificateValidation:CertificateValidation": "free",
    "aws:apigateway/account:Account": "free",
    "aws:apigateway/apiKey:ApiKey": "free",
    "aws:apigateway/basePathMapping:BasePathMapping": "free",
    "aws:apigateway/deployment:Deployment": "free",
    "aws:apigateway/domainName:DomainName": "free (regional custom domain)",
    "aws:apigateway/methodSettings:MethodSettings": "free",
    "aws:apigateway/restApi:RestApi": "per request",
    "aws:apigateway/usagePlan:UsagePlan": "free",
    "aws:apigateway/usagePlanKey:UsagePlanKey": "free",
    "aws:cloudfront/distribution:Distribution": "per request and GB out",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "free",
    "aws:cloudfront/cachePolicy:CachePolicy": "free",
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": "free",
    "aws:cloudwatch/logGroup:LogGroup": "per GB ingested and stored",
    "aws:dynamodb/table:Table": "on demand: per request, GB stored, GB of continuous backup",
    "aws:iam/role:Role": "free",
    "aws:iam/rolePolicy:RolePolicy": "free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "free",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "free (the function's invocations are priced)",
    "aws:lambda/function:Function": "per invocation and GB-second",
    "aws:lambda/layerVersion:LayerVersion": "free (counts against code storage)",
    "aws:lambda/invocation:Invocation": "one invocation a deploy that changes it (post pages rendered again)",
    "aws:lambda/permission:Permission": "free",
    "aws:route53/record:Record": "alias queries to AWS resources are free",
    "aws:s3/bucket:Bucket": "per GB stored and request",
    "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": "free",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "free",
    "aws:s3/bucketLogging:BucketLogging": "free (the logs are stored)",
    "aws:s3/bucketNotification:BucketNotification": "free",
    "aws:s3/bucketObjectv2:BucketObjectv2": "per GB stored",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "free",
    "aws:s3/bucketPolicy:BucketPolicy": "free",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "free",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "per GB replicated (RTC) and transferred",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "free (SSE-S3)",
    "aws:s3/bucketVersioning:BucketVersioning": "free (old versions are stored)",
    "aws:sesv2/configurationSet:ConfigurationSet": "free",
    "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination": "free",
    "aws:sesv2/emailIdentity:EmailIdentity": "free (per email sent)",
    "aws:sns/topic:Topic": "per publish",
    "aws:sns/topicPolicy:TopicPolicy": "free",
    "aws:sns/topicSubscription:TopicSubscription": "free",
    "aws:sqs/queue:Queue": "per request",
    "aws:sqs/queuePolicy:QueuePolicy": "free",
    "aws:ssm/parameter:Parameter": "standard parameters are free",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "free here: the web ACL is billed to its owner",
    "aws:backup/vault:Vault": "per GB of backups stored",
    "aws:backup/plan:Plan": "free",
    "aws:backup/selection:Selection": "free",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "free",
    "aws:backup/vaultNotifications:VaultNotifications": "free",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "per GB ingested and converted (5 KB per record)",
    "aws:glue/catalogDatabase:CatalogDatabase": "free (the first million catalog objects)",
    "aws:glue/catalogTable:CatalogTable": "free (the first million catalog objects); partition projection, no crawler",
    "aws:athena/workgroup:Workgroup": "per TB scanned",
    "aws:athena/namedQuery:NamedQuery": "free",
    "aws:cloudwatch/logStream:LogStream": "free (its log group is priced)",
    "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": "free",
    # The container backend's network and plumbing: only the load balancer, the tasks, the NAT,
    # public addresses and interface endpoints bill by the hour (priced above).
    "aws:ec2/vpc:Vpc": "free",
    "aws:ec2/subnet:Subnet": "free",
    "aws:ec2/internetGateway:InternetGateway": "free (data out is priced per GB)",
    "aws:ec2/routeTable:RouteTable": "free",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "free",
    "aws:ec2/securityGroup:SecurityGroup": "free",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "free",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "free",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "free",
    "aws:lb/targetGroup:TargetGroup": "free (the load balancer is priced)",
    "aws:lb/listener:Listener": "free (the load balancer is priced)",
    "aws:apigatewayv2/vpcLink:VpcLink": "free (API Gateway bills the requests)",
    "aws:ecs/cluster:Cluster": "free (Fargate bills the tasks)",
    "aws:ecs/taskDefinition:TaskDefinition": "free (its service's tasks are priced)",
    "aws:appautoscaling/target:Target": "free",
    "aws:appautoscaling/policy:Policy": "free",
    "aws:ecr/replicationConfiguration:ReplicationConfiguration": "per GB of replicas stored and transferred across regions",
    # The relational store: its instances and secret are priced above; storage and I/O by use.
    "aws:rds/cluster:Cluster": "per GB-month stored and million I/Os (a headless secondary: storage only)",
    "aws:rds/globalCluster:GlobalCluster": "per million replicated write I/Os to each secondary",
    "aws:rds/subnetGroup:SubnetGroup": "free",
    "aws:secretsmanager/secretVersion:SecretVersion": "free (its secret is priced)",
    # Paid content: the pool bills per monthly active user above its plan's free tier (Lite,
    # cognito_lite_mau); the signing key's secret and its replicas are priced above.
    "aws:cognito/userPool:UserPool": "per monthly active reader above the Lite plan's free tier",
    "aws:cognito/userPoolClient:UserPoolClient": "free",
    "aws:cognito/userGroup:UserGroup": "free",
    "aws:cloudfront/publicKey:PublicKey": "free",
    "aws:cloudfront/keyGroup:KeyGroup": "free",
}


class UnpricedType(ValueError):
    """A resource type the cost model does not know: price it in ops/cost.py."""


@dataclass(frozen=True)
class CostLine:
    region: str
    type: str
    count: int
    detail: str
    monthly_usd: float


def idle_lines(run) -> list[CostLine]:
    """The standing monthly charge, one line per (region, resource type, kind of charge)."""
    grouped: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    regions = _regions(run)
    for resource in run.resources:
        if not resource.is_aws:
            continue
        if resource.type in USAGE_ONLY:
            continue
        standing = STANDING.get(resource.type)
        if standing is None:
            raise UnpricedType(f"{resource.type} ({resource.name}) has no price in ops/cost.py")
        if resource.type == "aws:scheduler/schedule:Schedule":
            resource = dataclasses.replace(resource, inputs={**resource.inputs, "_home": regions[0], "_regions": len(regions)})
        if resource.type == "aws:ecs/service:Service":
            resource = _with_task_size(run, resource)
        if resource.type == "aws:rds/clusterInstance:ClusterInstance":
            resource = _with_cluster_minimum(run, resource)
        for detail, usd in standing(resource):
            grouped[(resource.region or "global", resource.type, detail)].append(usd)
    return [
        CostLine(region, type_, len(amounts), detail, round(sum(amounts), 4))
        for (region, type_, detail), amounts in sorted(grouped.items())
    ]


def _with_task_size(run, service):
    """The service with its task definition's size (ContainerService names them `<name>-service`, `<name>-task`)."""
    task_name = service.name.removesuffix("-service") + "-task"
    (task,) = [t for t in run.of_type("aws:ecs/taskDefinition:TaskDefinition") if t.name == task_name]
    platform = task.inputs.get("runtimePlatform") or {}
    size = {"_cpu": task.inputs["cpu"], "_memory": task.inputs["memory"], "_architecture": platform.get("cpuArchitecture")}
    return dataclasses.replace(service, inputs={**service.inputs, **size})


def _with_cluster_minimum(run, instance):
    """The instance with its cluster's minimum capacity (AuroraGlobal names them `<cluster>-writer|reader`)."""
    cluster_name = instance.name.rsplit("-", 1)[0]
    (cluster,) = [c for c in run.of_type("aws:rds/cluster:Cluster") if c.name == cluster_name]
    scaling = cluster.inputs.get("serverlessv2ScalingConfiguration") or {}
    return dataclasses.replace(instance, inputs={**instance.inputs, "_min_capacity": scaling.get("minCapacity", 0)})


def idle_monthly(run) -> float:
    return round(sum(line.monthly_usd for line in idle_lines(run)), 2)


# --- what traffic adds ---------------------------------------------------------------------------


def _config(run) -> dict[str, Any]:
    prefix = f"{run.project}:"
    return {k[len(prefix) :]: v for k, v in run.config.items() if k.startswith(prefix)}


def _function_memory_gb(run, name_suffix: str) -> float:
    sizes = [
        int(f.inputs.get("memorySize", 128)) for f in run.of_type("aws:lambda/function:Function") if f.name.endswith(name_suffix)
    ]
    return (max(sizes) if sizes else 512) / 1024


def _lambda(invocations: float, memory_gb: float, ms: float) -> float:
    return invocations * price("lambda_requests_million") / 1e6 + invocations * memory_gb * ms / 1000 * price(
        "lambda_arm_gb_second"
    )


def _per_request_overhead(count: float, response_bytes: int) -> float:
    """API Gateway, logs, sampled traces and the answer's bytes of `count` API requests."""
    a = ASSUMPTIONS
    return (
        count * price("apigw_rest_requests_million") / 1e6
        + count * a["log_bytes_per_request"] / 1e9 * price("logs_ingest_gb")
        + count * a["xray_sampled_fraction"] * price("xray_traces_million") / 1e6
        + count * response_bytes / 1e9 * price("internet_transfer_gb")
    )


def _edge_reads_on(run) -> bool:
    return str(_config(run).get("edgeReads", "true")).lower() == "true"


def _regions(run) -> list[str]:
    """The stack's regions, home first (the project default when the stack file names none)."""
    return json.loads(_config(run).get("regions", "[]")) or ["us-east-1"]


def _analytics_records(run, views: float, *, packed: bool = False) -> float:
    """Analytics: every view through Firehose and converted to Parquet. Firehose bills a record as
    at least 5 KB: one view a record, or (`packed`, the edge-log reader) many views' JSON
    documents concatenated in one record, billed by their bytes."""
    if not run.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        return 0.0
    billed_gb = views * ASSUMPTIONS["view_record_bytes"] / 1e9 if packed else views * 5 / 1024 / 1024
    return billed_gb * (price("firehose_ingest_gb") + price("firehose_format_conversion_gb"))


def _api_reads(run, reads: float, response_bytes: int) -> float:
    """`reads` GET /posts/{id} answered by a region: through the stage cache when it is on, else
    the function and two eventually consistent reads (the post, and the per-region counters)."""
    cached = str(_config(run).get("apiCacheEnabled", "false")).lower() == "true"
    misses = reads * (1 - ASSUMPTIONS["cache_hit_fraction"]) if cached else reads
    return (
        _per_request_overhead(reads, response_bytes)
        + _lambda(misses, _function_memory_gb(run, "-fn"), ASSUMPTIONS["api_function_ms"])
        + misses * 1.0 * price("dynamodb_read_million") / 1e6
    )


def edge_origin_fetches(run, reads: float, ttl: int | None = None) -> float:
    """How many of `reads` cached reads in a month CloudFront fetches from an origin: at most one
    per answer, regional edge cache and TTL (edgeCacheSeconds unless `ttl` is given)."""
    ttl = ttl or int(_config(run).get("edgeCacheSeconds", 60))
    a = ASSUMPTIONS
    return min(reads, a["edge_hot_answers"] * a["edge_regional_caches"] * hours_per_month() * 3600 / ttl)


def _edge_request(reads: float, gzip_bytes: float) -> float:
    """CloudFront's request charge and the compressed bytes out (origin to CloudFront is free)."""
    return reads * price("cloudfront_https_10k") / 1e4 + reads * gzip_bytes / 1e9 * price("cloudfront_transfer_gb")


def _edge_reads(run, reads: float) -> float:
    """`reads` cached GETs at the API edge, and the fetches from a region when the copy expired."""
    return _edge_request(reads, ASSUMPTIONS["post_response_gzip_bytes"]) + _api_reads(run, edge_origin_fetches(run, reads), 0)


def _post_pages_on(run) -> bool:
    return str(_config(run).get("postPages", "true")).lower() == "true"


def _stored_answers_on(run) -> bool:
    return _edge_reads_on(run) and _post_pages_on(run)


def stored_answer_seconds(run) -> int:
    return int(_config(run).get("storedAnswerSeconds", 1800))


def _bucket_reads(run, reads: float, gzip_bytes: float, ttl: int | None = None) -> float:
    """`reads` at the edge of objects in a bucket: the request, its bytes, and an S3 GET when
    the copy (kept `ttl`, edgeCacheSeconds by default) expired."""
    return _edge_request(reads, gzip_bytes) + edge_origin_fetches(run, reads, ttl) * price("s3_get_thousand") / 1e3


def _stored_reads(run, reads: float) -> float:
    """`reads` GET /posts/{id} at the edge answered from the stored answers (kept storedAnswerSeconds)."""
    return _bucket_reads(run, reads, ASSUMPTIONS["post_response_gzip_bytes"], stored_answer_seconds(run))


def _stored_answer_refresh(run, views: float) -> float:
    """Keeping the stored answers' view counts current: each published count reaches the stream
    of the region the edge reads, whose renderer reads the post and its counters (a consistent
    read and a query) and writes the answer again (an S3 PUT). Edits are rare: their
    invalidations stay in CloudFront's 1,000 free paths a month."""
    _per_batch, batches = log_batch(run)
    publishes = batches * _posts_per_batch(views, batches)
    return publishes * (
        price("s3_put_thousand") / 1e3
        + 2 * price("dynamodb_read_million") / 1e6
        + _lambda(1, _function_memory_gb(run, "-fn"), ASSUMPTIONS["answer_render_ms"])
    )


def post_page_bytes() -> int:
    a = ASSUMPTIONS
    return a["post_page_template_gzip_bytes"] + a["post_response_gzip_bytes"]


def _post_pages(run, views: float) -> float:
    """`views` post pages from the site's distribution: the request (the page is its own shell),
    its bytes, and the fetches from a region's bucket (an S3 GET) when the copy expired."""
    return _bucket_reads(run, views, post_page_bytes())


def _site_shell(views: float) -> float:
    """The page's shell, once a visit: CloudFront requests and bytes of its entry points."""
    a = ASSUMPTIONS
    visits = views / a["page_views_per_visit"]
    return visits * (
        a["site_shell_requests_per_visit"] * price("cloudfront_https_10k") / 1e4
        + a["site_shell_bytes_per_visit"] / 1e9 * price("cloudfront_transfer_gb")
    )


def log_batch(run) -> tuple[float, float]:
    """(log files an invocation, invocations a month) of the edge-log counter, from its planned
    queue mapping: the batching window gathers files up to the batch size."""
    a = ASSUMPTIONS
    files = a["edge_log_files_per_hour"] * hours_per_month()
    mappings = [m for m in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping") if m.name.startswith("edge-views-")]
    window = int(mappings[0].inputs.get("maximumBatchingWindowInSeconds", 0)) if mappings else 0
    size = int(mappings[0].inputs.get("batchSize", 10)) if mappings else 10
    per_batch = max(1.0, min(size, a["edge_log_files_per_hour"] * window / 3600))
    return per_batch, files / per_batch


def _posts_per_batch(views: float, batches: float) -> float:
    """The posts a batch of log files names (each incremented and published once): at most the
    month's hot answers."""
    return min(views / batches, ASSUMPTIONS["edge_hot_answers"]) if batches else 0


def _counted_from_edge_logs(run, views: float) -> float:
    """Views counted from the edge's standard logs (delivery free; the objects stored a week): the
    reader reads each file once; per batch of files one transaction (when they fit) with a mark
    per file (2 write units) and an increment per post (2), then per post the published count and
    its replicas."""
    a = ASSUMPTIONS
    per_batch, batches = log_batch(run)
    files = per_batch * batches
    posts = _posts_per_batch(views, batches)
    transactions = -(-(per_batch + posts) // 100)  # a transaction holds 100 items
    chunks = batches * transactions * posts  # (transaction, post): an increment and a publish each
    log_gb = views * a["edge_log_line_bytes"] / 1e9
    return (
        log_gb * price("s3_storage_gb_month") / 4  # kept 7 days
        + files * (price("s3_get_thousand") / 1e3)
        + _lambda(batches, 0.5, a["edge_log_reader_ms_per_file"] * per_batch)
        + (files * 2 + chunks * (2 + 1)) * price("dynamodb_write_million") / 1e6
        + chunks * (len(_regions(run)) - 1) * price("dynamodb_replicated_write_million") / 1e6
        + _analytics_records(run, views, packed=True)
    )


def _counted_through_the_api(run, views: float) -> float:
    """`views` POST /events: the API, the transport, the counting consumer, the counter write and
    its replication to every other region."""
    config = _config(run)
    transport = config.get("pageViewTransport", "sqs-fifo")
    api_gb = _function_memory_gb(run, "-fn")
    cost = _per_request_overhead(views, ASSUMPTIONS["view_response_bytes"]) + _lambda(
        views, api_gb, ASSUMPTIONS["api_function_ms"]
    )
    if transport == "sqs-fifo":
        batch = 10
        cost += views * (1 + 2 / batch) * price("sqs_fifo_million") / 1e6  # send; receive and delete per batch
    else:
        batch = 100
        if transport == "kinesis-on-demand":
            cost += views * 300 / 1e9 * price("kinesis_on_demand_ingest_gb")
        else:
            cost += views * price("kinesis_put_units_million") / 1e6
    cost += _lambda(views / batch, 0.25, ASSUMPTIONS["consumer_function_ms_per_batch"])
    cost += views * price("dynamodb_write_million") / 1e6
    cost += views * (len(_regions(run)) - 1) * price("dynamodb_replicated_write_million") / 1e6
    return cost + _analytics_records(run, views)


def traffic_costs(run, *, page_views: float, post_reads: float) -> dict[str, float]:
    """What a month of `page_views` (a post shown to a reader) and `post_reads` (GET /posts/{id}
    by any other client) adds. With post pages, a page view is the post's page at the site's edge,
    counted from its log. Else, with the API edge on, it is the edge read of its post (counted
    from the edge's log) and its share of the page's shell; the two kinds of read share the
    edge's cached answers, so their origin fetches are shared too. Without either, a page view is
    the shell and a POST /events, and reads go to a region."""
    edge = _edge_reads_on(run)
    if edge and not _post_pages_on(run):
        # The page's reads and other clients' share the API edge's cached answers.
        both = page_views + post_reads
        per_read = _edge_reads(run, both) / both if both else 0.0
        return {
            "page_views": page_views * per_read + _site_shell(page_views) + _counted_from_edge_logs(run, page_views),
            "post_reads": post_reads * per_read,
        }
    if _stored_answers_on(run):
        counted = _counted_from_edge_logs(run, page_views) + _stored_answer_refresh(run, page_views)
        return {"page_views": _post_pages(run, page_views) + counted, "post_reads": _stored_reads(run, post_reads)}
    reads = _edge_reads(run, post_reads) if edge else _api_reads(run, post_reads, ASSUMPTIONS["post_response_bytes"])
    if _post_pages_on(run):
        return {"page_views": _post_pages(run, page_views) + _counted_from_edge_logs(run, page_views), "post_reads": reads}
    return {"page_views": _site_shell(page_views) + _counted_through_the_api(run, page_views), "post_reads": reads}


def api_load_cost(run, *, reads: float, writes: float) -> float:
    """What `reads` GET /posts/{id} and `writes` POST /posts sent to a region add (a game day's
    load): the requests through the API, the function, and per write the post, its idempotency
    record and its intent (two write units each, as a transaction bills them), replicated."""
    replicas = len(_regions(run)) - 1
    unit_writes = writes * 3 * 2
    return (
        _api_reads(run, reads, ASSUMPTIONS["post_response_bytes"])
        + _per_request_overhead(writes, ASSUMPTIONS["post_response_bytes"])
        + _lambda(writes, _function_memory_gb(run, "-fn"), ASSUMPTIONS["api_function_ms"])
        + unit_writes * (price("dynamodb_write_million") + replicas * price("dynamodb_replicated_write_million")) / 1e6
    )


def page_views_cost(run, views: float) -> float:
    return traffic_costs(run, page_views=views, post_reads=0)["page_views"]


def post_reads_cost(run, reads: float) -> float:
    return traffic_costs(run, page_views=0, post_reads=reads)["post_reads"]


def per_million(run) -> dict[str, float]:
    """The cost of a million page views and of a million post reads, in the reference month."""
    views, reads = REFERENCE_PAGE_VIEWS_PER_DAY * 30, REFERENCE_POST_READS_PER_DAY * 30
    costs = traffic_costs(run, page_views=views, post_reads=reads)
    return {"page_views": costs["page_views"] / views * 1e6, "post_reads": costs["post_reads"] / reads * 1e6}


def unit_prices(run) -> dict[str, dict[str, Any]]:
    regions = len(_regions(run))
    unit = per_million(run)
    month = f"in a month of {REFERENCE_PAGE_VIEWS_PER_DAY:,} page views and {REFERENCE_POST_READS_PER_DAY:,} post reads a day"
    edge = _edge_reads_on(run)
    if _post_pages_on(run):
        view_note = "the post's own page at the site's edge (its shell too), counted from its log line"
    elif edge:
        view_note = "the post read at the edge, counted from its log line, and a share of the page's shell"
    else:
        view_note = "the page's shell share and a POST /events to the counter, replicated"
    return {
        "page_views_per_million": {"usd": round(unit["page_views"], 2), "note": f"{view_note}, {month}"},
        "post_reads_per_million": {
            "usd": round(unit["post_reads"], 2),
            "note": (
                f"GET /posts/{{id}}: its stored answer at the edge (an S3 GET when the copy, kept {stored_answer_seconds(run)} s, expired)"
                if _stored_answers_on(run)
                else "GET /posts/{id} at the edge (cached, failing over there)"
                if edge
                else "GET /posts/{id} at a region"
            )
            + f", {month}",
        },
        "media_gb_month": {
            "usd": round(
                regions * price("s3_storage_gb_month") + (regions - 1) * (price("s3_rtc_gb") + price("inter_region_transfer_gb")),
                4,
            ),
            "note": f"one GB uploaded, stored in {regions} regions, replicated with RTC (first month)"
            if regions > 1
            else "one GB uploaded, stored in one region",
        },
        "table_gb_month": {
            "usd": round(regions * (price("dynamodb_storage_gb_month") + price("dynamodb_pitr_gb_month")), 4),
            "note": f"one GB of table data in {regions} replica(s) with point-in-time recovery",
        },
        "emails_per_thousand": {"usd": price("ses_email_thousand"), "note": "welcome emails"},
        **_backup_unit_prices(run),
        **_analytics_unit_prices(run),
        **_paid_content_unit_prices(run),
    }


def _paid_content_unit_prices(run) -> dict[str, dict[str, Any]]:
    """A premium session (paidContent): one API request, one invocation, two table reads (the
    purchase, and the kept key set once per environment, counted every time: an upper bound).
    The key's secret is read once per execution environment; the user pool's readers are billed
    per monthly active user above the plan's free tier, which this model does not price."""
    if not run.of_type("aws:cognito/userPool:UserPool"):
        return {}
    sessions = 1e6
    usd = (
        _per_request_overhead(sessions, 300)
        + _lambda(sessions, _function_memory_gb(run, "-fn"), ASSUMPTIONS["api_function_ms"])
        + 2 * sessions * price("dynamodb_read_million") / 1e6
    )
    return {
        "premium_sessions_per_million": {
            "usd": round(usd, 2),
            "note": "POST /premium/session: the API request, the function, the purchase read (readers per month: Cognito's price)",
        }
    }


def _analytics_unit_prices(run) -> dict[str, dict[str, Any]]:
    workgroups = run.of_type("aws:athena/workgroup:Workgroup")
    if not workgroups:
        return {}
    limit = max(int(w.inputs["configuration"]["bytesScannedCutoffPerQuery"]) for w in workgroups)
    return {
        "athena_query_at_most": {
            "usd": round(limit / 1024**4 * price("athena_tb_scanned"), 4),
            "note": f"the most one saved query can cost: the workgroup cancels it past {limit // 1024**2} MB scanned",
        }
    }


def _backup_unit_prices(run) -> dict[str, dict[str, Any]]:
    """What AWS Backup stores per GB protected, read from the planned backup rule.

    DynamoDB backups are full copies: every recovery point kept is the table's size again, in the
    home vault and, with a copy action, in the copy's vault, plus each copy's transfer. S3 backups
    are incremental: the bucket's size once per vault (and its changes, not priced here)."""
    plans = run.of_type("aws:backup/plan:Plan")
    if not plans:
        return {}
    [rule] = plans[0].inputs["rules"]
    retention = int(rule["lifecycle"]["deleteAfter"])
    schedule = aws_cron.parse(rule["schedule"])
    kept = len(schedule.runs(dt.date(2028, 1, 1), retention))  # recovery points alive at once
    per_month = len(schedule.runs(dt.date(2028, 1, 1), 30))
    vaults = 1 + len(rule.get("copyActions") or [])
    transfer = (vaults - 1) * price("inter_region_transfer_gb")
    return {
        "backup_table_gb_month": {
            "usd": round(kept * vaults * price("backup_warm_gb_month") + per_month * transfer, 2),
            "note": f"one GB of table: {kept} full recovery points in {vaults} vault(s), {per_month} copies a month",
        },
        "backup_media_gb_month": {
            "usd": round(vaults * price("backup_s3_gb_month") + transfer, 4),
            "note": f"one GB of media in {vaults} vault(s) (incremental; first copy's transfer)",
        },
    }


def traffic_monthly(run, *, page_views_per_day: float, post_reads_per_day: float) -> dict[str, float]:
    costs = traffic_costs(run, page_views=page_views_per_day * 30, post_reads=post_reads_per_day * 30)
    views, reads = costs["page_views"], costs["post_reads"]
    idle = idle_monthly(run)
    return {
        "idle_usd": idle,
        "page_views_usd": round(views, 2),
        "post_reads_usd": round(reads, 2),
        "total_usd": round(idle + views + reads, 2),
    }


def cost_document(run) -> dict[str, Any]:
    """The `cost` section of the plan document."""
    table = price_table()
    return {
        "idle_monthly_usd": idle_monthly(run),
        "lines": [asdict(line) for line in idle_lines(run)],
        "unit_prices": unit_prices(run),
        "price_table": {"version": table["version"], "basis": table["basis"]},
        "assumptions": dict(ASSUMPTIONS),
    }


def render(document: dict[str, Any]) -> list[str]:
    lines = [
        f"Cost at zero traffic: ${document['idle_monthly_usd']:.2f}/month (list prices of {document['price_table']['version']})"
    ]
    for line in document["lines"]:
        name = line["type"].rsplit(":", 1)[-1]
        lines.append(f"  {line['region']:<12} {line['count']:>3} x {name:<14} {line['detail']:<40} ${line['monthly_usd']:.2f}")
    lines.append("What traffic adds:")
    for key, value in document["unit_prices"].items():
        lines.append(f"  {key.replace('_', ' ')}: ${value['usd']}  ({value['note']})")
    return lines


def report(stack: str, *, fmt: str = "text", page_views_per_day: float = 1_000_000, post_reads_per_day: float = 10_000) -> str:
    """`sdr cost`: the stack's idle cost line by line, what traffic adds, and a month's example."""
    from ops.offline_run import run_stack

    run = run_stack(stack)
    document = cost_document(run)
    example = {
        "page_views_per_day": page_views_per_day,
        "post_reads_per_day": post_reads_per_day,
        **traffic_monthly(run, page_views_per_day=page_views_per_day, post_reads_per_day=post_reads_per_day),
    }
    document["traffic_example"] = example
    if fmt == "json":
        return json.dumps(document, indent=2)
    return "\n".join(
        [
            *render(document),
            f"A month of {page_views_per_day:,.0f} page views and {post_reads_per_day:,.0f} post reads a day: "
            f"${example['total_usd']:.2f} (${example['idle_usd']:.2f} standing)",
        ]
    )
