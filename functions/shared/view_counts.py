"""Page views counted exactly once by their identity, whatever order and however often they arrive.

Each region counts into its own counter item (`VIEWS#<post>` / `REGION#<region>`) of the global
table: an item only one region writes cannot lose an increment to last-writer-wins, and counting
does not wait for the primary. The API reads the sum.

Exactly once: every view has an identity (the API request that recorded it, or the edge's request
id). A chunk of one post's views is counted in one transaction in the region-local table (the
idempotency table, which is never replicated): one `view#<id>` mark per view, created only if
absent, and an increment of the region's local counter by the number of new marks. A view seen
before (a redelivered record, a replayed batch, a redrive from a DLQ days later, in any order)
finds its mark, the transaction is cancelled naming it, and the chunk is counted again without
it. No high-water mark is kept, so nothing depends on the order of delivery. Marks expire after
MARK_DAYS, longer than any replay window (SQS retention, a stream's 24 h, a DLQ's 14 days).

The local counter is then published to the global table's item as an absolute value that only
grows (SET count = :c if it is higher): idempotent, so a publish that failed is made again by the
redelivery the failure causes (which finds every mark and counts nothing twice). The transaction
stays inside one ordinary table, so this works with strong consistency too (MRSC tables take no
transactions).

Cost per view: one transactional mark (2 write units); per post and batch: the counter's
increment, two consistent reads and one replicated update of the published count.

A tally (`count_tallies`, the edge's log files) is many posts' views counted under one mark: the
marks of several files and the increments of every post they name go in one transaction (at most
100 items), so a batch of files costs one mark per file and one increment and one publish per
post, not a mark per (file, post). A file naming more posts than a transaction holds is counted
as weighted views, one mark per (file, post): the same file always takes the same way, since its
content never changes.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared import aws
from shared.items import local_region, now_iso, views_key

MARK_DAYS = 15
# TransactWriteItems takes 100 items: 99 marks and the counter.
CHUNK = 99
TRANSACTION_ITEMS = 100


@dataclass(frozen=True)
class View:
    post_id: str
    view_id: str
    source: str  # what to report failed: the record or message the view came in
    # How many views the identity stands for: 1, or a log file's views of one post counted under
    # one mark (functions/edge_views: a file is counted once, whatever its number of lines).
    weight: int = 1


@dataclass(frozen=True)
class Tally:
    """Views of several posts counted once under one identity (a log file)."""

    mark_id: str
    views: Mapping[str, int]  # post id -> views
    source: str


@dataclass
class Counted:
    counted: int = 0
    already_counted: int = 0
    failed_sources: set[str] = field(default_factory=set)


def mark_key(view_id: str) -> str:
    return f"view#{view_id}"


def count(views: Iterable[View]) -> Counted:
    """Count `views` into this region's counters; what could not be counted and published now is
    named by its source (a transient failure): the caller reports it for redelivery."""
    by_post: dict[str, list[View]] = defaultdict(list)
    for view in views:
        by_post[view.post_id].append(view)
    result = Counted()
    for post_id, post_views in by_post.items():
        unique = list({v.view_id: v for v in post_views}.values())  # twice in one batch is one view
        result.already_counted += sum(v.weight for v in post_views) - sum(v.weight for v in unique)
        try:
            _seed_if_new(post_id)
            counted = sum(_count_chunk(post_id, unique[i : i + CHUNK]) for i in range(0, len(unique), CHUNK))
            _publish(post_id)
        except Exception as error:
            if not aws.is_transient(error):
                raise
            result.failed_sources |= {v.source for v in post_views}
            continue
        result.counted += counted
        result.already_counted += sum(v.weight for v in unique) - counted
    return result


def _count_chunk(post_id: str, chunk: list[View]) -> int:
    """One transaction for the chunk's new views; returns how many views (their weights) were new."""
    return _count_group([Tally(v.view_id, {post_id: v.weight}, v.source) for v in chunk])


def count_tallies(tallies: Iterable[Tally]) -> Counted:
    """Count each tally once, in transactions that each hold the marks of several tallies and one
    increment per post they name; what failed transiently is named by its source."""
    unique = list({t.mark_id: t for t in tallies if t.views}.values())
    wide = [t for t in unique if len(t.views) >= TRANSACTION_ITEMS]
    result = count(View(post, f"{t.mark_id}:{post}", t.source, weight=n) for t in wide for post, n in t.views.items())
    for group in _groups([t for t in unique if len(t.views) < TRANSACTION_ITEMS]):
        posts = sorted({post for t in group for post in t.views})
        try:
            for post_id in posts:
                _seed_if_new(post_id)
            counted = _count_group(group)
            for post_id in posts:
                _publish(post_id)
        except Exception as error:
            if not aws.is_transient(error):
                raise
            result.failed_sources |= {t.source for t in group}
            continue
        result.counted += counted
        result.already_counted += sum(sum(t.views.values()) for t in group) - counted
    return result


