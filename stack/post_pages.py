"""Post pages (postPages): in every region, the table's stream -> functions/pages, rendering each
post into that region's site bucket as `posts/<id>`; and, on a deploy that changes the renderer
or its template, one invocation per region rendering every post again.

Each region renders from its own replica, so a region whose peers are gone still renders what
reaches it, and the site's origin group finds the page in the next region's bucket when the
first one's is gone. A page that lags is not an incident (the post shows through the API, and
the edge keeps pages edgeCacheSeconds anyway); one that failed for good is: the DLQ depth alarms.

With stored answers (edgeReads too), each renderer also keeps every post's GET answer, views
included, as `api/posts/<id>` in its bucket, written when the post changes. The first serving
region's renderer, whose bucket the API edge reads, also writes it again when a view counter
changes (the others' views would be read by nobody: an S3 PUT each) and invalidates the edge's
copy of a post that changed. When an evacuation makes another region the first, its answers'
counts catch up as each post's count is next published.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

from components import ApiEdge, EventPipeline, GlobalTable, StaticSite, allow
from stack import consumers
from stack.config import StackConfig
from stack.consumers import Region
from stack.data_model import INDEXES
from stack.edge import STORED_ANSWERS_KEY_PREFIX
from stack.event_filters import post_pages_filter
from stack.packaging import code_hash
from stack.table_access import TableAccess

PACKAGE = "pages"
PAGE_PREFIX = "posts/"
ANSWER_PREFIX = f"{STORED_ANSWERS_KEY_PREFIX}{PAGE_PREFIX}"  # a read of /posts/<id> under the edge's origin path
POSTS_INDEX = INDEXES[0].name  # the newest-first listing, which render-all reads


def post_pages(
    cfg: StackConfig,
    regions: dict[str, Region],
    table: GlobalTable,
    access: TableAccess,
    site: StaticSite,
    edge: ApiEdge | None,
) -> dict[str, EventPipeline]:
    if not cfg.post_pages:
        return {}
    # The region whose bucket the edge reads stored answers from invalidates them there.
    invalidating = cfg.serving_regions[0] if cfg.stored_answers and edge is not None else None
    return {
        name: _renderer(cfg, region, table, access, site, edge if name == invalidating else None)
        for name, region in regions.items()
    }


def _renderer(
    cfg: StackConfig, region: Region, table: GlobalTable, access: TableAccess, site: StaticSite, invalidates: ApiEdge | None
) -> EventPipeline:
    name = region.name
    bucket_arn = site.bucket_arns[name]
    prefixes = [PAGE_PREFIX, ANSWER_PREFIX] if cfg.stored_answers else [PAGE_PREFIX]
    pipeline = EventPipeline(
        f"pages-{name}",
        consumers.consumer_args(
            cfg,
            region,
            PACKAGE,
            source="dynamodb",
            stream_arn=table.stream_arns[name],
            source_key_arn=table.key_arns.get(name),
            filter_patterns=[post_pages_filter(views=invalidates is not None)],
            batch_size=25,
            iterator_age_alarm_ms=None,
            errors_alarm=False,
            environment={
                "TABLE_NAME": table.name,
                "SITE_BUCKET": site.bucket_names[name],
                "PAGE_EDGE_SECONDS": str(cfg.edge_cache_seconds),
                **(
                    {"STORED_ANSWERS": "true", "ANSWER_EDGE_SECONDS": str(cfg.stored_answer_seconds)}
                    if cfg.stored_answers
                    else {}
                ),
                **({"EDGE_DISTRIBUTION_ID": invalidates.distribution_id} if invalidates is not None else {}),
            },
            statements=[
                allow(["dynamodb:GetItem"], [table.arns[name]], "ReadPosts"),
                allow(["dynamodb:Query"], [pulumi.Output.concat(table.arns[name], "/index/", POSTS_INDEX)], "ListPosts"),
                # A stored answer carries the post's views: the sum of its counters (a query).
                *([allow(["dynamodb:Query"], [table.arns[name]], "ReadViewCounts")] if cfg.stored_answers else []),
                *access.key_use([name], "ReadPostsKey", write=False),
                allow(
                    ["s3:PutObject", "s3:DeleteObject"],
                    [pulumi.Output.concat(bucket_arn, "/", prefix, "*") for prefix in prefixes],
                    "WritePages",
                ),
                {
                    **allow(["s3:ListBucket"], [bucket_arn], "ListPages"),
                    "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*" for prefix in prefixes]}},
                },
                *(
                    [allow(["cloudfront:CreateInvalidation"], [invalidates.distribution_arn], "InvalidateStoredAnswers")]
                    if invalidates is not None
                    else []
                ),
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
