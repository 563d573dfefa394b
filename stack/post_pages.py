"""Post pages (postPages): in every region, the table's stream -> functions/pages, rendering each
post into that region's site bucket as `posts/<id>`; and, on a deploy that changes the renderer
or its template, one invocation per region rendering every post again.

Each region renders from its own replica, so a region whose peers are gone still renders what
reaches it, and the site's origin group finds the page in the next region's bucket when the
first one's is gone. A page that lags is not an incident (the post shows through the API, and
the edge keeps pages edgeCacheSeconds anyway); one that failed for good is: the DLQ depth alarms.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import EventPipeline, GlobalTable, StaticSite, allow
from stack import consumers
from stack.config import StackConfig
from stack.consumers import Region
from stack.data_model import INDEXES
from stack.event_filters import post_pages_filter
from stack.packaging import code_hash
from stack.table_access import TableAccess

PACKAGE = "pages"
PAGE_PREFIX = "posts/"
POSTS_INDEX = INDEXES[0].name  # the newest-first listing, which render-all reads


def post_pages(
    cfg: StackConfig, regions: dict[str, Region], table: GlobalTable, access: TableAccess, site: StaticSite
) -> dict[str, EventPipeline]:
    if not cfg.post_pages:
        return {}
    return {name: _renderer(cfg, region, table, access, site) for name, region in regions.items()}


def _renderer(cfg: StackConfig, region: Region, table: GlobalTable, access: TableAccess, site: StaticSite) -> EventPipeline:
    name = region.name
    bucket_arn = site.bucket_arns[name]
    pipeline = EventPipeline(
        f"pages-{name}",
        consumers.consumer_args(
            cfg,
            region,
            PACKAGE,
            source="dynamodb",
            stream_arn=table.stream_arns[name],
            source_key_arn=table.key_arns.get(name),
            filter_patterns=[post_pages_filter()],
            batch_size=25,
            iterator_age_alarm_ms=None,
            errors_alarm=False,
            environment={
                "TABLE_NAME": table.name,
                "SITE_BUCKET": site.bucket_names[name],
                "PAGE_EDGE_SECONDS": str(cfg.edge_cache_seconds),
            },
            statements=[
                allow(["dynamodb:GetItem"], [table.arns[name]], "ReadPosts"),
                allow(["dynamodb:Query"], [pulumi.Output.concat(table.arns[name], "/index/", POSTS_INDEX)], "ListPosts"),
                *access.key_use([name], "ReadPostsKey", write=False),
                allow(
                    ["s3:PutObject", "s3:DeleteObject"], [pulumi.Output.concat(bucket_arn, "/", PAGE_PREFIX, "*")], "WritePages"
                ),
                {
                    **allow(["s3:ListBucket"], [bucket_arn], "ListPages"),
                    "Condition": {"StringLike": {"s3:prefix": [f"{PAGE_PREFIX}*"]}},
                },
            ],
        ),
        opts=region.opts(),
    )
    # Every page again when what renders them changed (and on the first deploy: posts written
    # before pages were on). A failed invocation fails the deploy, naming the function.
    aws.lambda_.Invocation(
        f"pages-{name}-render-all",
        function_name=pipeline.function_name,
        input=json.dumps({"render": "all"}),
        triggers={"renderer": code_hash(PACKAGE)},
        opts=region.opts(depends_on=[pipeline]),
    )
    return pipeline
