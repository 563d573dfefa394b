"""Welcome email: exactly one per subscriber across regions, none to suppressed addresses."""

from unittest import mock

from shared.items import subscriber_key

from verify.harness import FakeContext, dynamodb_insert, sent_emails


def subscriber(email: str, origin: str = "us-east-1") -> dict:
    return {**subscriber_key(email), "email": email, "origin_region": origin, "version": 1, "updated_at": "2026-11-24T00:00:00Z"}


def subscribed(regional, email: str, sequence: str, origin: str = "us-east-1") -> dict:
    """The subscriber item written to the table, and the stream record of its INSERT."""
    item = subscriber(email, origin)
    regional.table.put_item(Item=item)
    return dynamodb_insert(item, sequence)


def test_poisoned_record_is_the_only_failure(regional):
    from welcome.app import handler

    broken = {**subscriber_key("x@example.com"), "origin_region": "us-east-1", "version": 1}  # no email attribute
    event = {"Records": [subscribed(regional, "a@example.com", "1"), dynamodb_insert(broken, "2")]}
    assert handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    [message] = sent_emails()
    assert message.destinations == {"ToAddresses": ["a@example.com"]}
    assert message.source == "noreply@example.com"


def test_every_replica_stream_carries_the_insert_but_one_email_is_sent(regional):
    """GIVEN a subscription accepted in us-east-1, WHEN both regions' consumers receive the same
    stream records (each replica's stream carries every write), THEN only us-east-1 mails."""
    import welcome.app as welcome_app

    records = {"Records": [subscribed(regional, "reader@example.com", "10")]}
    for region in ("us-east-1", "us-west-2"):
        with mock.patch.object(welcome_app, "local_region", return_value=region):
            assert welcome_app.handler(records, FakeContext()) == {"batchItemFailures": []}
    assert [m.destinations["ToAddresses"] for m in sent_emails()] == [["reader@example.com"]]


def test_redelivered_record_sends_once(regional):
    from welcome.app import handler

    event = {"Records": [subscribed(regional, "twice@example.com", "20")]}
    handler(event, FakeContext())
    handler(event, FakeContext())
    assert len(sent_emails()) == 1


def test_suppressed_address_gets_no_email(regional):
    from welcome.app import handler

    regional.table.put_item(Item={"pk": "SUPPRESS#bounced@example.com", "sk": "SUPPRESS", "count": 1, "last_type": "bounce"})
    assert handler({"Records": [subscribed(regional, "bounced@example.com", "30")]}, FakeContext()) == {"batchItemFailures": []}
    assert sent_emails() == []


def test_updates_and_other_items_are_not_welcomed(regional):
    from welcome.app import handler

    update = dynamodb_insert(subscriber("old@example.com"), "40")
    update["eventName"] = "MODIFY"
    post = dynamodb_insert({"pk": "POST#" + "a" * 32, "sk": "POST", "origin_region": "us-east-1", "email": "x@example.com"}, "41")
    assert handler({"Records": [update, post]}, FakeContext()) == {"batchItemFailures": []}
    assert sent_emails() == []
