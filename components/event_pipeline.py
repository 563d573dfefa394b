"""EventPipeline: one source feeding one Lambda consumer in one region, with bounded failure.

Sources (`source`)
- `sns`: creates `{name}-topic`; fanned out to an SQS buffer `{name}-queue`;
- `s3`: notifications of an existing bucket (`bucket_name`/`bucket_arn`, `key_prefix`) to the buffer;
- `sqs-fifo`: creates a FIFO queue `{name}-queue` for producers in the account (message group =
  ordering key, e.g. the post id), high-throughput mode, consumed in group order; no standing charge;
- `kinesis`: creates `{name}-stream` (KMS-encrypted, 24 h retention): on-demand, or provisioned
  with `shard_count` shards (`stream_mode`): both bill per hour even when idle;
- `dynamodb`: an existing table stream (`stream_arn`), with optional `filter_patterns`.

SQS-buffered sources (the FIFO queue too, with a FIFO DLQ): SSE-SQS encryption, a DLQ `{name}-dlq` with maxReceiveCount >= 5, a
visibility timeout of 6 x the consumer's timeout (Lambda developer guide), a queue policy that
admits only the source (by SourceArn) over TLS, `ReportBatchItemFailures` on the mapping.
Stream sources: bisect on error, bounded retries, a maximum record age, an SQS on-failure
destination `{name}-dlq`, filter criteria when given, `ReportBatchItemFailures`.
Alarms to `alert_topic_arn`: DLQ depth, oldest message age of the buffer, iterator age of streams,
and one per `metric_alarms` entry on the consumer's own metrics (embedded metric format, namespace
`metrics_namespace`, dimension `service`). The consumer receives IDEMPOTENCY_TABLE,
POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE and, for buffered sources, MAX_RECEIVES
(the delivery after which SQS moves a message to the DLQ).

Outputs: `function_name`, `dlq_arn`, `queue_arn`/`queue_url` (buffered sources), `topic_arn` (sns),
`stream_arn` / `stream_name` (kinesis).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from ._blocks.alarms import metric_alarm
from ._blocks.kms import rotating_key
from .hardening import Hardening
from .lambda_function import LambdaFunction, LambdaFunctionArgs
from .policies import allow, deny_insecure_transport, policy_document

SourceKind = Literal["sns", "s3", "sqs-fifo", "kinesis", "dynamodb"]
SOURCES: tuple[str, ...] = ("sns", "s3", "sqs-fifo", "kinesis", "dynamodb")
STREAM_MODES: tuple[str, ...] = ("ON_DEMAND", "PROVISIONED")
VISIBILITY_TIMEOUT_FACTOR = 6
# Powertools' DynamoDBPersistenceLayer: read a record, create it, complete it, and delete it
# when the wrapped function raises (so the retry is not refused as a duplicate).
POWERTOOLS_IDEMPOTENCY_ACTIONS = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
MIN_RECEIVE_COUNT = 5


@dataclass(frozen=True, kw_only=True)
class ConsumerMetricAlarm:
    """An alarm on a metric the consumer emits: any datapoint at or above `threshold` in a minute."""

    metric: str
    description: str
    threshold: float = 1
    statistic: str = "Sum"  # "Maximum" for a metric that reports an age


@dataclass(frozen=True, kw_only=True)
class EventPipelineArgs:
    source: SourceKind
    code: pulumi.Archive  # the consumer's code (the caller packages it)
    handler: str  # module.function inside `code`
    service_name: str  # POWERTOOLS_SERVICE_NAME and log/metric naming of the consumer
    alert_topic_arn: pulumi.Input[str] | None  # None: no alarms
    layer_arn: pulumi.Input[str]
    idempotency_table_name: pulumi.Input[str]
    idempotency_table_arn: pulumi.Input[str]
    log_retention_days: int
    idempotency_key_arn: pulumi.Input[str] | None = None  # the table's customer-managed key, if any
    # What the consumer does with the idempotency table: Powertools' records by default; a
    # consumer that keeps none passes () and gets no grant on it.
    idempotency_actions: Sequence[str] = POWERTOOLS_IDEMPOTENCY_ACTIONS
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    statements: Sequence[Mapping[str, Any]] = ()
    timeout: int = 30
    memory_size: int = 256
    batch_size: int = 10
    max_batching_window_seconds: int = 1
    max_receive_count: int = 5
    # Buffered sources: how long the buffer keeps a message (SQS allows 60 s to 14 days).
    message_retention_seconds: int = 4 * 24 * 3600
    # The consumer sends messages back to its own buffer (with a delay, to wait without using up
    # deliveries): the environment variable that gets the buffer's URL, and sqs:SendMessage on it.
    send_back_url_env: str | None = None
    # sns: AWS services that publish to the topic (e.g. ses.amazonaws.com); the topic then gets a
    # CMK those services may use, as the AWS-managed SNS key cannot admit them.
    topic_publisher_services: Sequence[str] = ()
    # A key the caller shares between topics (its policy must admit those services); None: the
    # pipeline creates its own.
    topic_key_arn: pulumi.Input[str] | None = None
    # kinesis
    stream_mode: str = "ON_DEMAND"
    shard_count: int = 1  # PROVISIONED only
    # streams
    maximum_retry_attempts: int = 3
    maximum_record_age_seconds: int = 3600
    filter_patterns: Sequence[Mapping[str, Any]] = ()
    stream_arn: pulumi.Input[str] | None = None
    # s3
    bucket_name: pulumi.Input[str] | None = None
    bucket_arn: pulumi.Input[str] | None = None
    key_prefix: str = ""
    # a customer-managed key of the source the consumer reads (a table stream under a CMK)
    source_key_arn: pulumi.Input[str] | None = None
    # alarms
    metrics_namespace: str = "serverless-dr"
    metric_alarms: Sequence[ConsumerMetricAlarm] = ()
    # None: no alarm on the buffer's age (a consumer whose lag matters less than its failures,
    # which the DLQ-depth alarm reports: counters).
    oldest_message_alarm_seconds: int | None = 300
    iterator_age_alarm_ms: int | None = 60_000  # None: no alarm on the stream's lag, likewise
    # False: no alarm on the function's errors, for a consumer whose retried failures are not an
    # incident; what it finally fails on still reaches the DLQ and its depth alarm.
    errors_alarm: bool = True
    # Keys for the consumer's logs and environment and a concurrency limit (components/hardening.py);
    # on a buffered source the limit is also the mapping's maximum concurrency.
    hardening: Hardening = field(default_factory=Hardening)
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def buffered(self) -> bool:
        return self.source in ("sns", "s3", "sqs-fifo")

    @property
    def fifo(self) -> bool:
        return self.source == "sqs-fifo"

    def validate(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"EventPipelineArgs.source: {self.source!r} is not one of {', '.join(SOURCES)}")
        if self.max_receive_count < MIN_RECEIVE_COUNT:
            raise ValueError(f"EventPipelineArgs.max_receive_count: at least {MIN_RECEIVE_COUNT}, got {self.max_receive_count}")
        self.hardening.validate("EventPipelineArgs")
        if self.source == "dynamodb" and self.stream_arn is None:
            raise ValueError("EventPipelineArgs.stream_arn: required for source 'dynamodb'")
        if self.source != "dynamodb" and self.stream_arn is not None:
            raise ValueError("EventPipelineArgs.stream_arn: only for source 'dynamodb'")
        if self.source == "s3" and (self.bucket_name is None or self.bucket_arn is None):
            raise ValueError("EventPipelineArgs.bucket_name/bucket_arn: required for source 's3'")
        if self.source_key_arn is not None and self.source != "dynamodb":
            raise ValueError("EventPipelineArgs.source_key_arn: only for source 'dynamodb' (a table stream under a CMK)")
        if self.topic_publisher_services and self.source != "sns":
            raise ValueError("EventPipelineArgs.topic_publisher_services: only for source 'sns'")
        if self.filter_patterns and self.source not in ("dynamodb", "kinesis"):
            raise ValueError("EventPipelineArgs.filter_patterns: only stream sources are filtered here")
        if not 1 <= self.maximum_retry_attempts <= 10:
            raise ValueError(f"EventPipelineArgs.maximum_retry_attempts: 1-10 (bounded), got {self.maximum_retry_attempts}")
        if not 60 <= self.maximum_record_age_seconds <= 604_800:
            raise ValueError(f"EventPipelineArgs.maximum_record_age_seconds: 60-604800, got {self.maximum_record_age_seconds}")
        if self.stream_mode not in STREAM_MODES:
            raise ValueError(f"EventPipelineArgs.stream_mode: {self.stream_mode!r} is not one of {', '.join(STREAM_MODES)}")
        if self.stream_mode == "PROVISIONED" and not 1 <= self.shard_count <= 500:
            raise ValueError(f"EventPipelineArgs.shard_count: 1-500 shards, got {self.shard_count}")
        if self.fifo and self.batch_size > 10:
            raise ValueError(f"EventPipelineArgs.batch_size: at most 10 for a FIFO queue, got {self.batch_size}")
        if not 60 <= self.message_retention_seconds <= 1_209_600:
            raise ValueError(
                f"EventPipelineArgs.message_retention_seconds: 60-1209600 (SQS), got {self.message_retention_seconds}"
            )
        if self.send_back_url_env is not None and not self.buffered:
            raise ValueError("EventPipelineArgs.send_back_url_env: only a buffered source has a queue to send back to")
        if self.buffered and self.timeout * VISIBILITY_TIMEOUT_FACTOR > 43_200:
            raise ValueError(f"EventPipelineArgs.timeout: {self.timeout} s makes the visibility timeout exceed SQS's 12 h")


class EventPipeline(pulumi.ComponentResource):
    function_name: pulumi.Output[str]
    dlq_arn: pulumi.Output[str]
    dlq_url: pulumi.Output[str]
    dlq_name: pulumi.Output[str]
    queue_arn: pulumi.Output[str] | None
    queue_url: pulumi.Output[str] | None
    topic_arn: pulumi.Output[str] | None
    stream_arn: pulumi.Output[str] | None
    stream_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: EventPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        args.validate()
        super().__init__("serverless-dr:index:EventPipeline", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.queue_arn = self.queue_url = self.topic_arn = self.stream_arn = self.stream_name = None

        dlq = aws.sqs.Queue(
            f"{name}-dlq",
            fifo_queue=args.fifo or None,  # a FIFO queue's DLQ must be FIFO too
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 24 * 3600,  # the maximum: time to inspect and redrive
            tags=tags,
            opts=child,
        )
        if args.source != "sns":  # an SNS source's DLQ also admits the topic (below)
            self._tls_only(f"{name}-dlq-policy", dlq, extra=[], child=child)

        grants: list[Mapping[str, Any]] = [*self._idempotency_grants(args), *args.statements]
        queue = None
        if args.buffered:
            fifo = (
                {
                    "fifo_queue": True,
                    # Producers name each message (MessageDeduplicationId); throughput per message group.
                    "deduplication_scope": "messageGroup",
                    "fifo_throughput_limit": "perMessageGroupId",
                }
                if args.fifo
                else {}
            )
            queue = aws.sqs.Queue(
                f"{name}-queue",
                **fifo,
                sqs_managed_sse_enabled=True,
                # A message stays hidden while up to six attempts of the consumer could hold it.
                visibility_timeout_seconds=args.timeout * VISIBILITY_TIMEOUT_FACTOR,
                message_retention_seconds=args.message_retention_seconds,
                receive_wait_time_seconds=20,
                redrive_policy=dlq.arn.apply(
                    lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": args.max_receive_count})
                ),
                tags=tags,
                opts=child,
            )
            self.queue_arn, self.queue_url = queue.arn, queue.url
            grants.append(
                allow(
                    # What Lambda's poller does with the role (AWSLambdaSQSQueueExecutionRole).
                    ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
                    [queue.arn],
                    "Buffer",
                )
            )
            if args.send_back_url_env is not None:
                grants.append(allow(["sqs:SendMessage"], [queue.arn], "SendBack"))
            if args.source == "sns":
                services = sorted(args.topic_publisher_services)
                if args.topic_key_arn is not None:
                    topic_key = args.topic_key_arn
                elif services:
                    topic_key = rotating_key(f"{name}-topic-key", f"{name} topic", tags, child, service_principals=services).arn
                else:
                    topic_key = "alias/aws/sns"
                topic = aws.sns.Topic(f"{name}-topic", kms_master_key_id=topic_key, tags=tags, opts=child)
                service_publishes = (
                    [
                        {
                            "Sid": "ServicesPublish",
                            "Effect": "Allow",
                            "Principal": {"Service": services},
                            "Action": "sns:Publish",
                            "Resource": topic.arn,
                            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                        }
                    ]
                    if services
                    else []
                )
                aws.sns.TopicPolicy(
                    f"{name}-topic-policy",
                    arn=topic.arn,
                    policy=policy_document(
                        [
                            {
                                "Sid": "AccountPublishes",
                                "Effect": "Allow",
                                "Principal": {"AWS": account.apply(lambda a: f"arn:aws:iam::{a}:root")},
                                "Action": "sns:Publish",
                                "Resource": topic.arn,
                            },
                            *service_publishes,
                            deny_insecure_transport("sns:Publish", topic.arn),
                        ]
                    ),
                    opts=child,
                )
                self._tls_only(
                    f"{name}-queue-policy",
                    queue,
                    extra=[_service_may_send("sns.amazonaws.com", queue.arn, topic.arn)],
                    child=child,
                )
                # What SNS cannot deliver to the buffer (after its own retries) goes to the DLQ,
                # which must admit the topic: nothing published is dropped without a trace.
                dlq_policy = self._tls_only(
                    f"{name}-dlq-policy",
                    dlq,
                    extra=[_service_may_send("sns.amazonaws.com", dlq.arn, topic.arn)],
                    child=child,
                )
                aws.sns.TopicSubscription(
                    f"{name}-subscription",
                    topic=topic.arn,
                    protocol="sqs",
                    endpoint=queue.arn,
                    raw_message_delivery=True,
                    redrive_policy=dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn})),
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[dlq_policy])),
                )
                self.topic_arn = topic.arn
            elif args.fifo:
                # Producers are the account's own functions, granted sqs:SendMessage by IAM.
                self._tls_only(f"{name}-queue-policy", queue, extra=[], child=child)
            else:
                queue_policy = self._tls_only(
                    f"{name}-queue-policy",
                    queue,
                    extra=[_service_may_send("s3.amazonaws.com", queue.arn, args.bucket_arn, account)],
                    child=child,
                )
                aws.s3.BucketNotification(
                    f"{name}-notification",
                    bucket=args.bucket_name,
                    queues=[
                        aws.s3.BucketNotificationQueueArgs(
                            queue_arn=queue.arn, events=["s3:ObjectCreated:*"], filter_prefix=args.key_prefix or None
                        )
                    ],
                    # S3 tests delivery when the notification is saved: the queue must admit it first.
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[queue_policy])),
                )
            source_arn = queue.arn
        else:
            if args.source == "kinesis":
                stream = aws.kinesis.Stream(
                    f"{name}-stream",
                    stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode=args.stream_mode),
                    shard_count=args.shard_count if args.stream_mode == "PROVISIONED" else None,
                    encryption_type="KMS",
                    kms_key_id="alias/aws/kinesis",
                    retention_period=24,
                    tags=tags,
                    opts=child,
                )
                self.stream_arn, self.stream_name = stream.arn, stream.name
                source_arn = stream.arn
                grants.append(
                    allow(
                        [
                            "kinesis:DescribeStream",
                            "kinesis:DescribeStreamSummary",
                            "kinesis:GetRecords",
                            "kinesis:GetShardIterator",
                            "kinesis:ListShards",
                        ],
                        [stream.arn],
                        "ReadStream",
                    )
                )
            else:
                source_arn = pulumi.Output.from_input(args.stream_arn)
                grants.append(
                    allow(
                        # ListStreams takes no resource (only "*"): on the stream ARN it authorised
                        # nothing, and the mapping reads the stream it is given without it.
                        ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                        # The table's streams (`table/<t>/stream/*`, as AWS's example policy has
                        # it): a stream label carries colons that linters misread as ARN fields,
                        # and the grant stays on this table when the stream is re-enabled.
                        [source_arn.apply(lambda arn: arn.split("/stream/", 1)[0] + "/stream/*")],
                        "ReadTableStream",
                    )
                )
                if args.source_key_arn is not None:
                    grants.append(allow(["kms:Decrypt"], [args.source_key_arn], "DecryptTableStream"))
            grants.append(allow(["sqs:SendMessage"], [dlq.arn], "OnFailureDestination"))

        function = LambdaFunction(
            f"{name}-fn",
            LambdaFunctionArgs(
                handler=args.handler,
                code=args.code,
                layers=[args.layer_arn],
                alert_topic_arn=args.alert_topic_arn,
                throttle_alarm=False,
                errors_alarm=args.errors_alarm,
                log_retention_days=args.log_retention_days,
                timeout=args.timeout,
                memory_size=args.memory_size,
                environment={
                    **args.environment,
                    **({args.send_back_url_env: queue.url} if args.send_back_url_env and queue is not None else {}),
                    "IDEMPOTENCY_TABLE": args.idempotency_table_name,
                    "POWERTOOLS_SERVICE_NAME": args.service_name,
                    "POWERTOOLS_METRICS_NAMESPACE": args.metrics_namespace,
                    **({"MAX_RECEIVES": str(args.max_receive_count)} if args.buffered else {}),
                },
                statements=grants,
                hardening=args.hardening,
                tags=tags,
            ),
            opts=child,
        )

        mapping: dict[str, Any] = {
            "event_source_arn": source_arn,
            "function_name": function.arn,
            "batch_size": args.batch_size,
            "function_response_types": ["ReportBatchItemFailures"],
        }
        if args.buffered:
            if not args.fifo:  # Lambda supports no batching window on FIFO queues
                mapping["maximum_batching_window_in_seconds"] = args.max_batching_window_seconds
            if args.hardening.concurrency_limit is not None:
                # The poller stays within the function's reservation instead of being throttled by it.
                mapping["scaling_config"] = aws.lambda_.EventSourceMappingScalingConfigArgs(
                    maximum_concurrency=args.hardening.concurrency_limit
                )
        else:
            mapping.update(
                starting_position="LATEST",
                bisect_batch_on_function_error=True,
                maximum_retry_attempts=args.maximum_retry_attempts,
                maximum_record_age_in_seconds=args.maximum_record_age_seconds,
                destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                    on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(destination_arn=dlq.arn)
                ),
            )
            if args.filter_patterns:
                mapping["filter_criteria"] = aws.lambda_.EventSourceMappingFilterCriteriaArgs(
                    filters=[
                        aws.lambda_.EventSourceMappingFilterCriteriaFilterArgs(pattern=json.dumps(p, sort_keys=True))
                        for p in args.filter_patterns
                    ]
                )
        aws.lambda_.EventSourceMapping(f"{name}-mapping", **mapping, opts=child)

        alarm = {"topic_arn": args.alert_topic_arn, "tags": tags, "opts": child}
        metric_alarm(
            f"{name}-dlq-depth",
            description=f"{name}: messages or failed records waiting in the DLQ",
            namespace="AWS/SQS",
            metric="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dlq.name},
            threshold=0,
            **alarm,
        )
        if queue is not None and args.oldest_message_alarm_seconds is not None:
            metric_alarm(
                f"{name}-oldest-message",
                description=f"{name}: buffer not drained for {args.oldest_message_alarm_seconds} s",
                namespace="AWS/SQS",
                metric="ApproximateAgeOfOldestMessage",
                dimensions={"QueueName": queue.name},
                threshold=args.oldest_message_alarm_seconds,
                **alarm,
            )
        elif queue is None and args.iterator_age_alarm_ms is not None:
            metric_alarm(
                f"{name}-iterator-age",
                description=f"{name}: consumer more than {args.iterator_age_alarm_ms} ms behind the stream",
                namespace="AWS/Lambda",
                metric="IteratorAge",
                dimensions={"FunctionName": function.function_name},
                threshold=args.iterator_age_alarm_ms,
                **alarm,
            )

        for custom in args.metric_alarms:
            metric_alarm(
                f"{name}-{custom.metric.lower()}",
                description=f"{name}: {custom.description}",
                namespace=args.metrics_namespace,
                metric=custom.metric,
                dimensions={"service": args.service_name},
                statistic=custom.statistic,
                threshold=custom.threshold,
                comparison="GreaterThanOrEqualToThreshold",
                evaluation_periods=1,
                datapoints_to_alarm=1,
                **alarm,
            )

        self.function_name = function.function_name
        self.dlq_arn = dlq.arn
        self.dlq_url = dlq.url
        self.dlq_name = dlq.name
        self.register_outputs(
            {
                "function_name": self.function_name,
                "dlq_arn": self.dlq_arn,
                "queue_arn": self.queue_arn,
                "topic_arn": self.topic_arn,
                "stream_arn": self.stream_arn,
            }
        )

    @staticmethod
    def _idempotency_grants(args: EventPipelineArgs) -> list[Mapping[str, Any]]:
        if not args.idempotency_actions:
            return []
        grants = [allow(sorted(args.idempotency_actions), [args.idempotency_table_arn], "IdempotencyRecords")]
        if args.idempotency_key_arn:
            # A table under a customer-managed key: DynamoDB calls KMS with the caller's
            # permissions, to decrypt on a read and for a data key on a write.
            key = allow(["kms:Decrypt", "kms:GenerateDataKey"], [args.idempotency_key_arn], "IdempotencyRecordsKey")
            grants.append({**key, "Condition": {"StringLike": {"kms:ViaService": "dynamodb.*.amazonaws.com"}}})
        return grants

    def _tls_only(self, name: str, queue: aws.sqs.Queue, extra: list, child: pulumi.ResourceOptions) -> aws.sqs.QueuePolicy:
        return aws.sqs.QueuePolicy(
            name,
            queue_url=queue.url,
            policy=policy_document([*extra, deny_insecure_transport("sqs:*", queue.arn)]),
            opts=child,
        )


def _service_may_send(service: str, queue_arn, source_arn, account=None) -> dict[str, Any]:
    condition: dict[str, Any] = {"ArnEquals": {"aws:SourceArn": source_arn}}
    if account is not None:
        condition["StringEquals"] = {"aws:SourceAccount": account}
    return {
        "Sid": "SourceSends",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sqs:SendMessage",
        "Resource": queue_arn,
        "Condition": condition,
    }
