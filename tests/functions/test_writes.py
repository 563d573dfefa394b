"""The write path when DynamoDB misbehaves: deferral, idempotency keys, recorded fates.

Faults are injected below botocore (tests/faults.py) on a virtual clock; the real API handler
and the real write-retry consumer run against moto.
"""

import json

import pytest

from verify.faults import FaultInjector, Rule, VirtualClock, injected
from verify.harness import FakeContext, call_api, drain_queue, queue_depth, sqs_event

WRITE_OPS = frozenset({"TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem", "GetItem"})


def down(kind: str = "http500", **scope) -> list[Rule]:
    """DynamoDB answering every request with `kind` (the health probe included)."""
    return [Rule(fault=kind, **scope)]


def retry_consumer(regional) -> dict:
    """The write-retry consumer, on what its queue holds now (delayed messages stay for later)."""
    from retry.app import handler

    return drain_queue(regional.sqs, regional.retry_queue_url, handler)


def posts_in_table(regional) -> list[dict]:
    items = regional.table.scan()["Items"]
    return [i for i in items if i["pk"].startswith("POST#") and not i.get("deleted")]


def key(value: str) -> dict:
    return {"Idempotency-Key": value}


@pytest.fixture
def faults(regional):
    with injected(FaultInjector(VirtualClock(), seed=7)) as injector:
        yield injector


# --- the same key, the same effect --------------------------------------------------------------


def test_same_key_twice_creates_one_post_and_answers_the_same(regional, faults):
    first = call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("create-0001"))
    second = call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("create-0001"))
    assert first[0] == second[0] == 201
    assert first[1] == second[1] and first[2]["X-Write-Id"] == second[2]["X-Write-Id"]
    assert [p["id"] for p in posts_in_table(regional)] == [first[1]["id"]]


def test_same_key_with_another_body_is_422_naming_the_reuse(regional, faults):
    assert call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("create-0002"))[0] == 201
    status, body, _ = call_api("POST", "/posts", body={"title": "T", "body": "other"}, headers=key("create-0002"))
    assert status == 422 and body["error"] == "idempotency_key_reused" and body["fields"] == ["Idempotency-Key"]
    assert "already used for a different POST /posts request" in body["message"]
    assert len(posts_in_table(regional)) == 1


def test_keys_are_scoped_per_route(regional, faults):
    assert call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("shared-key-01"))[0] == 201
    assert call_api("POST", "/subscribers", body={"email": "a@example.com"}, headers=key("shared-key-01"))[0] == 201


def test_same_key_through_the_202_path_creates_one_post_with_the_same_write_id(regional, faults):
    faults.rules = down("throttle")
    first = call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("deferred-001"))
    again = call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("deferred-001"))
    assert first[0] == again[0] == 202
    assert first[1] == again[1] and first[1]["location"] == f"/v1/writes/{first[1]['write_id']}"
    assert first[2]["Location"] == first[1]["location"]
    faults.rules = []
    assert call_api("GET", f"/writes/{first[1]['write_id']}")[1]["state"] == "pending"
    retry_consumer(regional)
    status, fate, _ = call_api("GET", f"/writes/{first[1]['write_id']}")
    assert status == 200 and fate["state"] == "applied" and fate["status"] == 201
    assert fate["result"]["id"] == first[1]["id"]
    # A later retry with the key is answered from the record: the same post, no second one.
    status, post, headers = call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("deferred-001"))
    assert status == 201 and post["id"] == first[1]["id"] and headers["X-Write-Id"] == first[1]["write_id"]
    assert [p["id"] for p in posts_in_table(regional)] == [first[1]["id"]]


def test_another_body_under_a_deferred_key_is_rejected_with_a_reason(regional, faults):
    faults.rules = down("http503")
    first = call_api("POST", "/posts", body={"title": "T", "body": "one"}, headers=key("deferred-002"))
    second = call_api("POST", "/posts", body={"title": "T", "body": "two"}, headers=key("deferred-002"))
    assert first[0] == second[0] == 202 and first[1]["write_id"] != second[1]["write_id"]
    faults.rules = []
    retry_consumer(regional)
    fates = [call_api("GET", f"/writes/{answer[1]['write_id']}")[1] for answer in (first, second)]
    assert sorted(f["state"] for f in fates) == ["applied", "rejected"]
    rejected = next(f for f in fates if f["state"] == "rejected")
    assert rejected["status"] == 422 and "already used for a different POST /posts request" in rejected["reason"]
    assert len(posts_in_table(regional)) == 1


# --- deferral covers every step of a write ------------------------------------------------------


