"""The API's reads at the edge: one CloudFront distribution over the serving regions' APIs
(components/api_edge.py), cached for edgeCacheSeconds, failing over per request; and page views
counted from its standard logs (functions/edge_views) instead of an API call per view."""

from __future__ import annotations

import pulumi

from components import ApiEdge, ApiEdgeArgs, EdgeName, EventPipeline, ServerlessApi, allow
from components._blocks.private_bucket import private_bucket
from components.analytics import Analytics
from stack import api_contract, consumers
from stack.config import StackConfig
from stack.consumers import Region
from stack.providers import Providers
from stack.table_access import TableAccess

# Longest a read may take at a region before the edge gives up on it (504) and, in a group, asks
# the next region: reads answer in well under a second; a stalled region costs this much.
EDGE_ORIGIN_READ_TIMEOUT_SECONDS = 5
LOG_PREFIX = "api-edge/"
# Counted within a day (CloudFront delivers late entries up to 24 h after the request); kept a
# week to redrive a file from the DLQ.
LOG_DAYS = 7


def api_edge(
    cfg: StackConfig,
    providers: Providers,
    apis: dict[str, ServerlessApi],
    home: Region,
    access: TableAccess,
    home_analytics: Analytics | None,
) -> ApiEdge | None:
    if not cfg.edge_reads:
        return None
    # CloudFront's standard logs need the log-delivery ACL: ownership BucketOwnerPreferred.
    logs = private_bucket(
        "api-edge-logs",
        home.opts(),
        {"purpose": "cloudfront-access-logs"},
        object_ownership="BucketOwnerPreferred",
        versioned=False,
        expire_objects_after_days=LOG_DAYS,
    )
    edge = ApiEdge(
        "api-edge",
        ApiEdgeArgs(
            origins={
                region: (
                    pulumi.Output.concat(apis[region].rest_api_id, ".execute-api.", region, ".amazonaws.com"),
                    apis[region].stage_name,
                )
                for region in cfg.serving_regions  # in failover order, home first
            },
            routes=api_contract.edge_routes(),
            global_provider=providers.global_services,
            ttl_seconds=cfg.edge_cache_seconds,
            origin_read_timeout=EDGE_ORIGIN_READ_TIMEOUT_SECONDS,
            price_class=cfg.site_price_class,
            log_bucket_domain=logs.bucket.bucket_domain_name,
            log_prefix=LOG_PREFIX,
            web_acl_arn=cfg.site_web_acl_arn,
            domain=EdgeName(host=cfg.read_host, zone_name=cfg.domain) if cfg.domain and cfg.read_host else None,
        ),
    )
    edge_views(cfg, home, access, logs.name, logs.arn, home_analytics)
    return edge


def edge_views(
    cfg: StackConfig, home: Region, access: TableAccess, bucket_name, bucket_arn, analytics: Analytics | None
) -> EventPipeline:
    """Each new log file -> the queue -> functions/edge_views, counting its page views into the
    home region's counters (the same exactly-once counting as the views consumer) and, with
    analytics, putting them on the home region's delivery stream (when it takes puts: the SQS
    transport; a Kinesis transport's stream is Firehose's only source)."""
    forwards = analytics is not None and cfg.page_view_transport == "sqs-fifo"
    return EventPipeline(
        f"edge-views-{home.name}",
        consumers.consumer_args(
            cfg,
            home,
            "edge_views",
            source="s3",
            bucket_name=bucket_name,
            bucket_arn=bucket_arn,
            key_prefix=LOG_PREFIX,
            batch_size=10,
            timeout=60,
            memory_size=512,
            # A counter that lags is not an incident (the logs themselves come up to an hour
            # late), one that fails is: the DLQ depth alarms.
            oldest_message_alarm_seconds=None,
            environment={
                "TABLE_NAME": access.table.name,
                "EDGE_LOG_PREFIX": LOG_PREFIX,
                **({"ANALYTICS_DELIVERY_STREAM": analytics.delivery_stream_name} if forwards else {}),
            },
            statements=[
                allow(["s3:GetObject"], [pulumi.Output.concat(bucket_arn, "/", LOG_PREFIX, "*")], "ReadEdgeLogs"),
                *access.local_writes(home.name, ["dynamodb:GetItem", "dynamodb:UpdateItem"], sid="PublishViewCounts"),
                *(
                    [allow(["firehose:PutRecordBatch"], [analytics.delivery_stream_arn], "ForwardToAnalytics")]
                    if forwards
                    else []
                ),
            ],
        ),
        opts=home.opts(),
    )
