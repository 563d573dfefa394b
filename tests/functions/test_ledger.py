"""The purchases ledger (POST/GET /purchases, shared/ledger.py): the real API handler and write-retry
consumer against moto, and the Data API answered by SQLite running the ledger's own statements
(moto's rds-data returns canned results only, and runs no SQL).

The Data API's refusals are the error shapes of its model (botocore's rds-data): a database
resuming from a pause, unavailable, not found, a cluster without a writer instance (a secondary
before its promotion). Writes meet them with a 202 and land once the database answers; reads with
a 503 and Retry-After; never a 5xx.
"""

from __future__ import annotations

import json
import os
import sqlite3

import botocore.exceptions
import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verify.faults import FaultInjector, VirtualClock, injected
from verify.harness import call_api, drain_queue

HOME, OTHER = "us-east-1", "us-west-2"
ARNS = {r: f"arn:aws:rds:{r}:123456789012:cluster:relational-{r}" for r in (HOME, OTHER)}
SECRETS = {r: f"arn:aws:secretsmanager:{r}:123456789012:secret:relational-master-Ab12Cd" for r in (HOME, OTHER)}
READER, ITEM = "reader@example.com", "a" * 32
DATA_API_ERRORS = sorted(e.name for e in botocore.session.get_session().get_service_model("rds-data").error_shapes)


class FakeDataApi:
    """execute_statement over one SQLite database: only the cluster named `writer` has a writer
    instance (the others answer as a headless secondary does); `failing` answers every call with
    that error code until cleared. `calls` records (region, resourceArn) per statement."""

    def __init__(self):
        self.db = sqlite3.connect(":memory:")
        self.writer = ARNS[HOME]
        self.failing: str | None = None
        self.calls: list[tuple[str, str]] = []

    def client(self, region: str):
        return _Client(self, region)

    def rows(self) -> list[tuple]:
        """The ledger's rows (none before the ledger first created its table)."""
        try:
            return self.db.execute("SELECT write_id, reader, item FROM purchases").fetchall()
        except sqlite3.OperationalError:
            return []


class _Client:
    def __init__(self, api: FakeDataApi, region: str):
        self.api, self.region = api, region

    def execute_statement(self, resourceArn, secretArn, database, sql, parameters=()):
        api = self.api
        api.calls.append((self.region, resourceArn))
        assert resourceArn.split(":")[3] == self.region and secretArn.split(":")[3] == self.region and database == "blog"
        if api.failing:
            raise botocore.exceptions.ClientError({"Error": {"Code": api.failing, "Message": api.failing}}, "ExecuteStatement")
        if resourceArn != api.writer:
            message = "The DB cluster doesn't have a writer instance"
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "BadRequestException", "Message": message}}, "ExecuteStatement"
            )
        values = {p["name"]: next(iter(p["value"].values())) for p in parameters}
        with api.db:
            cursor = api.db.execute(sql, values)
            rows = cursor.fetchall() if cursor.description else []
        return {"records": [[{"stringValue": v} for v in row] for row in rows], "numberOfRecordsUpdated": max(cursor.rowcount, 0)}


@pytest.fixture
def data_api(regional, monkeypatch):
    from shared import aws, data_api

    api = FakeDataApi()
    real = aws.client
    monkeypatch.setattr(
        aws,
        "client",
        lambda service, region=None, **kw: api.client(region) if service == "rds-data" else real(service, region, **kw),
    )
    monkeypatch.setenv(data_api.ENVIRONMENT, json.dumps({r: {"resourceArn": ARNS[r], "secretArn": SECRETS[r]} for r in ARNS}))
    monkeypatch.setenv(data_api.DATABASE, "blog")
    data_api.forget()
    clock = VirtualClock()
    with injected(FaultInjector(clock, seed=3)):  # no faults: its clock lets delayed messages come back
        api.clock = clock
        yield api
    data_api.forget()


def buy(key: str, reader: str = READER, item: str = ITEM):
    return call_api("POST", "/purchases", body={"reader": reader, "item": item}, headers={"Idempotency-Key": key})


