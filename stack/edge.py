"""The API's reads at the edge: one CloudFront distribution over the serving regions' APIs
(components/api_edge.py), cached for edgeCacheSeconds, failing over per request; and page views
counted from standard logs (functions/edge_views) instead of an API call per view: the site's
when posts are pages of their own (postPages), else the API edge's.

With both on, a post's GET answer is stored beside its page (functions/pages) and the edge
reads it from the first serving region's site bucket (`StoredAnswers`), kept
storedAnswerSeconds and invalidated by that region's renderer when the post changes."""

from __future__ import annotations

import pulumi

from components import (
    ApiEdge,
    ApiEdgeArgs,
    EdgeName,
    EventPipeline,
    PrefixReader,
    ServerlessApi,
    StaticSite,
    StoredAnswers,
    allow,
)
from components._blocks.private_bucket import PrivateBucket, private_bucket
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
SITE_LOG_PREFIX = "site/"
# Where the renderer stores answers in the site buckets (functions/pages ANSWER_PREFIX): the
# edge's origin path, so a read of /posts/<id> is the key api/posts/<id>.
STORED_ANSWERS_ORIGIN_PATH = "/api"
STORED_ANSWERS_KEY_PREFIX = STORED_ANSWERS_ORIGIN_PATH.strip("/") + "/"
STORED_ROUTE = "/posts/{id}"
# Counted within a day (CloudFront delivers late entries up to 24 h after the request); kept a
# week to redrive a file from the DLQ.
LOG_DAYS = 7
SITE_LOG_DAYS = 90  # as StaticSite keeps its own access logs
# How long the queue gathers log files for one invocation (files come about a minute apart): the
# count's lag grows by this, its writes shrink by the files a batch holds (at most 10).
LOG_BATCHING_SECONDS = 300


def view_logs(cfg: StackConfig, providers: Providers) -> PrivateBucket | None:
    """The home region's bucket of the standard logs views are counted from (None: no view is
    counted at the edge). CloudFront's standard logs need the log-delivery ACL: ownership
    BucketOwnerPreferred."""
    if not (cfg.edge_reads or cfg.post_pages):
        return None
    return private_bucket(
        "api-edge-logs",
        pulumi.ResourceOptions(provider=providers.regional[cfg.home_region]),
        {"purpose": "cloudfront-access-logs"},
        object_ownership="BucketOwnerPreferred",
        versioned=False,
        # With post pages the site's logs are these: siteAccessLogs keeps them as long as its own bucket would.
        expire_objects_after_days=SITE_LOG_DAYS if cfg.post_pages and cfg.site_access_logs else LOG_DAYS,
    )


class SiteReader:
    """The API edge as a reader of the site's buckets: the buckets' policy names the edge, and
    the edge is built from the buckets, so its ARN is promised before it exists."""

    def __init__(self, cfg: StackConfig):
        self.arn, self._resolve = pulumi.deferred_output() if cfg.stored_answers else (None, None)

    def prefix_readers(self) -> list[PrefixReader]:
        return [PrefixReader(STORED_ANSWERS_KEY_PREFIX, self.arn)] if self.arn is not None else []

    def built(self, edge: ApiEdge | None) -> None:
        if self._resolve is not None:
            if edge is None:
                raise ValueError("stored answers need the API's read edge (edgeReads)")
            self._resolve(edge.distribution_arn)


def stored_answers(cfg: StackConfig, site: StaticSite) -> StoredAnswers | None:
    """GET /posts/{id} from the first serving region's site bucket; what it lacks, from the next
    serving region's API (the home region's own when it is the only one)."""
    if not cfg.stored_answers:
        return None
    first, *others = cfg.serving_regions
    return StoredAnswers(
        route_path=STORED_ROUTE,
        bucket_domain=site.bucket_domains[first],
        origin_path=STORED_ANSWERS_ORIGIN_PATH,
        fallback_region=(others or [first])[0],
        ttl_seconds=cfg.stored_answer_seconds,
        allowed_origin=site.origin,
    )


def counted_log_prefix(cfg: StackConfig) -> str:
    """Whose log lines are page views: the site's post pages, or the API edge's post reads."""
    return SITE_LOG_PREFIX if cfg.post_pages else LOG_PREFIX


def api_edge(
    cfg: StackConfig,
    providers: Providers,
    apis: dict[str, ServerlessApi],
    logs: PrivateBucket | None,
    site: StaticSite,
    reader: SiteReader,
) -> ApiEdge | None:
    edge = _api_edge(cfg, providers, apis, logs, site)
    reader.built(edge)
    return edge


def _api_edge(
    cfg: StackConfig, providers: Providers, apis: dict[str, ServerlessApi], logs: PrivateBucket | None, site: StaticSite
) -> ApiEdge | None:
    if not cfg.edge_reads or logs is None:
        return None
    return ApiEdge(
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
            stored=stored_answers(cfg, site),
        ),
    )


def edge_views(
    cfg: StackConfig, home: Region, access: TableAccess, logs: PrivateBucket | None, analytics: Analytics | None
) -> EventPipeline | None:
    """Each new log file -> the queue -> functions/edge_views, counting its page views into the
    home region's counters (the same exactly-once counting as the views consumer) and, with
    analytics, putting them on the home region's delivery stream (when it takes puts: the SQS
    transport; a Kinesis transport's stream is Firehose's only source)."""
    if logs is None:
        return None
    bucket_name, bucket_arn, prefix = logs.name, logs.arn, counted_log_prefix(cfg)
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
            key_prefix=prefix,
            batch_size=10,
            # A few files an invocation: a busy post is incremented and published once per batch.
            max_batching_window_seconds=LOG_BATCHING_SECONDS,
            timeout=60,
            memory_size=512,
            # A counter that lags is not an incident (the logs themselves come up to an hour
            # late), one that fails is: the DLQ depth alarms.
            oldest_message_alarm_seconds=None,
            errors_alarm=False,
            environment={
                "TABLE_NAME": access.table.name,
                "EDGE_LOG_PREFIX": prefix,
                **({"ANALYTICS_DELIVERY_STREAM": analytics.delivery_stream_name} if forwards else {}),
            },
            statements=[
                allow(["s3:GetObject"], [pulumi.Output.concat(bucket_arn, "/", prefix, "*")], "ReadEdgeLogs"),
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
