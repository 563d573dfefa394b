"""Page-view consumer: per-region counters, exactly once by sequence number, poison skipped."""

import json
import random

from api.posts import view_count

from verify.faults import FaultInjector, Rule, VirtualClock, injected
from verify.harness import FakeContext, kinesis_event

POST_A, POST_B = "a" * 32, "b" * 32


def view(post_id: str) -> bytes:
    return json.dumps({"post_id": post_id, "type": "view", "region": "us-east-1"}).encode()


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


def test_a_failing_record_stops_its_batch_so_the_order_holds(regional):
    """GIVEN DynamoDB refusing the second increment, WHEN a batch of four views is delivered,
    THEN the second and everything after it are reported failed (not counted past the gap), and
    the redelivery from the checkpoint counts each view exactly once."""
    from views.app import handler

    event = kinesis_event(*[view(POST_A)] * 4, first_sequence=300)
    with injected(
        FaultInjector(
            VirtualClock(), rules=[Rule(fault="http500", operations=frozenset({"UpdateItem"}), body_contains="0000301")]
        )
    ):
        first = handler(event, FakeContext())
    assert first == {"batchItemFailures": [{"itemIdentifier": str(s)} for s in (301, 302, 303)]}
    assert counter(regional.table, POST_A, "us-east-1") == 1
    redelivered = {"Records": event["Records"][1:]}
    assert handler(redelivered, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 4


def test_counters_are_exact_under_random_failures_and_redeliveries(regional):
    """Random 20 % DynamoDB failures; every failed batch redelivered from its first failure, and
    one batch in five delivered twice: the count equals the views sent, in each region."""
    from views.app import handler

    rng = random.Random(11)
    sent = 0
    with injected(
        FaultInjector(VirtualClock(), seed=11, rules=[Rule(fault="http503", rate=0.2, operations=frozenset({"UpdateItem"}))])
    ):
        for batch in range(40):
            records = kinesis_event(*[view(POST_A)] * rng.randint(1, 8), first_sequence=1000 + batch * 10)["Records"]
            sent += len(records)
            for _ in range(20):
                failures = handler({"Records": records}, FakeContext())["batchItemFailures"]
                if not failures:
                    break
                first_failed = int(failures[0]["itemIdentifier"])
                records = [r for r in records if int(r["kinesis"]["sequenceNumber"]) >= first_failed]
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
    """GIVEN DynamoDB refusing the first increment of post A, WHEN a batch holds A's views and
    B's, THEN A's are all reported failed (its order holds) while B's are counted; the redelivery
    of A counts each of its views once."""
    from views.app import handler

    a = fifo(POST_A, POST_A, first_sequence=7000, group=POST_A)["Records"]
    b = fifo(POST_B, POST_B, first_sequence=9000, group=POST_B)["Records"]
    event = {"Records": [a[0], b[0], a[1], b[1]]}
    with injected(
        FaultInjector(VirtualClock(), rules=[Rule(fault="http500", operations=frozenset({"UpdateItem"}), body_contains="7000")])
    ):
        first = handler(event, FakeContext())
    assert {f["itemIdentifier"] for f in first["batchItemFailures"]} == {a[0]["messageId"], a[1]["messageId"]}
    assert (counter(regional.table, POST_A, "us-east-1"), counter(regional.table, POST_B, "us-east-1")) == (0, 2)
    assert handler({"Records": a}, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_switching_transport_keeps_counting(regional):
    """Kinesis and SQS sequence numbers are not comparable: each has its own counter attribute."""
    from views.app import handler

    handler(kinesis_event(view(POST_A), first_sequence=49_600_000_000_000_000_000_000_000), FakeContext())
    handler(fifo(POST_A, first_sequence=100, group=POST_A), FakeContext())
    assert counter(regional.table, POST_A, "us-east-1") == 2


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
        json.dumps(record), json.dumps({**record, "reader": None}), group=POST_A, first_sequence=100
    )
    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    delivered = _delivered(regional.s3, bucket)
    # One object per put here (moto), keyed so their order is not the put order.
    assert sorted(delivered, key=lambda r: r["reader"] or "") == [{**record, "reader": None}, record]
    assert all(set(r) == set(record_schema()["properties"]) for r in delivered)
    assert counter(regional.table, POST_A, "us-east-1") == 2


def test_a_failed_put_to_analytics_fails_the_message_and_the_retry_still_counts_once(regional, monkeypatch):
    """GIVEN Firehose refusing every put, WHEN a batch is consumed, THEN it fails (Lambda gives it
    back to the queue) after counting; WHEN it comes back, THEN the counter is exact (the
    redelivery is recognised) and the views reach analytics."""
    import pytest
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
    from views.app import handler

    bucket = _analytics_stream(regional, monkeypatch)
    event = fifo(POST_A, POST_A, first_sequence=300, group=POST_A)
    rule = Rule(fault="http500", service="firehose", operations=frozenset({"PutRecord"}))
    with injected(FaultInjector(VirtualClock(), rules=[rule])), pytest.raises(BatchProcessingError):
        handler(event, FakeContext())
    # The first view was counted before its put failed; the group stopped there (order holds).
    assert counter(regional.table, POST_A, "us-east-1") == 1 and _delivered(regional.s3, bucket) == []
    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A, "us-east-1") == 2
    assert [r["post_id"] for r in _delivered(regional.s3, bucket)] == [POST_A, POST_A]