def _groups(tallies: list[Tally]) -> Iterable[list[Tally]]:
    """The tallies in groups whose marks and distinct posts fit one transaction."""
    group: list[Tally] = []
    posts: set[str] = set()
    for tally in tallies:
        if group and len(group) + 1 + len(posts | set(tally.views)) > TRANSACTION_ITEMS:
            yield group
            group, posts = [], set()
        group.append(tally)
        posts |= set(tally.views)
    if group:
        yield group


def _count_group(group: list[Tally]) -> int:
    """One transaction for the group's tallies not counted before; returns their views. A
    cancelled transaction names the marks that exist: those tallies are left out, the rest tried again."""
    from botocore.exceptions import ClientError

    pending = list(group)
    while pending:
        items = _tally_items(pending)
        try:
            aws.client("dynamodb").transact_write_items(TransactItems=items)
            return sum(sum(t.views.values()) for t in pending)
        except ClientError as error:
            if aws.error_code(error) != "TransactionCanceledException":
                raise
            codes = [r.get("Code") for r in error.response.get("CancellationReasons") or []]
            if len(codes) != len(items) or any(c not in ("None", "ConditionalCheckFailed") for c in codes):
                raise  # throttling, a conflicting transaction: transient
            seen = {pending[i].mark_id for i, code in enumerate(codes[: len(pending)]) if code == "ConditionalCheckFailed"}
            if not seen:
                raise
            pending = [t for t in pending if t.mark_id not in seen]
    return 0


def _tally_items(tallies: list[Tally]) -> list[dict]:
    """The tallies' marks first (a cancellation names them by index), then one increment per post."""
    totals: dict[str, int] = defaultdict(int)
    for tally in tallies:
        for post_id, views in tally.views.items():
            totals[post_id] += views
    return [_mark(t.mark_id) for t in tallies] + [_increment(post_id, views) for post_id, views in sorted(totals.items())]


def local_counter_id(post_id: str) -> str:
    return f"views-counter#{post_id}"


def _mark(view_id: str) -> dict:
    """A transaction's item: the identity's mark, created only if absent."""
    expires = int(time.time() + MARK_DAYS * 86400)
    return {
        "Put": {
            "TableName": os.environ["IDEMPOTENCY_TABLE"],
            "Item": {"id": {"S": mark_key(view_id)}, "expiration": {"N": str(expires)}},
            "ConditionExpression": "attribute_not_exists(id)",
        }
    }


def _increment(post_id: str, views: int) -> dict:
    """A transaction's item: the post's local counter raised by `views`."""
    return {
        "Update": {
            "TableName": os.environ["IDEMPOTENCY_TABLE"],
            "Key": {"id": {"S": local_counter_id(post_id)}},
            "UpdateExpression": "ADD #count :n",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {":n": {"N": str(views)}},
        }
    }


def _seed_if_new(post_id: str) -> None:
    """A post's first local counter in this region starts from what the region's item already
    says (counts made before the local counters existed), so publishing never stalls below it."""
    from botocore.exceptions import ClientError

    client = aws.client("dynamodb")
    counter_key = {"id": {"S": local_counter_id(post_id)}}
    if client.get_item(TableName=os.environ["IDEMPOTENCY_TABLE"], Key=counter_key, ConsistentRead=True).get("Item"):
        return
    key = views_key(post_id, local_region())
    published = client.get_item(
        TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}, ConsistentRead=True
    ).get("Item")
    start = (published or {}).get("count", {"N": "0"})
    try:
        client.put_item(
            TableName=os.environ["IDEMPOTENCY_TABLE"],
            Item={**counter_key, "count": start},
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as error:
        if aws.error_code(error) != "ConditionalCheckFailedException":
            raise


def _publish(post_id: str) -> None:
    """The region's local count into its counter item of the global table, never backwards."""
    from botocore.exceptions import ClientError

    client = aws.client("dynamodb")
    local = client.get_item(
        TableName=os.environ["IDEMPOTENCY_TABLE"], Key={"id": {"S": local_counter_id(post_id)}}, ConsistentRead=True
    ).get("Item")
    if not local:
        return
    region = local_region()
    key = views_key(post_id, region)
    try:
        client.update_item(
            TableName=os.environ["TABLE_NAME"],
            Key={"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}},
            UpdateExpression="SET #count = :count, origin_region = :region, updated_at = :now ADD #version :one",
            ConditionExpression="attribute_not_exists(#count) OR #count < :count",
            ExpressionAttributeNames={"#count": "count", "#version": "version"},
            ExpressionAttributeValues={
                ":count": local["count"],
                ":one": {"N": "1"},
                ":region": {"S": region},
                ":now": {"S": now_iso()},
            },
        )
    except ClientError as error:
        # ConditionalCheckFailed: already published as high or higher, nothing to do.
        if aws.error_code(error) != "ConditionalCheckFailedException":
            raise
