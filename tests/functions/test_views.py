"""Page-view consumer: per-region counters, poisoned records reported, duplicates counted once."""

import json
from unittest import mock

from api.posts import view_count

from tests.functions.conftest import FakeContext, kinesis_event

POST_A, POST_B = "a" * 32, "b" * 32


def view(post_id: str) -> bytes:
    return json.dumps({"post_id": post_id, "type": "view", "region": "us-east-1"}).encode()


def counter(table, post_id: str, region: str) -> int:
    item = table.get_item(Key={"pk": f"VIEWS#{post_id}", "sk": f"REGION#{region}"}).get("Item")
    return int(item["count"]) if item else 0


def test_poisoned_record_is_the_only_failure(regional):
    from views.app import handler

    event = kinesis_event(view(POST_A), b"\x00not json", view(POST_A), view(POST_B), first_sequence=100)
    assert handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    assert counter(regional.table, POST_A, "us-east-1") == 2
    assert counter(regional.table, POST_B, "us-east-1") == 1


def test_redelivered_batch_is_counted_once(regional):
    from views.app import handler

    event = kinesis_event(view(POST_A), view(POST_A), first_sequence=200)
    handler(event, FakeContext())
    handler(event, FakeContext())  # Kinesis retries whole batches
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_two_regions_counting_at_once_lose_nothing(regional):
    """Each region's consumer increments only its own shard, so no write of one region can be
    overwritten by the other's under last-writer-wins; the read sums the shards. (moto does not
    replicate global tables: both consumers write the one table that stands for the converged
    replicas.)"""
    import views.app as views_app

    streams = {r: f"arn:aws:kinesis:{r}:123456789012:stream/events" for r in ("us-east-1", "us-west-2")}
    for batch in range(5):
        for region, stream_arn in streams.items():
            event = kinesis_event(*[view(POST_A)] * 10, first_sequence=1000 + batch * 10, stream_arn=stream_arn)
            with mock.patch.object(views_app, "local_region", return_value=region):
                assert views_app.handler(event, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 50
    assert counter(regional.table, POST_A, "us-west-2") == 50
    assert view_count(regional.table, POST_A) == 100
