"""Write-retry consumer: applies deferred intents once, reports poison, drops conflicts."""

from unittest import mock

from shared.items import stamp, subscriber_key
from shared.write_intents import WriteIntent

from tests.functions.conftest import FakeContext, sqs_event


def subscriber_intent(email: str, request_id: str) -> WriteIntent:
    item = stamp({**subscriber_key(email), "email": email}, version=1)
    return WriteIntent(request_id=request_id, op="create", key=subscriber_key(email), item=item)


def test_poisoned_message_is_the_only_failure_and_the_rest_is_applied(regional):
    from retry.app import handler

    good = subscriber_intent("a@example.com", "req-good-1")
    event = sqs_event(good.to_json(), "{not json", '{"request_id": "x", "op": "upsert"}', ids=["ok", "poison-1", "poison-2"])
    result = handler(event, FakeContext())
    assert result == {"batchItemFailures": [{"itemIdentifier": "poison-1"}, {"itemIdentifier": "poison-2"}]}
    assert regional.table.get_item(Key=good.key)["Item"]["email"] == "a@example.com"


def test_duplicate_delivery_has_one_side_effect(regional):
    import retry.app as retry_app

    intent = subscriber_intent("b@example.com", "req-dup-1")
    with mock.patch.object(retry_app, "apply", wraps=retry_app.apply) as applied:
        assert retry_app.handler(sqs_event(intent.to_json()), FakeContext()) == {"batchItemFailures": []}
        assert retry_app.handler(sqs_event(intent.to_json()), FakeContext()) == {"batchItemFailures": []}
    assert applied.call_count == 1


def test_intent_that_no_longer_applies_is_dropped_not_retried(regional):
    from retry.app import handler

    key = {"pk": "POST#" + "c" * 32, "sk": "POST"}
    regional.table.put_item(Item={**key, "version": 5, "title": "newer"})
    stale = WriteIntent(
        request_id="req-stale", op="update", key=key, item={**key, "version": 2, "title": "old"}, expected_version=1
    )
    assert handler(sqs_event(stale.to_json()), FakeContext()) == {"batchItemFailures": []}
    assert regional.table.get_item(Key=key)["Item"]["title"] == "newer"
