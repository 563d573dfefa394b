"""Handlers run as plain functions against moto: real boto3 calls, emulated services."""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"
sys.path.insert(0, str(FUNCTIONS_DIR))

REGION = "us-east-1"
os.environ.update(
    {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "serverless-dr-tests",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "TABLE_NAME": "app-table",
        "IDEMPOTENCY_TABLE": "idempotency-table",
        "EVENTS_STREAM_NAME": "events",
        "MEDIA_BUCKET": "media-us-east-1",
        "DRAIN_PARAMETER": "/serverless-dr/test/drain",
        "ALLOWED_ORIGIN": "https://www.example.com",
        "MAX_UPLOAD_BYTES": str(5 * 1024 * 1024),
        "SENDER": "noreply@example.com",
        "CONFIGURATION_SET": "mail-test",
    }
)


@dataclass
class FakeContext:
    function_name: str = "api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:api"
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def create_app_table(dynamodb, name: str = "app-table"):
    return dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


def create_idempotency_table(dynamodb, name: str = "idempotency-table"):
    return dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )


@dataclass
class Regional:
    """The regional resources a handler talks to, created in moto."""

    table: object
    topic_arn: str
    retry_queue_url: str
    sqs: object
    kinesis: object
    s3: object
    ssm: object


def make_regional_resources(region: str = REGION) -> Regional:
    import boto3

    dynamodb = boto3.resource("dynamodb", region_name=region)
    table = create_app_table(dynamodb)
    create_idempotency_table(dynamodb)
    sns = boto3.client("sns", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    topic_arn = sns.create_topic(Name="write-retry")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="write-retry")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    kinesis = boto3.client("kinesis", region_name=region)
    kinesis.create_stream(StreamName="events", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket=os.environ["MEDIA_BUCKET"])
    ssm = boto3.client("ssm", region_name=region)
    ssm.put_parameter(Name=os.environ["DRAIN_PARAMETER"], Value="false", Type="String")
    os.environ["WRITE_RETRY_TOPIC_ARN"] = topic_arn
    # SES refuses to send from an unverified identity.
    boto3.client("ses", region_name=region).verify_domain_identity(Domain="example.com")
    boto3.client("sesv2", region_name=region).create_configuration_set(ConfigurationSetName="mail-test")
    return Regional(table=table, topic_arn=topic_arn, retry_queue_url=queue_url, sqs=sqs, kinesis=kinesis, s3=s3, ssm=ssm)


def reset_handler_state() -> None:
    from api import health
    from aws_lambda_powertools.utilities import parameters
    from shared import aws

    aws.reset()
    health.reset_cache()
    parameters.clear_caches()


@pytest.fixture
def regional():
    from moto import mock_aws

    with mock_aws():
        reset_handler_state()
        yield make_regional_resources()
        reset_handler_state()


def api_event(method: str, path: str, body=None, headers=None, query=None, request_id: str = "req-0001") -> dict:
    event = copy.deepcopy(json.loads((EVENTS_DIR / "apigw_rest_request.json").read_text()))
    event["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["requestId"] = request_id
    event["headers"] = {**event["headers"], **(headers or {})}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["headers"].setdefault("Content-Type", "application/json")
    event["queryStringParameters"] = query
    return event


def call_api(method: str, path: str, **kwargs) -> tuple[int, dict | None, dict]:
    from api.app import handler

    response = handler(api_event(method, path, **kwargs), FakeContext())
    body = json.loads(response["body"]) if response.get("body") else None
    headers = dict(response.get("headers") or {})
    headers.update({k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items() if v})
    return response["statusCode"], body, headers


def read_stream(kinesis, stream: str) -> list[dict]:
    """Every record on every shard of a (moto) Kinesis stream, oldest first per shard."""
    records = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records += kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)["Records"]
    return records


def sqs_event(*bodies: str, ids: list[str] | None = None) -> dict:
    template = json.loads((EVENTS_DIR / "sqs_record.json").read_text())
    records = []
    for index, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = ids[index] if ids else f"msg-{index}"
        record["body"] = body
        records.append(record)
    return {"Records": records}


def kinesis_event(*payloads: bytes, first_sequence: int = 1000, stream_arn: str | None = None) -> dict:
    import base64

    template = json.loads((EVENTS_DIR / "kinesis_record.json").read_text())
    records = []
    for index, payload in enumerate(payloads):
        record = copy.deepcopy(template)
        sequence = str(first_sequence + index)
        record["kinesis"]["sequenceNumber"] = sequence
        record["kinesis"]["data"] = base64.b64encode(payload).decode()
        record["eventID"] = f"shardId-000000000000:{sequence}"
        if stream_arn:
            record["eventSourceARN"] = stream_arn
        records.append(record)
    return {"Records": records}


def dynamodb_insert(item: dict, sequence: str, region: str = REGION) -> dict:
    """A stream record of an INSERT, as a replica's stream in `region` delivers it."""
    from boto3.dynamodb.types import TypeSerializer

    image = {k: TypeSerializer().serialize(v) for k, v in item.items()}
    return {
        "eventID": f"evt-{sequence}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": {
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": sequence,
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
        "eventSourceARN": f"arn:aws:dynamodb:{region}:123456789012:table/app-table/stream/2026-01-01T00:00:00.000",
    }


def sent_emails(region: str = REGION) -> list:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)
