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

With the API's read edge (`STORED_ANSWERS`), each post's GET /posts/{id} answer is stored beside
its page (`api/posts/<id>`, JSON, as the API gives it, views included) and written again when the
post or one of its view counters changes: the edge answers a read of a post from the bucket at an
S3 request's price instead of a regional API call's. In the region the edge reads first
(`EDGE_DISTRIBUTION_ID` set), a change to the post itself also invalidates the edge's copy, so an
edit shows within the invalidation's time, while the view count the edge shows may be as old as
the edge keeps an answer (`ANSWER_EDGE_SECONDS`).

`{"render": "all"}` (the deploy's invocation, when the template or this code changes): every
live post rendered again, and pages and answers of posts no longer live removed.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
from datetime import datetime
from pathlib import Path
from string import Template
from typing import Any

from aws_lambda_powertools import Logger
from shared import aws, deadline
from shared.items import POSTS_INDEX, POSTS_PARTITION, is_live, json_default, local_region, post_answer, post_key

logger = Logger(service="pages")
TEMPLATE = Template((Path(__file__).with_name("post.html")).read_text())
PAGE_PREFIX = "posts/"
# The edge's origin path for stored answers is /api: a read of /posts/<id> is this key.
ANSWER_PREFIX = "api/posts/"
POST_PK_PREFIX = "POST#"
VIEWS_PK_PREFIX = "VIEWS#"
CONTENT_TYPE = "text/html; charset=utf-8"
REPORT_RESERVE_SECONDS = 2.0


def page_key(post_id: str) -> str:
    return f"{PAGE_PREFIX}{post_id}"


def answer_key(post_id: str) -> str:
    return f"{ANSWER_PREFIX}{post_id}"


def stores_answers() -> bool:
    return os.environ.get("STORED_ANSWERS") == "true"


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


def put_answer(table, post: dict[str, Any]) -> None:
    aws.client("s3").put_object(
        Bucket=os.environ["SITE_BUCKET"],
        Key=answer_key(post["id"]),
        Body=json.dumps(post_answer(table, post), default=json_default).encode(),
        ContentType="application/json",
        CacheControl=cache_control(int(os.environ.get("ANSWER_EDGE_SECONDS", "60"))),
    )


def remove_answer(post_id: str) -> None:
    aws.client("s3").delete_object(Bucket=os.environ["SITE_BUCKET"], Key=answer_key(post_id))


def render_post(post_id: str, *, post_changed: bool) -> str:
    """The page (when the post itself changed) and the stored answer as the post is now in this
    region: "rendered" or "removed"."""
    table = aws.table(os.environ["TABLE_NAME"])
    item = table.get_item(Key=post_key(post_id), ConsistentRead=True).get("Item")
    if is_live(item):
        if post_changed:
            put_page(item)
        if stores_answers():
            put_answer(table, item)
        return "rendered"
    remove_page(post_id)
    if stores_answers():
        remove_answer(post_id)
    return "removed"


def changed_posts(records: list[dict[str, Any]]) -> list[tuple[str, str, bool]]:
    """(post id, the sequence number of its first record, whether the post itself changed rather
    than only its view counters) in stream order, once per post."""
    first: dict[str, str] = {}
    post_changed: dict[str, bool] = {}
    for record in records:
        pk = ((record.get("dynamodb") or {}).get("Keys") or {}).get("pk", {}).get("S", "")
        prefix = next((p for p in (POST_PK_PREFIX, VIEWS_PK_PREFIX) if pk.startswith(p)), None)
        if prefix is None:
            logger.warning("not a post's record: skipped", extra={"event_id": record.get("eventID")})
            continue
        post_id = pk[len(prefix) :]
        first.setdefault(post_id, record["dynamodb"]["SequenceNumber"])
        post_changed[post_id] = post_changed.get(post_id, False) or prefix == POST_PK_PREFIX
    return [(post_id, sequence, post_changed[post_id]) for post_id, sequence in first.items()]


def invalidate(post_ids: list[str], reference: str) -> None:
    """The edge's stored answers of `post_ids` dropped (all their cached variants: an
    invalidation of a path covers every query string and header it was kept under). The same
    `reference` again (a batch delivered twice) is the same invalidation, not a second one."""
    distribution = os.environ.get("EDGE_DISTRIBUTION_ID")
    if not distribution or not post_ids:
        return
    paths = sorted(f"/posts/{post_id}" for post_id in post_ids)
    # CloudFront refuses a reference it saw with other paths: the paths are part of it.
    digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()[:16]
    aws.client("cloudfront").create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": len(paths), "Items": paths}, "CallerReference": f"{reference}-{digest}"},
    )


def render_changed(records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """Render every changed post; on a transient failure, report the earliest record not done
    (the stream delivers it and what follows again: rendering twice is harmless). The posts that
    changed themselves are invalidated at the edge once, after their answers are stored."""
    failed: list[str] = []
    edited: list[tuple[str, str]] = []
    for post_id, sequence, post_changed in changed_posts(records):
        try:
            outcome = render_post(post_id, post_changed=post_changed)
        except Exception as error:
            if not aws.is_transient(error):
                raise
            logger.warning("page not rendered: delivered again", extra={"post_id": post_id, "error": str(error)})
            failed.append(sequence)
            continue
        if post_changed:
            edited.append((post_id, sequence))
        logger.info("post page", extra={"post_id": post_id, "outcome": outcome, "post_changed": post_changed})
    # Only what is before the earliest failure: the rest is delivered again, and invalidated then.
    earliest = min(failed, key=int) if failed else None
    done = [(p, s) for p, s in edited if earliest is None or int(s) < int(earliest)]
    if done:
        try:
            invalidate([p for p, _ in done], f"posts-{min(int(s) for _, s in done)}")
        except Exception as error:
            if not aws.is_transient(error):
                raise
            logger.warning("edge not invalidated: delivered again", extra={"error": str(error)})
            # Every sequence in `done` is before any failed one: the earliest of them comes first.
            earliest = min((s for _, s in done), key=int)
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


def stored_ids(prefix: str) -> set[str]:
    listed = aws.client("s3").get_paginator("list_objects_v2").paginate(Bucket=os.environ["SITE_BUCKET"], Prefix=prefix)
    return {obj["Key"][len(prefix) :] for page in listed for obj in page.get("Contents", [])}


def render_all(reference: str) -> dict[str, int]:
    """Every live post's page and answer again (new code), none for a post not live, and the
    edge's stored answers dropped once (one wildcard path)."""
    table, posts = aws.table(os.environ["TABLE_NAME"]), live_posts()
    for post in posts:
        put_page(post)
        if stores_answers():
            put_answer(table, post)
    live = {post["id"] for post in posts}
    gone = stored_ids(PAGE_PREFIX) - live
    for post_id in sorted(gone):
        remove_page(post_id)
    if stores_answers():
        for post_id in sorted(stored_ids(ANSWER_PREFIX) - live):
            remove_answer(post_id)
        invalidate(["*"], reference)
    logger.info("every page rendered", extra={"rendered": len(posts), "removed": len(gone)})
    return {"rendered": len(posts), "removed": len(gone)}


@logger.inject_lambda_context
def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, REPORT_RESERVE_SECONDS):
        if event.get("render") == "all":
            return render_all(f"render-all-{context.aws_request_id}")
        return render_changed(event.get("Records") or [])