@pytest.mark.parametrize("fault", ["throttle", "http500", "http503", "http502_html", "http504_empty", "connect_timeout"])
def test_a_refused_write_is_deferred_never_a_5xx(regional, faults, fault):
    faults.rules = down(fault)
    status, body, headers = call_api("POST", "/subscribers", body={"email": "late@example.com"})
    assert status == 202 and body["status"] == "accepted" and headers["Location"].endswith(body["write_id"])
    assert queue_depth(regional.sqs, regional.retry_queue_url) == 1
    faults.rules = []
    retry_consumer(regional)
    assert regional.table.get_item(Key={"pk": "SUB#late@example.com", "sk": "SUB"})["Item"]["email"] == "late@example.com"


def test_the_read_an_update_makes_first_is_inside_the_deferral(regional, faults):
    post = call_api("POST", "/posts", body={"title": "T", "body": "B"})[1]
    faults.rules = down("http500", operations=frozenset({"GetItem"}))
    status, body, _ = call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "New"})
    assert status == 202
    faults.rules = []
    retry_consumer(regional)
    fate = call_api("GET", f"/writes/{body['write_id']}")[1]
    assert fate["state"] == "applied" and fate["result"]["version"] == 2 and fate["result"]["title"] == "New"


def test_a_write_applied_whose_answer_was_lost_is_answered_as_success_not_409(regional, faults):
    # The transaction reaches DynamoDB, the response is lost, the SDK tries again: the second
    # attempt meets the first one's record and answers with it.
    faults.rules = [Rule(fault="read_timeout_after", operations=frozenset({"TransactWriteItems"}), limit=1)]
    status, post, _ = call_api("POST", "/posts", body={"title": "T", "body": "B"}, headers=key("lost-answer1"))
    assert status == 201 and faults.injected[("TransactWriteItems", "read_timeout_after")] == 1
    assert [p["id"] for p in posts_in_table(regional)] == [post["id"]]
    faults.rules = [Rule(fault="read_timeout_after", operations=frozenset({"TransactWriteItems"}), limit=1)]
    status, updated, _ = call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "U"}, headers=key("lost-answer2"))
    assert (status, updated["version"]) == (200, 2)


def test_every_request_is_answered_before_the_function_times_out(regional, faults):
    faults.rules = down("read_timeout_before")
    start = faults.clock.now
    status, _, _ = call_api("POST", "/subscribers", body={"email": "slow@example.com"})
    elapsed = faults.clock.now - start
    assert status == 202
    assert elapsed <= FakeContext().timeout_ms / 1000 - 1.0, f"{elapsed:.1f} s on the virtual clock"


def test_not_accepted_when_even_the_deferral_fails_and_nothing_is_recorded(regional, faults):
    faults.rules = [*down("http500"), Rule(fault="http500", service="sns")]
    status, body, headers = call_api("POST", "/subscribers", body={"email": "x@example.com"}, headers=key("refused-0001"))
    assert status == 503 and body["error"] == "unavailable" and headers["Retry-After"] == "5"
    assert "retry with the same Idempotency-Key" in body["message"]
    faults.rules = []
    assert queue_depth(regional.sqs, regional.retry_queue_url) == 0
    assert call_api("POST", "/subscribers", body={"email": "x@example.com"}, headers=key("refused-0001"))[0] == 201


# --- every accepted write ends with a recorded fate ---------------------------------------------


def test_a_deferred_update_overtaken_by_another_is_rejected_with_the_reason(regional, faults, capsys):
    post = call_api("POST", "/posts", body={"title": "T", "body": "B"})[1]
    faults.rules = down("throttle")
    status, deferred, _ = call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "Mine"})
    assert status == 202
    faults.rules = []
    assert call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "Theirs"})[0] == 200
    retry_consumer(regional)
    fate = call_api("GET", f"/writes/{deferred['write_id']}")[1]
    assert fate["state"] == "rejected" and fate["status"] == 409
    assert fate["reason"] == "the post changed since version 1 (now 2); read it again"
    assert call_api("GET", f"/posts/{post['id']}")[1]["title"] == "Theirs"
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("WritesRejected") == [1.0] or m.get("WritesRejected") == 1.0 for m in metrics)


