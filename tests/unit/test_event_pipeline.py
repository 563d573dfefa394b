"""EventPipeline per source kind: buffers, DLQs and redrive, visibility, mapping settings, filters, alarms."""

import json

import pulumi
import pytest

from components import EventPipeline, EventPipelineArgs, Hardening
from tests.helpers import cached_stack, providers_for, run_component

QUEUE = "aws:sqs/queue:Queue"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def build(source: str, **kwargs):
    def program():
        provider = providers_for("us-west-2")["us-west-2"]
        pipeline = EventPipeline(
            "p",
            EventPipelineArgs(
                source=source,
                code=pulumi.AssetArchive({"consumer.py": pulumi.StringAsset("def handler(e, c): return {}")}),
                handler="consumer.handler",
                service_name="consumer",
                alert_topic_arn="arn:aws:sns:us-west-2:123456789012:alerts",
                layer_arn="arn:aws:lambda:us-west-2:123456789012:layer:deps:1",
                idempotency_table_name="idem",
                idempotency_table_arn="arn:aws:dynamodb:us-west-2:123456789012:table/idem",
                log_retention_days=30,
                timeout=20,
                **kwargs,
            ),
            opts=pulumi.ResourceOptions(provider=provider),
        )
        return {"dlq": pipeline.dlq_arn, "queue": pipeline.queue_arn, "topic": pipeline.topic_arn, "stream": pipeline.stream_arn}

    return run_component(program)