def retry_consumer(regional, data_api, *, wait: bool = False) -> dict:
    """The write-retry consumer on its queue; with `wait`, the waiting intents' delays pass too."""
    from retry.app import handler

    return drain_queue(regional.sqs, regional.retry_queue_url, handler, advance=data_api.clock.advance if wait else None)


def _name_the_primary(regional, region: str) -> None:
    """The control item names `region` as primary (what a promotion leaves behind)."""
    from shared import control

    regional.table.put_item(Item={"pk": "CONTROL#writer", "sk": "CONTROL", "primary_region": region, "epoch": 2})
    control.reset_cache()


def test_a_purchase_is_recorded_once_and_listed(data_api):
    status, body, _ = buy("purchase-0001")
    assert status == 201 and body["reader"] == READER and body["item"] == ITEM
    again = buy("purchase-0001")
    assert again[0] == 201 and again[1] == body  # the same answer, from the recorded row
    assert len(data_api.rows()) == 1
    status, listing, headers = call_api("GET", "/purchases", query={"reader": READER.upper()})
    assert status == 200 and listing == {"reader": READER, "purchases": [{"item": ITEM, "purchased_at": body["purchased_at"]}]}
    assert headers["Cache-Control"] == "no-store"


def test_the_same_key_for_another_purchase_is_422_and_another_key_for_an_owned_item_is_409(data_api):
    assert buy("purchase-0002")[0] == 201
    status, body, _ = buy("purchase-0002", item="b" * 32)
    assert status == 422 and body["error"] == "idempotency_key_reused"
    status, body, _ = buy("purchase-0003")
    assert status == 409 and body["message"] == f"{READER} already owns {ITEM}"
    assert len(data_api.rows()) == 1


@pytest.mark.parametrize("code", ["DatabaseResumingException", "DatabaseUnavailableException", "DatabaseNotFoundException"])
def test_a_busy_database_defers_the_write_and_it_lands_once_when_it_answers(regional, data_api, code):
    data_api.failing = code
    status, accepted, _ = buy("purchase-0004")
    assert status == 202 and accepted["status"] == "accepted"
    assert retry_consumer(regional, data_api)["delivered"] == 1  # still busy: the intent waits, not lost
    assert data_api.rows() == []
    assert call_api("GET", f"/writes/{accepted['write_id']}")[1]["state"] == "pending"
    data_api.failing = None
    retry_consumer(regional, data_api, wait=True)  # its delay passes; it comes back and lands
    assert len(data_api.rows()) == 1
    fate = call_api("GET", f"/writes/{accepted['write_id']}")[1]
    assert fate["state"] == "applied" and fate["status"] == 201 and fate["result"]["item"] == ITEM
    assert buy("purchase-0004")[0] == 201  # the client's retry with its key gets the recorded answer
    assert len(data_api.rows()) == 1


@pytest.mark.parametrize("code", ["DatabaseResumingException", "DatabaseUnavailableException", "DatabaseNotFoundException"])
def test_a_busy_database_answers_reads_503_with_retry_after(data_api, code):
    data_api.failing = code
    status, body, headers = call_api("GET", "/purchases", query={"reader": READER})
    assert status == 503 and headers["Retry-After"] == "15" and body["error"] == "unavailable"


def test_statements_go_to_the_write_primarys_cluster_and_wait_for_its_writer(regional, data_api):
    """After a promotion the control item names the other region: the ledger follows it; until
    its database writes (the switchover), purchases are deferred, then land there."""
    _name_the_primary(regional, OTHER)
    status, _, _ = buy("purchase-0005")
    assert status == 202 and data_api.calls[-1] == (OTHER, ARNS[OTHER])
    assert call_api("GET", "/purchases", query={"reader": READER})[0] == 503
    data_api.writer = ARNS[OTHER]  # the switchover completed
    retry_consumer(regional, data_api, wait=True)
    assert len(data_api.rows()) == 1 and data_api.calls[-1][0] == OTHER