def test_a_write_waits_through_a_two_hour_outage_and_is_applied_once_after_it(regional, faults):
    # GIVEN a subscription deferred because DynamoDB refuses every write
    faults.rules = down("http500", operations=frozenset({"TransactWriteItems"}))
    status, body, _ = call_api("POST", "/subscribers", body={"email": "patient@example.com"})
    assert status == 202
    # WHEN the consumer meets the same outage for two hours (it runs whenever its queue has work)
    started = faults.clock.now
    while faults.clock.now - started < 2 * 3600:
        retry_consumer(regional)
        faults.clock.advance(30)
    # THEN the intent never reached the DLQ and its fate is still pending
    assert queue_depth(regional.sqs, regional.retry_dlq_url) == 0
    assert call_api("GET", f"/writes/{body['write_id']}")[1]["state"] == "pending"
    # WHEN the table answers again, THEN it is applied, once, within the longest wait
    faults.rules = []
    before = faults.clock.now
    while call_api("GET", f"/writes/{body['write_id']}")[1]["state"] == "pending":
        faults.clock.advance(5)
        retry_consumer(regional)
        assert faults.clock.now - before <= 61
    assert call_api("GET", f"/writes/{body['write_id']}")[1] == {
        **call_api("GET", f"/writes/{body['write_id']}")[1],
        "state": "applied",
    }
    subscribers = [i for i in regional.table.scan()["Items"] if i["pk"] == "SUB#patient@example.com"]
    assert len(subscribers) == 1


def dead_letters(regional) -> list[dict]:
    from boto3.dynamodb.conditions import Key

    return regional.table.query(IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq("DEADLETTER"))["Items"]


def test_a_write_the_table_refuses_is_dead_lettered_with_its_intent_and_a_redrive_applies_it(regional, faults):
    from retry.app import handler

    # GIVEN a deferred subscription that DynamoDB refuses as invalid (not load: never retried into success)
    faults.rules = down("throttle")
    status, body, _ = call_api("POST", "/subscribers", body={"email": "odd@example.com"})
    assert status == 202
    faults.rules = [Rule(fault="validation", operations=frozenset({"TransactWriteItems"}))]
    retry_consumer(regional)
    # THEN its fate says so, with the reason, and the intent is kept where a redrive finds it
    faults.rules = []
    fate = call_api("GET", f"/writes/{body['write_id']}")[1]
    assert fate["state"] == "dead_lettered" and "the table refuses it (ClientError" in fate["reason"]
    [kept] = dead_letters(regional)
    assert queue_depth(regional.sqs, regional.retry_queue_url) == queue_depth(regional.sqs, regional.retry_dlq_url) == 0
    # WHEN the kept intent is published again (what `sdr writes redrive` does), THEN it is applied
    assert handler(sqs_event(kept["intent"]), FakeContext(timeout_ms=30_000)) == {"batchItemFailures": []}
    fate = call_api("GET", f"/writes/{body['write_id']}")[1]
    assert fate["state"] == "applied" and fate["status"] == 201
    assert dead_letters(regional) == []


def test_a_dead_letter_that_cannot_be_recorded_comes_back_until_it_is(regional, faults):
    """The outside check's case: the table failing on the very write that records the dead letter
    left the write pending for good. Now the record is retried until it is written."""
    faults.rules = down("throttle")
    status, body, _ = call_api("POST", "/subscribers", body={"email": "unlucky@example.com"})
    assert status == 202
    faults.rules = [
        Rule(fault="validation", operations=frozenset({"TransactWriteItems"})),
        Rule(fault="http500", operations=frozenset({"PutItem"})),
    ]
    for _ in range(5):
        retry_consumer(regional)
        faults.clock.advance(61)
    assert call_api("GET", f"/writes/{body['write_id']}")[1]["state"] == "pending"
    faults.rules = []
    faults.clock.advance(61)
    retry_consumer(regional)
    assert call_api("GET", f"/writes/{body['write_id']}")[1]["state"] == "dead_lettered"
    assert queue_depth(regional.sqs, regional.retry_queue_url) == queue_depth(regional.sqs, regional.retry_dlq_url) == 0


def test_a_write_that_waited_past_the_longest_wait_is_dead_lettered(regional, faults):
    from retry import app

    faults.rules = down("http500", operations=frozenset({"TransactWriteItems"}))
    status, body, _ = call_api("POST", "/subscribers", body={"email": "late@example.com"})
    assert status == 202
    for _day in range(app.MAX_WAIT_DAYS + 1):  # it waits, sent back to its queue each time
        faults.clock.advance(86400)
        retry_consumer(regional)
    fate = call_api("GET", f"/writes/{body['write_id']}")[1]
    assert fate["state"] == "dead_lettered" and f"within {app.MAX_WAIT_DAYS} days" in fate["reason"]


def test_unknown_or_forged_write_ids_are_404(regional, faults):
    assert call_api("GET", "/writes/not-a-token")[0] == 404
    assert call_api("GET", "/writes/" + "a" * 26 + ".000000000000.0000000000000000")[0] == 404
