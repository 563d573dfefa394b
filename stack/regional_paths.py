"""A region's event paths: the pipelines that carry work out of its API (deferred writes, page
views and their analytics, thumbnails, mail and its feedback) and, with the write lease, its
failover function. What the region's API needs of them is on `RegionalPaths`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components import Analytics, EventPipeline, ReplicatedBuckets
from stack import analytics, consumers, write_failover
from stack.config import StackConfig
from stack.consumers import Region
from stack.table_access import TableAccess


@dataclass
class RegionalPaths:
    write_retry: EventPipeline
    views: EventPipeline
    views_environment: dict[str, Any]  # what the API needs to send page views
    views_grant: dict  # and may do to send them
    failover: write_failover.FailoverFunction | None
    analytics: Analytics | None = None
    pipelines: list[EventPipeline] = field(default_factory=list)  # every pipeline, write retry first


def regional_paths(
    cfg: StackConfig,
    region: Region,
    access: TableAccess,
    media: ReplicatedBuckets,
    signing_key,
    drain_parameter_name: str,
    *,
    sender: str | None,
    analytics_buckets: Any | None,
) -> RegionalPaths:
    write_retry = consumers.write_retry(cfg, region, access, signing_key)
    path = None
    if analytics_buckets is not None and cfg.page_view_transport == "sqs-fifo":
        # The queue has one reader: the views consumer forwards each view to Firehose.
        path = analytics.analytics_path(cfg, region, analytics_buckets)
        views = consumers.page_views(cfg, region, access, analytics.forwarding(path))
    else:
        views = consumers.page_views(cfg, region, access)
        if analytics_buckets is not None:  # Firehose reads the stream itself
            path = analytics.analytics_path(cfg, region, analytics_buckets, views.stream_arn)
    views_environment, views_grant = consumers.page_view_producer(views)
    failover = (
        write_failover.failover_function(cfg, region, access, drain_parameter_name, region.layer.arn)
        if access.voters is not None
        else None
    )
    pipelines = [write_retry, views, consumers.thumbnails(cfg, region, media)]
    if sender:
        pipelines += consumers.mail_paths(cfg, region, access, sender)
    return RegionalPaths(write_retry, views, views_environment, views_grant, failover, path, pipelines)
