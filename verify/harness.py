"""Lambda handlers run as plain functions against moto: real boto3 calls, emulated services.

Shared by the handler tests, the fault suite and the two-region simulation (tests and the soak
run). `configure()` puts functions/ on the import path and sets the environment the handlers
read, as the stack sets it for the deployed functions; `make_regional_resources(region)` creates
what one region's handlers talk to, in moto.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
EVENTS_DIR = ROOT / "tests" / "events"

REGION = "us-east-1"
ENVIRONMENT = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "serverless-dr-tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "TABLE_NAME": "app-table",
    "IDEMPOTENCY_TABLE": "idempotency-table",
    "EVENTS_STREAM_NAME": "events",
    "MEDIA_BUCKET": f"media-{REGION}",
    "DRAIN_PARAMETER": "/serverless-dr/test/drain",
    "ALLOWED_ORIGIN": "https://www.example.com",
    "MAX_UPLOAD_BYTES": str(5 * 1024 * 1024),
    "SENDER": "noreply@example.com",
    "CONFIGURATION_SET": "mail-test",
    "SIGNING_KEY_PARAMETER": "/serverless-dr/test/signing-key",
    "WRITE_MODE": "single-primary",
    "HOME_REGION": REGION,
    "MAX_RECEIVES": "5",
    # botocore >= 1.44 resolves DynamoDB Streams to an account-id endpoint that moto does not know.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


# Set by the multi-region simulations for their regions; a single-region test runs without them.
LEASE_ENVIRONMENT = ("WRITE_LEASE", "LEASE_VOTERS", "LEASE_SECONDS", "SERVING_REGIONS", "EVACUATED_REGIONS", "WRITE_FAILOVER")


TEST_SIGNING_KEY = "test-signing-key-not-a-secret"


def configure() -> None:
    """Import path and environment of the handlers, botocore's models parsed once and moto's
    serializer's names worked out once (idempotent)."""
    from verify.moto_speed import memoize_moto_lookups, share_service_models

    share_service_models()
    memoize_moto_lookups()
    if str(FUNCTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTIONS_DIR))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", *LEASE_ENVIRONMENT):
        os.environ.pop(name, None)
    os.environ.update(ENVIRONMENT)


@dataclass
class FakeContext:
    """A Lambda context at the start of an invocation of a function with `timeout_ms`."""

    function_name: str = "api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:api"
    aws_request_id: str = "00000000-0000-0000-0000-000000000001"
    timeout_ms: int = 15_000  # the API function's (stack/api.py API_TIMEOUT_SECONDS)

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_ms


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
    retry_dlq_url: str
    sqs: object
    kinesis: object
    s3: object
    ssm: object
    environment: dict[str, str]  # what the stack would set on this region's functions


def media_bucket(region: str) -> str:
    return f"media-{region}"


@functools.cache
def setup_client(service: str, region: str):
    """The harness's own clients (not the handlers'), made once per process: creating a botocore
    client costs ~40 ms, and moto intercepts a client whatever mock_aws context made it."""
    import boto3

    return boto3.client(service, region_name=region)


def cloudfront_distribution(distribution_id: str) -> str:
    """A distribution in moto under the id a plan or a test names (moto picks its own ids): what
    an invalidation needs to exist. Returns the id."""
    from moto.cloudfront.models import cloudfront_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    created = setup_client("cloudfront", "us-east-1").create_distribution(
        DistributionConfig={
            "CallerReference": distribution_id,
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "o",
                        "DomainName": "example.com",
                        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
                    }
                ],
            },
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "https-only"},
        }
    )["Distribution"]["Id"]
    backend = cloudfront_backends[DEFAULT_ACCOUNT_ID]["global"]
    distribution = backend.distributions.pop(created)
    distribution.distribution_id = distribution_id
    backend.distributions[distribution_id] = distribution
    return distribution_id


