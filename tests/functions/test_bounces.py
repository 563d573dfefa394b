"""Bounces and complaints: suppression items from untrusted SES events."""

import json

import pytest

from verify.harness import FakeContext, sqs_event


def bounce(message_id: str, address: str, bounce_type: str = "Permanent") -> str:
    return json.dumps(
        {
            "eventType": "Bounce",
            "bounce": {"bounceType": bounce_type, "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": address}]},
            "mail": {"messageId": message_id, "source": "noreply@example.com", "destination": [address]},
        }
    )


def complaint(message_id: str, address: str) -> str:
    return json.dumps(
        {
            "eventType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": address}], "complaintFeedbackType": "abuse"},
            "mail": {"messageId": message_id},
        }
    )


def suppression(table, address: str):
    return table.get_item(Key={"pk": f"SUPPRESS#{address}", "sk": "SUPPRESS"}).get("Item")


def test_poisoned_message_is_the_only_failure(regional):
    from bounces.app import handler

    event = sqs_event(bounce("m-1", "Gone@Example.com"), '{"eventType": "Bounce", "mail": {}}', ids=["ok", "bad"])
    assert handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    item = suppression(regional.table, "gone@example.com")
    assert (int(item["count"]), item["last_type"], item["origin_region"]) == (1, "bounce", "us-east-1")


def test_complaints_count_and_duplicates_do_not(regional):
    from bounces.app import handler

    handler(sqs_event(complaint("m-2", "angry@example.com")), FakeContext())
    handler(sqs_event(complaint("m-2", "angry@example.com")), FakeContext())  # redelivered
    handler(sqs_event(complaint("m-3", "angry@example.com")), FakeContext())
    item = suppression(regional.table, "angry@example.com")
    assert (int(item["count"]), item["last_type"]) == (2, "complaint")


def test_transient_bounce_does_not_suppress(regional):
    from bounces.app import handler

    assert handler(sqs_event(bounce("m-4", "full@example.com", "Transient")), FakeContext()) == {"batchItemFailures": []}
    assert suppression(regional.table, "full@example.com") is None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"eventType": "Delivery", "mail": {"messageId": "m"}}),
        json.dumps(
            {
                "eventType": "Bounce",
                "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "<script>"}]},
                "mail": {"messageId": "m"},
            }
        ),
        json.dumps({"eventType": "Complaint", "complaint": {"complainedRecipients": []}, "mail": {"messageId": "m"}}),
    ],
)
def test_untrusted_payloads_are_refused(regional, body):
    from bounces.app import handler

    # A good event rides along: a batch that fails whole is retried whole by Powertools' design.
    event = sqs_event(body, bounce("m-ok", "ok@example.com"), ids=["x", "ok"])
    assert handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "x"}]}
    assert [i["pk"] for i in regional.table.scan()["Items"]] == ["SUPPRESS#ok@example.com"]
