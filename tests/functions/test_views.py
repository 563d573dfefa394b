"""Page-view consumer: per-region counters, each view once by its identity in any order, poison
skipped, a failed count or publish redelivered."""

import json
import os
import random
from unittest import mock

from api.posts import view_count

from verify.faults import FaultInjector, Rule, VirtualClock, injected
from verify.harness import FakeContext, kinesis_event

POST_A, POST_B = "a" * 32, "b" * 32


_ids = iter(range(10**9))


def view(post_id: str, view_id: str | None = None) -> bytes:
    """A page-view record as the API puts it on the transport (each its own request id)."""
    view_id = view_id or f"req-{next(_ids)}"
    return json.dumps({"post_id": post_id, "type": "view", "region": "us-east-1", "view_id": view_id}).encode()


def counter(table, post_id: str, region: str) -> int:
    item = table.get_item(Key={"pk": f"VIEWS#{post_id}", "sk": f"REGION#{region}"}).get("Item")
    return int(item["count"]) if item else 0


def test_a_record_that_is_not_a_view_is_skipped_not_failed(regional, capsys):
    from views.app import handler

    event = kinesis_event(view(POST_A), b"\x00not json", view(POST_A), view(POST_B), first_sequence=100)
    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 2
    assert counter(regional.table, POST_B, "us-east-1") == 1
    assert '"BadViewRecords":[1.0]' in capsys.readouterr().out.replace(" ", "")