def test_with_the_ledger_off_a_purchase_is_an_item_of_the_table_listed_like_the_ledger_s(regional):
    import boto3
    from shared.items import purchase_key

    status, body, _ = buy("purchase-0006")
    assert status == 201 and (body["reader"], body["item"]) == (READER, ITEM)
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(os.environ["TABLE_NAME"])
    assert table.get_item(Key=purchase_key(READER, ITEM))["Item"]["write_id"]
    assert buy("purchase-0006")[:2] == (201, body)  # the same key again: the same answer
    assert buy("purchase-0106")[0] == 409  # another key for an item the reader owns, as the ledger answers
    status, listed, _ = call_api("GET", "/purchases", query={"reader": READER})
    assert status == 200 and listed == {"reader": READER, "purchases": [{"item": ITEM, "purchased_at": body["purchased_at"]}]}


def test_bad_input_is_a_one_line_400(data_api):
    status, body, _ = call_api("GET", "/purchases", query={"reader": "not-an-address"})
    assert status == 400 and body["message"] == "query parameter reader must be an email address"
    assert call_api("GET", "/purchases")[1]["message"] == "query parameter reader is required"
    status, body, _ = buy("purchase-0007", item="not-a-post-id")
    assert status == 422 and body["fields"] == ["item"]


@settings(max_examples=len(DATA_API_ERRORS), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.sampled_from(DATA_API_ERRORS))
def test_no_data_api_error_makes_an_answer_5xx_other_than_a_503_with_retry_after(data_api, code):
    data_api.failing = code
    key = f"purchase-{DATA_API_ERRORS.index(code):04d}x"
    assert buy(key)[0] == 202  # deferred: a refusal that never ends is dead-lettered with a record, not lost
    status, _, headers = call_api("GET", "/purchases", query={"reader": READER})
    assert status == 503 and headers["Retry-After"] == "15"


# --- the append-only mail-events log, fed by the bounces consumer ---------------------------------


def _mail_rows(api: FakeDataApi) -> list[tuple]:
    try:
        return api.db.execute("SELECT event_id, address, kind, suppressed FROM mail_events ORDER BY event_id").fetchall()
    except sqlite3.OperationalError:
        return []


def test_every_bounce_and_complaint_is_appended_once_whatever_the_redeliveries(regional, data_api):
    from bounces.app import handler

    from tests.functions.test_bounces import bounce, complaint, suppression
    from verify.harness import FakeContext, sqs_event

    batch = sqs_event(
        bounce("m-1", "gone@example.com"), complaint("m-2", "angry@example.com"), bounce("m-3", "full@example.com", "Transient")
    )
    for _ in range(3):  # SQS delivers at least once
        assert handler(batch, FakeContext()) == {"batchItemFailures": []}
    assert _mail_rows(data_api) == [
        ("m-1/bounce", "gone@example.com", "bounce", 1),
        ("m-2/complaint", "angry@example.com", "complaint", 1),
        ("m-3/bounce", "full@example.com", "bounce", 0),  # transient: logged, not suppressed
    ]
    assert int(suppression(regional.table, "gone@example.com")["count"]) == 1


def test_a_busy_database_fails_the_record_and_its_redelivery_logs_it_without_counting_twice(regional, data_api):
    from bounces.app import handler

    from tests.functions.test_bounces import bounce, suppression
    from verify.harness import FakeContext, sqs_event

    data_api.failing = "DatabaseResumingException"
    event = sqs_event(bounce("m-4", "later@example.com"), ids=["only"])
    assert handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "only"}]}
    assert int(suppression(regional.table, "later@example.com")["count"]) == 1 and _mail_rows(data_api) == []
    data_api.failing = None
    assert handler(event, FakeContext()) == {"batchItemFailures": []}
    assert int(suppression(regional.table, "later@example.com")["count"]) == 1
    assert _mail_rows(data_api) == [("m-4/bounce", "later@example.com", "bounce", 1)]