def grants(run) -> dict:
    policy = json.loads(next(r for r in run.resources if r.type == "aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    return {s["Sid"]: s for s in policy["Statement"]}


def queue_policy(run, name) -> dict:
    return json.loads(
        next(r for r in run.resources if r.type == "aws:sqs/queuePolicy:QueuePolicy" and r.name == name).inputs["policy"]
    )


def test_sns_source_buffers_in_sqs_with_a_dlq_and_partial_failures():
    run = build("sns")
    queues = {q.name: q for q in run.of_type(QUEUE)}
    assert set(queues) == {"p-queue", "p-dlq"}
    assert all(q.region == "us-west-2" for q in queues.values())
    buffer = queues["p-queue"].inputs
    redrive = json.loads(buffer["redrivePolicy"])
    assert redrive == {"deadLetterTargetArn": run.outputs["dlq"], "maxReceiveCount": 5}
    assert buffer["visibilityTimeoutSeconds"] == 6 * 20
    assert buffer["sqsManagedSseEnabled"] is True and queues["p-dlq"].inputs["sqsManagedSseEnabled"] is True
    [mapping] = run.of_type(MAPPING)
    assert mapping.inputs["eventSourceArn"] == run.outputs["queue"]
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert "startingPosition" not in mapping.inputs
    [subscription] = run.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert (subscription.inputs["protocol"], subscription.inputs["rawMessageDelivery"]) == ("sqs", True)
    [topic] = run.of_type("aws:sns/topic:Topic")
    assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"
    statements = queue_policy(run, "p-queue-policy")["Statement"]
    assert statements[0]["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statements[0]["Condition"]["ArnEquals"]["aws:SourceArn"] == run.outputs["topic"]
    assert statements[-1]["Effect"] == "Deny" and statements[-1]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    alarms = {a.name: a.inputs for a in run.of_type(ALARM)}
    assert alarms["p-dlq-depth"]["metricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarms["p-oldest-message"]["metricName"] == "ApproximateAgeOfOldestMessage"
    assert "p-iterator-age" not in alarms


def test_s3_source_notifies_the_buffer_for_the_prefix_only():
    run = build("s3", bucket_name="media", bucket_arn="arn:aws:s3:::media", key_prefix="uploads/")
    [notification] = run.of_type("aws:s3/bucketNotification:BucketNotification")
    [queue] = notification.inputs["queues"]
    assert queue["events"] == ["s3:ObjectCreated:*"] and queue["filterPrefix"] == "uploads/"
    statement = queue_policy(run, "p-queue-policy")["Statement"][0]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == "arn:aws:s3:::media"
    assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert run.of_type("aws:sns/topic:Topic") == []


def test_kinesis_source_is_an_encrypted_on_demand_stream_with_bounded_retries():
    run = build("kinesis")
    [stream] = run.of_type("aws:kinesis/stream:Stream")
    assert stream.inputs["streamModeDetails"] == {"streamMode": "ON_DEMAND"}
    assert (stream.inputs["encryptionType"], stream.inputs["kmsKeyId"]) == ("KMS", "alias/aws/kinesis")
    assert stream.inputs["retentionPeriod"] == 24
    [mapping] = run.of_type(MAPPING)
    inputs = mapping.inputs
    assert inputs["bisectBatchOnFunctionError"] is True
    assert inputs["maximumRetryAttempts"] == 3 and inputs["maximumRecordAgeInSeconds"] == 3600
    assert inputs["destinationConfig"] == {"onFailure": {"destinationArn": run.outputs["dlq"]}}
    assert inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert inputs["startingPosition"] == "LATEST"
    assert [q.name for q in run.of_type(QUEUE)] == ["p-dlq"]
    assert grants(run)["OnFailureDestination"]["Resource"] == [run.outputs["dlq"]]
    assert {a.name for a in run.of_type(ALARM)} >= {"p-dlq-depth", "p-iterator-age"}


LOG_KEY = "arn:aws:kms:us-west-2:123456789012:key/logs"
ENV_KEY = "arn:aws:kms:us-west-2:123456789012:key/env"


@pytest.mark.parametrize("source", ["sns", "kinesis"])
def test_hardening_keys_the_log_group_and_environment_and_caps_the_function_and_its_poller(source):
    run = build(source, hardening=Hardening(log_key_arn=LOG_KEY, environment_key_arn=ENV_KEY, concurrency_limit=7))
    [group] = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    [function] = run.of_type("aws:lambda/function:Function")
    [mapping] = run.of_type(MAPPING)
    assert group.inputs["kmsKeyId"] == LOG_KEY
    assert function.inputs["kmsKeyArn"] == ENV_KEY and function.inputs["reservedConcurrentExecutions"] == 7
    # Only an SQS poller takes a maximum concurrency; a stream's concurrency follows its shards.
    expected = {"maximumConcurrency": 7} if source == "sns" else None
    assert mapping.inputs.get("scalingConfig") == expected
    # Lambda's grant lets the role read the environment: no KMS permission is added to the role.
    assert not any(a.startswith("kms:") for s in grants(run).values() for a in s["Action"])


def test_without_hardening_the_aws_defaults_stay():
    run = build("sns")
    [group] = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    [function] = run.of_type("aws:lambda/function:Function")
    assert "kmsKeyId" not in group.inputs and "kmsKeyArn" not in function.inputs
    assert "reservedConcurrentExecutions" not in function.inputs and "scalingConfig" not in run.of_type(MAPPING)[0].inputs


def test_dynamodb_stream_source_with_a_filter_naming_the_local_region():
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"origin_region": {"S": ["us-west-2"]}}}}
    stream_arn = "arn:aws:dynamodb:us-west-2:123456789012:table/app/stream/x"
    run = build("dynamodb", stream_arn=stream_arn, filter_patterns=[pattern])
    [mapping] = run.of_type(MAPPING)
    assert mapping.inputs["eventSourceArn"] == stream_arn
    [filter_] = mapping.inputs["filterCriteria"]["filters"]
    assert json.loads(filter_["pattern"]) == pattern
    # The table's streams: the label may change when the stream is re-enabled, the table may not.
    assert grants(run)["ReadTableStream"]["Resource"] == ["arn:aws:dynamodb:us-west-2:123456789012:table/app/stream/*"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"source": "ftp"}, "source"),
        ({"source": "sns", "max_receive_count": 3}, "max_receive_count"),
        ({"source": "dynamodb"}, "stream_arn"),
        ({"source": "s3"}, "bucket_name/bucket_arn"),
        ({"source": "sns", "filter_patterns": [{"a": 1}]}, "filter_patterns"),
        ({"source": "kinesis", "maximum_retry_attempts": 0}, "maximum_retry_attempts"),
        ({"source": "kinesis", "maximum_record_age_seconds": 10}, "maximum_record_age_seconds"),
        ({"source": "sns", "hardening": Hardening(concurrency_limit=1)}, "hardening.concurrency_limit"),
    ],
)
def test_bad_args_name_the_field(kwargs, field):
    args = EventPipelineArgs(
        code=pulumi.AssetArchive({}),
        handler="consumer.handler",
        service_name="consumer",
        alert_topic_arn="a",
        layer_arn="l",
        idempotency_table_name="i",
        idempotency_table_arn="i",
        log_retention_days=7,
        **kwargs,
    )
    with pytest.raises(ValueError, match=rf"EventPipelineArgs\.{field}"):
        args.validate()


def test_dr_runs_the_write_retry_and_page_view_paths_in_both_regions():
    dr = cached_stack("dr")
    pipelines = {r.name for r in dr.resources if r.type == "serverless-dr:index:EventPipeline"}
    assert pipelines >= {"write-retry-us-east-1", "write-retry-us-west-2", "views-us-east-1", "views-us-west-2"}
    retry_grants = {
        s["Sid"]: s
        for r in dr.resources
        if r.type == "aws:iam/rolePolicy:RolePolicy" and r.name == "write-retry-us-west-2-fn-policy"
        for s in json.loads(r.inputs["policy"])["Statement"]
    }
    # Single-primary: the write target is whichever region is primary, fenced by the control item.
    assert retry_grants["ApplyIntents"]["Resource"] == [dr.outputs["tableArns"][r] for r in dr.outputs["regions"]]
    assert "dynamodb:ConditionCheckItem" in retry_grants["ApplyIntents"]["Action"]
    assert retry_grants["LocalReplicaReads"]["Resource"] == [dr.outputs["tableArns"]["us-west-2"]]
    # It keeps no idempotency records (its writes are conditional on the write id): no grant there.
    assert "IdempotencyRecords" not in retry_grants
