"""Each post as a page of its own in this region's site bucket (`posts/<id>`), rendered when the
post is written: a reader's view of a post is then one request to the site's distribution, the
page and its shell at once, cached at the edge and failing over between the regions' buckets
there, and counted from that distribution's logs (functions/edge_views).

Every region renders into its own bucket from its own replica's stream: the global table carries
every post to every region, so a region whose peers are gone still renders what reaches it. A
page is a function of the post's current item in this region (read consistently), never of the
stream record's image, so records delivered twice, late or in a retried batch render the same
page; a post that is gone or a tombstone loses its page.

Browsers revalidate a page every time (`max-age=0`, each a request the logs count); the edge
keeps it `PAGE_EDGE_SECONDS` (`s-maxage`): a change shows within that plus the replica's lag.

`{"render": "all"}` (the deploy's invocation, when the template or this code changes): every
live post rendered again, and pages of posts no longer live removed.
"""

from __future__ import annotations

import html
import os
from datetime import datetime
from pathlib import Path
from string import Template
from typing import Any

from aws_lambda_powertools import Logger
from shared import aws, deadline
from shared.items import POSTS_INDEX, POSTS_PARTITION, is_live, local_region, post_key

logger = Logger(service="pages")
TEMPLATE = Template((Path(__file__).with_name("post.html")).read_text())
PAGE_PREFIX = "posts/"
POST_PK_PREFIX = "POST#"
CONTENT_TYPE = "text/html; charset=utf-8"
REPORT_RESERVE_SECONDS = 2.0


def page_key(post_id: str) -> str:
    return f"{PAGE_PREFIX}{post_id}"


def cache_control(edge_seconds: int) -> str:
    """Browsers ask again on every view (the edge's log sees each); the edge keeps the page."""
    return f"public, max-age=0, s-maxage={edge_seconds}"


def created_on(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return f"{moment:%B} {moment.day}, {moment.year}"


def render(post: dict[str, Any], region: str) -> str:
    """The post's page: every value escaped, the text as plain text (site/post.js shows its markup)."""
    values = {
        "title": str(post.get("title", "")),
        "created_at": str(post.get("created_at", "")),
        "created_on": created_on(str(post.get("created_at", ""))),
        "body": str(post.get("body", "")),
        "region": region,
        "version": str(int(post.get("version", 1))),
    }
    return TEMPLATE.substitute({name: html.escape(value, quote=True) for name, value in values.items()})


def put_page(post: dict[str, Any]) -> None:
    aws.client("s3").put_object(
        Bucket=os.environ["SITE_BUCKET"],
        Key=page_key(post["id"]),
        Body=render(post, local_region()).encode(),
        ContentType=CONTENT_TYPE,
        CacheControl=cache_control(int(os.environ.get("PAGE_EDGE_SECONDS", "60"))),
    )


def remove_page(post_id: str) -> None:
    aws.client("s3").delete_object(Bucket=os.environ["SITE_BUCKET"], Key=page_key(post_id))


def render_post(post_id: str) -> str:
    """The page as the post is now in this region: "rendered" or "removed"."""
    item = aws.table(os.environ["TABLE_NAME"]).get_item(Key=post_key(post_id), ConsistentRead=True).get("Item")
    if is_live(item):
        put_page(item)
        return "rendered"
    remove_page(post_id)
    return "removed"


def changed_posts(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(post id, the sequence number of its first record) in stream order, once per post."""
    posts: dict[str, str] = {}
    for record in records:
        pk = ((record.get("dynamodb") or {}).get("Keys") or {}).get("pk", {}).get("S", "")
        if not pk.startswith(POST_PK_PREFIX):
            logger.warning("not a post's record: skipped", extra={"event_id": record.get("eventID")})
            continue
        posts.setdefault(pk[len(POST_PK_PREFIX) :], record["dynamodb"]["SequenceNumber"])
    return list(posts.items())


def render_changed(records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Render every changed post; on a transient failure, report the earliest record not done
    (the stream delivers it and what follows again: rendering twice is harmless)."""
    failed: list[str] = []
    for post_id, sequence in changed_posts(records):
        try:
            outcome = render_post(post_id)
        except Exception as error:
            if not aws.is_transient(error):
                raise
            logger.warning("page not rendered: delivered again", extra={"post_id": post_id, "error": str(error)})
            failed.append(sequence)
            continue
        logger.info("post page", extra={"post_id": post_id, "outcome": outcome})
    earliest = min(failed, key=int) if failed else None
    return {"batchItemFailures": [{"itemIdentifier": earliest}] if earliest else []}


def live_posts() -> list[dict[str, Any]]:
    from boto3.dynamodb.conditions import Key

    table, posts, start = aws.table(os.environ["TABLE_NAME"]), [], None
    while True:
        query: dict[str, Any] = {"IndexName": POSTS_INDEX, "KeyConditionExpression": Key("gsi1pk").eq(POSTS_PARTITION)}
        if start:
            query["ExclusiveStartKey"] = start
        page = table.query(**query)
        posts += [item for item in page.get("Items", []) if is_live(item)]
        start = page.get("LastEvaluatedKey")
        if not start:
            return posts


def page_ids() -> set[str]:
    pages = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=os.environ["SITE_BUCKET"], Prefix=PAGE_PREFIX)
    return {obj["Key"][len(PAGE_PREFIX) :] for page in pages for obj in page.get("Contents", [])}


def render_all() -> dict[str, int]:
    """Every live post's page again (a new template), and no page for a post not live."""
    posts = live_posts()
    for post in posts:
        put_page(post)
    gone = page_ids() - {post["id"] for post in posts}
    for post_id in sorted(gone):
        remove_page(post_id)
    logger.info("every page rendered", extra={"rendered": len(posts), "removed": len(gone)})
    return {"rendered": len(posts), "removed": len(gone)}


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        if event.get("render") == "all":
            return render_all()
        return render_changed(event.get("Records") or [])
