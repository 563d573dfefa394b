"""Write-retry consumer: applies deferred intents once, reports poison, records every fate."""

from shared import writes
from shared.items import subscriber_key

from verify.harness import FakeContext, sqs_event


def subscriber_intent(email: str, write_id: str) -> writes.WriteIntent:
    item = {**subscriber_key(email), "email": email}
    return writes.WriteIntent(
        write_id=write_id,
        route="POST /subscribers",
        body_hash=writes.body_hash({"email": email}),
        kind="subscribe",
        key=subscriber_key(email),
        item=item,
        accepted_region="us-east-1",
        accepted_at="2026-11-26T00:00:00.000Z",
    )


def context():
    return FakeContext(function_name="retry", timeout_ms=30_000)


def test_poisoned_messages_are_the_only_failures_and_the_rest_is_applied(regional):
    from retry.app import handler

    good = subscriber_intent("a@example.com", "w-good-1")
    event = sqs_event(good.to_json(), "{not json", '{"write_id": "x", "kind": "upsert"}', ids=["ok", "poison-1", "poison-2"])
    assert handler(event, context()) == {"batchItemFailures": [{"itemIdentifier": "poison-1"}, {"itemIdentifier": "poison-2"}]}
    assert regional.table.get_item(Key=good.key)["Item"]["email"] == "a@example.com"


def test_duplicate_delivery_has_one_effect_and_one_record(regional):
    from retry.app import handler

    intent = subscriber_intent("b@example.com", "w-dup-1")
    for _ in range(3):
        assert handler(sqs_event(intent.to_json()), context()) == {"batchItemFailures": []}
    record = regional.table.get_item(Key={"pk": "REQ#w-dup-1", "sk": "REQ"})["Item"]
    assert record["state"] == "applied" and record["http_status"] == 201
    subscribers = [i for i in regional.table.scan()["Items"] if i["pk"].startswith("SUB#")]
    assert len(subscribers) == 1 and subscribers[0]["write_id"] == "w-dup-1"


def test_an_intent_that_no_longer_applies_is_rejected_and_recorded_not_retried(regional):
    from retry.app import handler

    key = {"pk": "POST#" + "c" * 32, "sk": "POST"}
    regional.table.put_item(Item={**key, "version": 5, "title": "newer"})
    stale = writes.WriteIntent(
        write_id="w-stale",
        route="PUT /posts/{id}",
        body_hash="h" * 64,
        kind="update",
        key=key,
        item={"title": "old"},
        expected_version=1,
        accepted_region="us-east-1",
        accepted_at="2026-11-26T00:00:00.000Z",
    )
    assert handler(sqs_event(stale.to_json()), context()) == {"batchItemFailures": []}
    assert regional.table.get_item(Key=key)["Item"]["title"] == "newer"
    record = regional.table.get_item(Key={"pk": "REQ#w-stale", "sk": "REQ"})["Item"]
    assert record["state"] == "rejected" and record["http_status"] == 409
    assert record["reason"] == "the post changed since version 1 (now 5); read it again"