def test_redelivered_batch_is_counted_once(regional):
    from views.app import handler

    event = kinesis_event(view(POST_A), view(POST_A), first_sequence=200)
    handler(event, FakeContext())
    handler(event, FakeContext())  # Kinesis retries whole batches
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_replayed_and_reordered_records_are_each_counted_once(regional):
    """The outside check's case: the same records redelivered in shuffled order. A high-water mark
    of the last sequence counted dropped 159 of 200; counting by identity drops none."""
    from views.app import handler

    records = kinesis_event(*[view(POST_A) for _ in range(200)], first_sequence=5_000)["Records"]
    rng = random.Random(3)
    deliveries = records + [r for r in records if rng.random() < 0.6]
    rng.shuffle(deliveries)
    for start in range(0, len(deliveries), 37):
        assert handler({"Records": deliveries[start : start + 37]}, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 200 == view_count(regional.table, POST_A)


def test_without_the_marks_the_same_replay_counts_too_many(regional):
    """The measure can fail: with the marks' condition gone, replays are counted again."""
    from shared import view_counts
    from views.app import handler

    real = view_counts._tally_items

    def unmarked(tallies):
        with mock.patch.dict(os.environ, {}), mock.patch.object(view_counts, "mark_key", lambda _id: f"view#{next(_ids)}"):
            return real(tallies)

    records = kinesis_event(*[view(POST_A) for _ in range(20)], first_sequence=6_000)["Records"]
    with mock.patch.object(view_counts, "_tally_items", unmarked):
        handler({"Records": records}, FakeContext())
        handler({"Records": records[::-1]}, FakeContext())
    assert counter(regional.table, POST_A, "us-east-1") == 40


def test_a_failed_count_is_reported_and_its_redelivery_counts_once(regional):
    """GIVEN the transaction failing for post A, WHEN A's and B's views arrive in one batch, THEN
    A's records are reported failed and B's are counted; the redelivery counts A's once."""
    from views.app import handler

    records = kinesis_event(view(POST_A), view(POST_B), view(POST_A), first_sequence=300)["Records"]
    rule = Rule(fault="http500", operations=frozenset({"TransactWriteItems"}), body_contains=f"views-counter#{POST_A}")
    with injected(FaultInjector(VirtualClock(), rules=[rule])):
        first = handler({"Records": records}, FakeContext())
    assert first == {"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "302"}]}
    assert (counter(regional.table, POST_A, "us-east-1"), counter(regional.table, POST_B, "us-east-1")) == (0, 1)
    assert handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}  # from the checkpoint
    assert (counter(regional.table, POST_A, "us-east-1"), counter(regional.table, POST_B, "us-east-1")) == (2, 1)


def test_a_failed_publish_is_made_again_by_the_redelivery(regional):
    """GIVEN the views counted locally but the global item's update failing, THEN the records are
    reported failed; their redelivery counts nothing again and publishes the exact count."""
    from views.app import handler

    records = kinesis_event(view(POST_A), view(POST_A), first_sequence=400)["Records"]
    rule = Rule(fault="http503", operations=frozenset({"UpdateItem"}), tables=frozenset({"app-table"}))
    with injected(FaultInjector(VirtualClock(), rules=[rule])):
        assert len(handler({"Records": records}, FakeContext())["batchItemFailures"]) == 2
    assert counter(regional.table, POST_A, "us-east-1") == 0
    assert handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_counters_are_exact_under_random_failures_and_redeliveries(regional):
    """Random 20 % DynamoDB failures on every call; failed records redelivered, one batch in five
    delivered twice and batches shuffled: the count equals the views sent."""
    from views.app import handler

    rng = random.Random(11)
    sent = 0
    with injected(FaultInjector(VirtualClock(), seed=11, rules=[Rule(fault="http503", rate=0.2)])):
        for batch in range(40):
            records = kinesis_event(*[view(POST_A) for _ in range(rng.randint(1, 8))], first_sequence=1000 + batch * 10)[
                "Records"
            ]
            sent += len(records)
            for _ in range(30):
                rng.shuffle(records)
                failures = {f["itemIdentifier"] for f in handler({"Records": records}, FakeContext())["batchItemFailures"]}
                if not failures:
                    break
                records = [r for r in records if r["kinesis"]["sequenceNumber"] in failures]
            assert not failures
            if rng.random() < 0.2:
                handler({"Records": records}, FakeContext())
    assert counter(regional.table, POST_A, "us-east-1") == sent == view_count(regional.table, POST_A)


def fifo(*posts: str, first_sequence: int, group: str) -> dict:
    from verify.harness import sqs_fifo_event

    return sqs_fifo_event(*[view(p).decode() for p in posts], group=group, first_sequence=first_sequence)


def test_from_the_fifo_queue_a_redelivered_message_is_counted_once(regional):
    from views.app import handler

    event = fifo(POST_A, POST_A, first_sequence=5000, group=POST_A)
    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    assert handler(event, FakeContext()) == {"batchItemFailures": []}  # SQS redelivers after a lost delete
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_a_failing_message_stops_only_its_own_group(regional):
    """GIVEN DynamoDB refusing post A's count, WHEN a batch holds A's views and B's, THEN A's are
    all reported failed (its group's order holds) while B's are counted; the redelivery of A
    counts each of its views once."""
    from views.app import handler

    a = fifo(POST_A, POST_A, first_sequence=7000, group=POST_A)["Records"]
    b = fifo(POST_B, POST_B, first_sequence=9000, group=POST_B)["Records"]
    event = {"Records": [a[0], b[0], a[1], b[1]]}
    rule = Rule(fault="http500", operations=frozenset({"TransactWriteItems"}), body_contains=f"views-counter#{POST_A}")
    with injected(FaultInjector(VirtualClock(), rules=[rule])):
        first = handler(event, FakeContext())
    assert {f["itemIdentifier"] for f in first["batchItemFailures"]} == {a[0]["messageId"], a[1]["messageId"]}
    assert (counter(regional.table, POST_A, "us-east-1"), counter(regional.table, POST_B, "us-east-1")) == (0, 2)
    assert handler({"Records": a}, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_switching_transport_keeps_counting(regional):
    from views.app import handler

    handler(kinesis_event(view(POST_A), first_sequence=49_600_000_000_000_000_000_000_000), FakeContext())
    handler(fifo(POST_A, first_sequence=100, group=POST_A), FakeContext())
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_counts_made_before_the_local_counters_are_kept(regional):
    """A stack upgraded from the high-water-mark counters: the region's item already says 7."""
    from views.app import handler

    regional.table.put_item(Item={"pk": f"VIEWS#{POST_A}", "sk": "REGION#us-east-1", "count": 7, "last_sequence": "9" * 64})
    handler(kinesis_event(view(POST_A), first_sequence=1), FakeContext())
    assert counter(regional.table, POST_A, "us-east-1") == 8


def _analytics_stream(regional, monkeypatch) -> str:
    """A moto delivery stream writing to a bucket, named in the consumer's environment."""
    import boto3

    s3 = regional.s3
    s3.create_bucket(Bucket="analytics-test")
    firehose = boto3.client("firehose", region_name="us-east-1")
    firehose.create_delivery_stream(
        DeliveryStreamName="views-analytics",
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::analytics-test",
            "Prefix": "page_views/",
        },
    )
    monkeypatch.setenv("ANALYTICS_DELIVERY_STREAM", "views-analytics")
    return "analytics-test"


def _delivered(s3, bucket: str) -> list[dict]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    body = "".join(s3.get_object(Bucket=bucket, Key=k)["Body"].read().decode() for k in keys)
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_views_from_the_queue_reach_analytics_as_records_of_the_glue_schema(regional, monkeypatch):
    """GIVEN the SQS transport and an analytics delivery stream, WHEN views are consumed, THEN
    each is counted once and delivered to analytics with every field the Glue table reads."""
    from shared.page_view import record_schema
    from views.app import handler

    bucket = _analytics_stream(regional, monkeypatch)
    record = {
        "post_id": POST_A,
        "type": "view",
        "reader": "c" * 32,
        "view_id": "req-1",
        "region": "us-east-1",
        "at": "2026-11-26T09:00:00.000Z",
    }
    event = __import__("verify.harness", fromlist=["sqs_fifo_event"]).sqs_fifo_event(
        json.dumps(record), json.dumps({**record, "reader": None, "view_id": "req-2"}), group=POST_A, first_sequence=100
    )
    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    delivered = _delivered(regional.s3, bucket)
    # One object per put here (moto), keyed so their order is not the put order.
    assert sorted(delivered, key=lambda r: r["reader"] or "") == [{**record, "reader": None, "view_id": "req-2"}, record]
    assert all(set(r) == set(record_schema()["properties"]) for r in delivered)
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_a_failed_put_to_analytics_fails_the_message_and_the_retry_still_counts_once(regional, monkeypatch):
    """GIVEN Firehose refusing every put, WHEN a batch is consumed, THEN its messages are reported
    failed after counting; WHEN they come back, THEN the counter is exact (their marks are found)
    and the views reach analytics."""
    from views.app import handler

    bucket = _analytics_stream(regional, monkeypatch)
    event = fifo(POST_A, POST_A, first_sequence=300, group=POST_A)
    rule = Rule(fault="http500", service="firehose", operations=frozenset({"PutRecord"}))
    with injected(FaultInjector(VirtualClock(), rules=[rule])):
        failed = handler(event, FakeContext())["batchItemFailures"]
    # Both views were counted; neither reached analytics, so both come back.
    assert len(failed) == 2
    assert counter(regional.table, POST_A, "us-east-1") == 2 and _delivered(regional.s3, bucket) == []
    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 2
    assert [r["post_id"] for r in _delivered(regional.s3, bucket)] == [POST_A, POST_A]
