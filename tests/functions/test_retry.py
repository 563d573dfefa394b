"""Write-retry consumer: applies deferred intents once, refuses what the API did not seal for its
route, records every fate."""

import json
from unittest import mock

from shared import writes
from shared.intent import WriteIntent
from shared.items import subscriber_key

from verify.harness import FakeContext, sqs_event


def subscriber_intent(email: str, write_id: str) -> WriteIntent:
    item = {**subscriber_key(email), "email": email}
    return WriteIntent(
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


def test_malformed_messages_are_refused_without_retries_and_the_rest_is_applied(regional):
    from retry.app import handler

    good = subscriber_intent("a@example.com", "w-good-1")
    event = sqs_event(good.to_json(), "{not json", '{"write_id": "x", "kind": "upsert"}', ids=["ok", "poison-1", "poison-2"])
    assert handler(event, context()) == {"batchItemFailures": []}
    assert regional.table.get_item(Key=good.key)["Item"]["email"] == "a@example.com"


def sealed(intent: WriteIntent, **changes) -> str:
    """What the API would publish for `intent` with `changes` made before sealing (a bug that
    seals an intent outside its route's scope)."""
    from shared.intent import seal_of

    fields = {**intent.fields(), **changes}
    return json.dumps({**fields, "seal": seal_of(fields)})


def tampered(intent: WriteIntent, **changes) -> str:
    """`intent` as the API sealed it, then changed in transit (the seal kept)."""
    message = json.loads(intent.to_json())
    return json.dumps({**message, **changes})


def refused_messages() -> dict[str, str]:
    victim = {"pk": "SUPPRESS#angry@example.com", "sk": "SUPPRESS"}
    control = {"pk": "CONTROL#writer", "sk": "CONTROL"}
    base = subscriber_intent("mallory@example.com", "w-forged")
    delete_post = WriteIntent(
        write_id="w-del",
        route="DELETE /posts/{id}",
        body_hash="h" * 64,
        kind="delete",
        key={"pk": "POST#" + "d" * 32, "sk": "POST"},
        expected_version=1,
        accepted_region="us-east-1",
        accepted_at="2026-11-26T00:00:00.000Z",
    )
    unsealed = json.loads(base.to_json())
    del unsealed["seal"]
    return {
        "no seal": json.dumps(unsealed),
        "seal from another key": tampered(base, seal="0" * 64),
        "email changed after sealing": tampered(base, item={**base.item, "email": "eve@example.com"}),
        "delete of a suppression item, sealed": sealed(delete_post, key=victim),
        "delete of the control item, sealed": sealed(delete_post, key=control),
        "request record overwritten, sealed": sealed(
            base, key={"pk": "REQ#w-other", "sk": "REQ"}, item={"pk": "REQ#w-other", "sk": "REQ"}
        ),
        "subscribe route making a delete, sealed": sealed(delete_post, route="POST /subscribers"),
        "update that sets the version, sealed": sealed(delete_post, kind="update", route="PUT /posts/{id}", item={"version": 99}),
        "post whose id is not its write id's": sealed(
            subscriber_intent("x@example.com", "w-c"),
            route="POST /posts",
            kind="create",
            key={"pk": "POST#" + "e" * 32, "sk": "POST"},
            item={"pk": "POST#" + "e" * 32, "sk": "POST", "id": "e" * 32, "title": "t", "body": "b"},
        ),
    }


def test_forged_altered_and_out_of_scope_intents_change_nothing_and_are_counted(regional, caplog):
    # GIVEN items a forged intent would like to touch
    from retry import app

    regional.table.put_item(Item={"pk": "SUPPRESS#angry@example.com", "sk": "SUPPRESS", "count": 1, "version": 1})
    regional.table.put_item(Item={"pk": "CONTROL#writer", "sk": "CONTROL", "primary_region": "us-east-1", "epoch": 0})
    regional.table.put_item(Item={"pk": "POST#" + "d" * 32, "sk": "POST", "id": "d" * 32, "version": 1, "title": "kept"})
    before = sorted(regional.table.scan()["Items"], key=lambda i: i["pk"])
    messages = refused_messages()
    # WHEN each is delivered (twice, as SQS may)
    with mock.patch.object(app.metrics, "add_metric", wraps=app.metrics.add_metric) as counted:
        for name, body in messages.items():
            for _ in range(2):
                assert app.handler(sqs_event(body, ids=[name]), context()) == {"batchItemFailures": []}, name
    # THEN nothing changed, and every one was refused, counted and logged with its reason
    assert sorted(regional.table.scan()["Items"], key=lambda i: i["pk"]) == before
    refusals = [r for r in caplog.records if r.getMessage() == "write intent refused"]
    assert sorted({r.message_id for r in refusals}) == sorted(messages)
    assert len(refusals) == 2 * len(messages)
    assert {r.refusal for r in refusals} == {"Forged", "OutOfScope"}
    assert [c.kwargs["name"] for c in counted.call_args_list] == ["IntentsRefused"] * (2 * len(messages))


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
    stale = WriteIntent(
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