def invalidated_paths(distribution_id: str) -> list[list[str]]:
    """The paths of each invalidation made on the distribution, oldest first."""
    client = setup_client("cloudfront", "us-east-1")
    listed = client.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    batches = [client.get_invalidation(DistributionId=distribution_id, Id=i["Id"])["Invalidation"] for i in listed]
    return [b["InvalidationBatch"]["Paths"].get("Items", []) for b in sorted(batches, key=lambda b: b["CreateTime"])]


@functools.cache
def setup_dynamodb(region: str):
    import boto3

    return boto3.resource("dynamodb", region_name=region)


def make_regional_resources(region: str = REGION) -> Regional:
    dynamodb = setup_dynamodb(region)
    table = create_app_table(dynamodb)
    create_idempotency_table(dynamodb)
    sns = setup_client("sns", region)
    sqs = setup_client("sqs", region)
    topic_arn = sns.create_topic(Name="write-retry")["TopicArn"]
    dlq_url = sqs.create_queue(QueueName="write-retry-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": int(os.environ["MAX_RECEIVES"])})
    # 14 days, as the stack keeps waiting writes (components/event_pipeline.py).
    queue_url = sqs.create_queue(
        QueueName="write-retry", Attributes={"RedrivePolicy": redrive, "MessageRetentionPeriod": "1209600"}
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    kinesis = setup_client("kinesis", region)
    kinesis.create_stream(StreamName="events", StreamModeDetails={"StreamMode": "ON_DEMAND"})
    s3 = setup_client("s3", region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=media_bucket(region), **location)
    ssm = setup_client("ssm", region)
    ssm.put_parameter(Name=os.environ["DRAIN_PARAMETER"], Value="false", Type="String")
    # The same key in every region, as the stack writes it (stack/api.py signing_key_parameter).
    ssm.put_parameter(Name=os.environ["SIGNING_KEY_PARAMETER"], Value=TEST_SIGNING_KEY, Type="SecureString")
    environment = {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "MEDIA_BUCKET": media_bucket(region),
        "WRITE_RETRY_TOPIC_ARN": topic_arn,
        "WRITE_RETRY_QUEUE_URL": queue_url,
    }
    os.environ.update(environment)
    # SES refuses to send from an unverified identity.
    setup_client("ses", region).verify_domain_identity(Domain="example.com")
    setup_client("sesv2", region).create_configuration_set(ConfigurationSetName="mail-test")
    return Regional(
        table=table,
        topic_arn=topic_arn,
        retry_queue_url=queue_url,
        retry_dlq_url=dlq_url,
        sqs=sqs,
        kinesis=kinesis,
        s3=s3,
        ssm=ssm,
        environment=environment,
    )


class FakeClock:
    """A monotonic clock that moves only when slept on: polling loops run instantly in tests."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def reset_handler_state() -> None:
    from api import health, health_app, premium
    from aws_lambda_powertools.utilities import parameters
    from shared import control, failover, reader_tokens, signing

    health_app._last_tick.clear()  # a new world: its first health check asks for a tick
    # The SDK clients stay, as they do in a warm Lambda container: moto answers every client
    # whichever world it was made in, and making one costs ~9 ms (hundreds per test file).
    # Where a client's own state matters (a retry quota under injected faults, hooks added at
    # its creation), the caller starts fresh ones: verify/faults.injected, the IAM contract.
    signing.reset_cache()
    control.reset_cache()
    failover.forget()
    health.reset_cache()
    premium.reset_cache()
    reader_tokens.forget_published_keys()
    parameters.clear_caches()


def api_event(method: str, path: str, body=None, headers=None, query=None, request_id: str | None = None) -> dict:
    """An API Gateway proxy event; every call is a new request (its own request id) unless told."""
    event = copy.deepcopy(json.loads((EVENTS_DIR / "apigw_rest_request.json").read_text()))
    request_id = request_id or f"req-{uuid.uuid4()}"
    event["httpMethod"] = method
    event["path"] = path
    event["requestContext"]["httpMethod"] = method
    event["requestContext"]["requestId"] = request_id
    event["requestContext"]["path"] = "/v1" + path
    event["headers"] = {**event["headers"], **(headers or {})}
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
        event["headers"].setdefault("Content-Type", "application/json")
    event["queryStringParameters"] = query
    return event


# While a list, every answer `call_api` returns is held to the API's OpenAPI document and what is
# wrong with it is appended (tests/functions/conftest.py sets it for every handler test).
contract_problems: list[str] | None = None


@functools.cache
def _api_contract():
    from verify.api_contract import Contract, blog_document

    return Contract(blog_document())


def check_contract(method: str, path: str, response: dict) -> None:
    if contract_problems is not None:
        contract_problems.extend(_api_contract().problems(method, path, response))


def call_api(method: str, path: str, *, timeout_ms: int | None = None, **kwargs) -> tuple[int, dict | None, dict]:
    """The API function's answer to one request (`timeout_ms`: the function's, default the stack's)."""
    from api.app import handler

    context = FakeContext() if timeout_ms is None else FakeContext(timeout_ms=timeout_ms)
    response = handler(api_event(method, path, **kwargs), context)
    check_contract(method, path, response)
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


def sqs_fifo_event(*bodies: str, group: str, first_sequence: int = 18_000_000_000_000_000_000) -> dict:
    """Messages of one FIFO message group, in order, as Lambda delivers them (SequenceNumber grows)."""
    event = sqs_event(*bodies, ids=[f"{group[:8]}-{first_sequence + i}" for i in range(len(bodies))])
    for index, record in enumerate(event["Records"]):
        record["attributes"].update(
            {"MessageGroupId": group, "SequenceNumber": str(first_sequence + index), "MessageDeduplicationId": f"dedup-{index}"}
        )
        record["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:views.fifo"
    return event


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


def drain_queue(sqs, queue_url: str, handler, *, rounds: int = 50, context=None, advance=None) -> dict[str, int]:
    """Deliver a queue's messages to a batch consumer as Lambda's SQS event source does: batches
    of up to 10, successes deleted, reported failures left for redelivery (visible again at once:
    no real time passes here), the queue's redrive policy moving the exhausted to its DLQ. With
    `advance(seconds)` (a virtual clock), messages sent back with a delay (waiting writes) are
    waited for too."""
    delivered = failed = 0
    for _ in range(rounds):
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages and advance is not None and delayed(sqs, queue_url):
            advance(MAX_DELAY_SECONDS)
            continue
        if not messages:
            break
        event = {"Records": [_sqs_record(m) for m in messages]}
        result = handler(event, context or FakeContext(function_name="retry", timeout_ms=30_000))
        failures = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        for message in messages:
            delivered += 1
            if message["MessageId"] in failures:
                failed += 1
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return {"delivered": delivered, "failed": failed}


MAX_DELAY_SECONDS = 60.0  # the longest a waiting write is sent back for (retry/app.py)


def delayed(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    return int(attributes["Attributes"].get("ApproximateNumberOfMessagesDelayed", 0))


def _sqs_record(message: dict) -> dict:
    template = json.loads((EVENTS_DIR / "sqs_record.json").read_text())
    record = copy.deepcopy(template)
    record["messageId"] = message["MessageId"]
    record["receiptHandle"] = message["ReceiptHandle"]
    record["body"] = message["Body"]
    record["attributes"] = {**record.get("attributes", {}), **message.get("Attributes", {})}
    record["messageAttributes"] = {
        name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType")}
        for name, value in message.get("MessageAttributes", {}).items()
    }
    return record


def queue_depth(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def stream_records(region: str = REGION, table: str = "app-table") -> list[dict]:
    """Every record moto's table stream holds, oldest first (read from moto's backend: the
    public GetRecords path costs a serialisation per record that long runs cannot afford)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].tables[table].stream_shard
    return [record.record for record in shard.items] if shard else []


def create_voter_tables(voters: dict[str, str]) -> None:
    """The write lease's voter tables ({region: name}) in moto, as components/lease_voters.py
    declares them: one string hash key `pk`, on demand."""

    for region, name in voters.items():
        setup_client("dynamodb", region).create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
