"""The blog's analytics: every page view, queryable with SQL in every region.

Per region: the page views reach a Firehose delivery stream (read from the Kinesis stream, or put
by the views consumer when the transport is the SQS FIFO queue), which writes Parquet to that
region's analytics bucket under `page_views/region=<region>/dt=<day>/`. The buckets replicate to
each other (no RTC: analytics can wait minutes, and RTC's metrics would be a standing charge), so
each region's Glue table, which projects the partitions of every region, reads all the data:
the home region can answer for everyone, and so can any survivor. The table's columns are
generated from the page-view record's schema (functions/shared/page_view.py), the one the API
validates plus what it adds.
"""

from __future__ import annotations

import re

import pulumi

from components.analytics import Analytics, AnalyticsArgs, NamedQuerySpec, glue_columns
from components.policies import allow
from components.replicated_buckets import ReplicatedBuckets, ReplicatedBucketsArgs
from functions.shared import page_view
from stack import api_contract
from stack.config import StackConfig

TABLE = "page_views"
PREFIX = "page_views/"
# Partition projection lists days from here; a query should still filter on dt.
PROJECTION_START = "2026-01-01"
# The saved queries (Athena's Trino SQL); each filters on dt so it scans only the days it needs,
# and counts views by view_id, so a record delivered twice (at-least-once delivery) counts once.
LAST_30_DAYS = "dt >= date_format(current_date - INTERVAL '30' DAY, '%Y-%m-%d')"
QUERIES = {
    "top-posts": NamedQuerySpec(
        description="The 20 most viewed posts of the last 30 days, every region together",
        sql=f"SELECT post_id, count(DISTINCT view_id) AS views\nFROM {TABLE}\nWHERE {LAST_30_DAYS}\n"
        "GROUP BY post_id\nORDER BY views DESC\nLIMIT 20",
    ),
    "views-per-region-per-day": NamedQuerySpec(
        description="Page views per day and region, last 30 days",
        sql=f"SELECT dt, region, count(DISTINCT view_id) AS views\nFROM {TABLE}\nWHERE {LAST_30_DAYS}\nGROUP BY dt, region\nORDER BY dt, region",
    ),
    "unique-readers": NamedQuerySpec(
        description="Distinct readers per day (an estimate: approx_distinct, about 2 % standard error), last 30 days",
        sql=f"SELECT dt, approx_distinct(reader) AS readers, count(DISTINCT view_id) AS views\nFROM {TABLE}\n"
        f"WHERE {LAST_30_DAYS} AND reader IS NOT NULL\nGROUP BY dt\nORDER BY dt",
    ),
}


def record_schema() -> dict:
    return page_view.record_schema(api_contract.load_schema("PageView"))


def glue_name(cfg: StackConfig) -> str:
    """A Glue database name unique per stack in an account and region (two stacks may share one)."""
    return re.sub(r"[^a-z0-9_]", "_", f"{cfg.project}_{cfg.stack}_analytics".lower())


def data_buckets(cfg: StackConfig, providers) -> ReplicatedBuckets:
    return ReplicatedBuckets(
        "analytics",
        ReplicatedBucketsArgs(
            regions=cfg.regions,
            providers=providers,
            replication_time_control=False,
            expire_objects_after_days=cfg.analytics_retention_days,
        ),
    )


def analytics_path(cfg: StackConfig, region, buckets: ReplicatedBuckets, source_stream_arn=None) -> Analytics:
    name = region.name
    return Analytics(
        f"analytics-{name}",
        AnalyticsArgs(
            region=name,
            bucket_name=buckets.names[name],
            bucket_arn=buckets.arns[name],
            prefix=PREFIX,
            columns=glue_columns(record_schema()),
            partition_regions=list(cfg.regions),
            projection_start=PROJECTION_START,
            database_name=glue_name(cfg),
            table_name=TABLE,
            workgroup_name=f"{cfg.project}-{cfg.stack}-analytics",
            source_stream_arn=source_stream_arn,
            timestamp_formats=[page_view.AT_JODA_FORMAT],
            buffer_seconds=cfg.analytics_buffer_seconds,
            bytes_scanned_limit=cfg.analytics_bytes_scanned_limit_mb * 1024 * 1024,
            queries=QUERIES,
            log_retention_days=cfg.log_retention_days,
            log_key_arn=region.hardening.log_key_arn,
        ),
        opts=region.opts(),
    )


def forwarding(path: Analytics) -> tuple[dict, dict]:
    """What the views consumer needs to put views on the delivery stream: its environment and grant."""
    return (
        {"ANALYTICS_DELIVERY_STREAM": path.delivery_stream_name},
        allow(["firehose:PutRecord"], [path.delivery_stream_arn], "ForwardToAnalytics"),
    )


def export(paths: dict[str, Analytics]) -> None:
    pulumi.export(
        "analytics",
        {
            r: {
                "deliveryStream": p.delivery_stream_name,
                "database": p.database_name,
                "table": p.table_name,
                "workgroup": p.workgroup_name,
                "resultsBucket": p.results_bucket,
            }
            for r, p in paths.items()
        },
    )
