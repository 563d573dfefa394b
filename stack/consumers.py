"""The blog's event pipelines in one region: write retry, page views, thumbnails, mail paths.

Each is an EventPipeline fed by one source, consuming with a package of functions/ and granted
exactly what its handler does (stack/table_access.py for the table under the write mode).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import (
    AlertTopic,
    ConsumerMetricAlarm,
    EventPipeline,
    EventPipelineArgs,
    Hardening,
    IdempotencyTable,
    MailSender,
    MailSenderArgs,
    ReplicatedBuckets,
    allow,
)
from components.event_pipeline import POWERTOOLS_IDEMPOTENCY_ACTIONS
from functions.shared.failover_timing import DEFERRED_WRITE_MAX_WAIT_DAYS
from stack.config import StackConfig
from stack.event_filters import welcome_filter
from stack.packaging import code_archive, handler_of
from stack.table_access import TableAccess

# Each consumer's use of the region-local idempotency table: Powertools' records (welcome,
# bounces), the views' once-per-view marks (read, create, raise a count: never deleted), or none.
IDEMPOTENCY_USE: dict[str, tuple[str, ...]] = {
    "welcome": POWERTOOLS_IDEMPOTENCY_ACTIONS,
    "bounces": POWERTOOLS_IDEMPOTENCY_ACTIONS,
    "views": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    "edge_views": ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"),
    "retry": (),
    "thumbnails": (),
    "pages": (),
}


@dataclass(frozen=True)
class Region:
    """What one region's components share: provider, alert topic, layer, idempotency table, hardening."""

    name: str
    provider: aws.Provider
    alerts: AlertTopic | None  # None when the stack's `alarms` choice is off
    # The region's one key for its encrypted topics (alerts, mail feedback): KMS bills per key.
    messaging_key: aws.kms.Key | None
    layer: aws.lambda_.LayerVersion
    idempotency: IdempotencyTable
    # Keys for log groups and function environments, a concurrency limit: the stack's choices.
    hardening: Hardening
    # The idempotency table's customer-managed key (the region's table key), or None: AWS-owned.
    idempotency_key_arn: pulumi.Input[str] | None = None

    @property
    def alert_topic_arn(self) -> pulumi.Output[str] | None:
        return self.alerts.arn if self.alerts is not None else None

    def opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider, **kwargs)


def metrics_namespace(cfg: StackConfig) -> str:
    return f"{cfg.project}/{cfg.stack}"


def consumer_args(cfg: StackConfig, region: Region, package: str, **kwargs) -> EventPipelineArgs:
    """A pipeline consuming with functions/<package> (handler `<package>.app.handler`). Its
    grant on the region's idempotency table is what the package does there (IDEMPOTENCY_USE)."""
    return EventPipelineArgs(
        code=code_archive(package),
        handler=handler_of(package),
        service_name=package,
        alert_topic_arn=region.alert_topic_arn,
        layer_arn=region.layer.arn,
        idempotency_table_name=region.idempotency.name,
        idempotency_table_arn=region.idempotency.arn,
        idempotency_key_arn=region.idempotency_key_arn,
        idempotency_actions=IDEMPOTENCY_USE[package],
        log_retention_days=cfg.log_retention_days,
        metrics_namespace=metrics_namespace(cfg),
        hardening=region.hardening,
        **kwargs,
    )


def write_retry(cfg: StackConfig, region: Region, access: TableAccess, signing_key) -> EventPipeline:
    """Deferred writes: SNS -> SQS -> the retry consumer, which applies them and records their fate.
    `signing_key` (stack/api.py SigningKey) verifies the seal the API put on each intent."""
    name = region.name
    # A fenced write is one transaction of puts; UpdateItem is for the unfenced writes of the
    # multi-writer mode and for taking a region out of the lease's in-sync set.
    unfenced = cfg.write_mode != "single-primary"
    apply_actions = ["dynamodb:GetItem", "dynamodb:PutItem", *(["dynamodb:UpdateItem"] if unfenced or access.voters else [])]
    return EventPipeline(
        f"write-retry-{name}",
        consumer_args(
            cfg,
            region,
            "retry",
            source="sns",
            # A write waiting for a primary is sent back to the queue with a delay, each time kept
            # the whole retention anew; the consumer bounds the whole wait (retry/app.py).
            message_retention_seconds=DEFERRED_WRITE_MAX_WAIT_DAYS * 24 * 3600,
            send_back_url_env="WRITE_RETRY_QUEUE_URL",
            environment={**access.environment(), **signing_key.environment()},
            statements=[
                signing_key.grant(),
                *access.reads(name),
                *access.writes(name, apply_actions, sid="ApplyIntents"),
                *access.lease_writes(),
                *access.ledger_statements(),
            ],
            metric_alarms=[
                ConsumerMetricAlarm(metric="WritesRejected", description="a deferred write was rejected (see GET /writes/{id})"),
                ConsumerMetricAlarm(
                    metric="WritesDeadLettered",
                    description="a deferred write can never apply here: see GET /writes/{id}, redrive it",
                ),
                ConsumerMetricAlarm(
                    metric="OldestDeferredWriteAgeSeconds",
                    description="an accepted write has waited more than 5 minutes for a primary",
                    threshold=300,
                    statistic="Maximum",
                ),
                ConsumerMetricAlarm(
                    metric="IntentsRefused", description="a message on the write-retry queue was not an intent the API sealed"
                ),
            ],
        ),
        opts=region.opts(),
    )


def page_views(cfg: StackConfig, region: Region, access: TableAccess, forward: tuple[dict, dict] | None = None) -> EventPipeline:
    """Page views: the transport of `pageViewTransport` -> the views consumer, counting into this
    region's own counters (in order per post: the FIFO message group or the stream's partition key).
    `forward` (environment, grant): where the consumer also puts each view (analytics, when the
    transport is the queue, which has no second reader)."""
    environment, grants = forward if forward else ({}, None)
    transport = cfg.page_view_transport
    source: dict = (
        {"source": "sqs-fifo", "batch_size": 10}
        if transport == "sqs-fifo"
        else {
            "source": "kinesis",
            "batch_size": 100,
            "stream_mode": "PROVISIONED" if transport == "kinesis-provisioned" else "ON_DEMAND",
            "shard_count": 1,
        }
    )
    return EventPipeline(
        f"views-{region.name}",
        consumer_args(
            cfg,
            region,
            "views",
            **source,
            environment={"TABLE_NAME": access.table.name, **environment},
            statements=[
                *access.local_writes(region.name, ["dynamodb:GetItem", "dynamodb:UpdateItem"], sid="PublishViewCounts"),
                *([grants] if grants else []),
            ],
            # BadViewRecords (records skipped) is emitted, not alarmed: the API validates what it
            # puts on the transport, so it would only count a bug; an alarm costs $0.10 a month.
            # A counter that lags is not an incident, one that fails is: the DLQ depth alarms.
            oldest_message_alarm_seconds=None,
            iterator_age_alarm_ms=None,
            errors_alarm=False,
        ),
        opts=region.opts(),
    )


def page_view_producer(views: EventPipeline) -> tuple[dict, dict]:
    """What the API needs to send page views to `views`: its environment and its grant."""
    if views.queue_url is not None:
        return {"EVENTS_QUEUE_URL": views.queue_url}, allow(["sqs:SendMessage"], [views.queue_arn], "PageViews")
    return {"EVENTS_STREAM_NAME": views.stream_name}, allow(["kinesis:PutRecord"], [views.stream_arn], "PageViews")


def thumbnails(cfg: StackConfig, region: Region, media: ReplicatedBuckets) -> EventPipeline:
    bucket_arn = media.arns[region.name]
    return EventPipeline(
        f"thumbnails-{region.name}",
        consumer_args(
            cfg,
            region,
            "thumbnails",
            source="s3",
            bucket_name=media.names[region.name],
            bucket_arn=bucket_arn,
            key_prefix="uploads/",
            memory_size=1024,
            timeout=60,
            batch_size=5,
            statements=[
                allow(["s3:GetObject"], [pulumi.Output.concat(bucket_arn, "/uploads/*")], "ReadUploads"),
                allow(["s3:GetObject", "s3:PutObject"], [pulumi.Output.concat(bucket_arn, "/thumbnails/*")], "WriteThumbnails"),
                # A HEAD of a missing key answers 404 only to a caller with s3:ListBucket on the
                # bucket (403 otherwise). A condition on s3:prefix does not help: HeadObject
                # requests carry no s3:prefix, so such a grant never applies to them.
                allow(["s3:ListBucket"], [bucket_arn], "SeeMissingObjects"),
            ],
        ),
        opts=region.opts(),
    )


def mail_paths(cfg: StackConfig, region: Region, access: TableAccess, sender: str) -> list[EventPipeline]:
    """Welcome email (table stream -> SES) and its feedback loop (SES -> SNS -> suppression items)."""
    name, table = region.name, access.table
    feedback = EventPipeline(
        f"bounces-{name}",
        consumer_args(
            cfg,
            region,
            "bounces",
            source="sns",
            topic_publisher_services=["ses.amazonaws.com"],
            topic_key_arn=region.messaging_key.arn if region.messaging_key is not None else None,
            environment=access.environment(),
            statements=[
                *access.reads(name),
                *access.writes(name, ["dynamodb:UpdateItem"], sid="RecordSuppressions"),
                *access.ledger_statements("MailEventsLog"),
            ],
        ),
        opts=region.opts(),
    )
    mail = MailSender(
        f"mail-{name}",
        MailSenderArgs(sender=sender, domain=cfg.domain, feedback_topic_arn=feedback.topic_arn),
        opts=region.opts(),
    )
    account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=region.provider)).account_id
    configuration_set_arn = pulumi.Output.concat(
        "arn:aws:ses:", name, ":", account, ":configuration-set/", mail.configuration_set_name
    )
    # SES authorises a send against the From address's identity and, when it is verified through
    # its domain, the domain's: grant both, for this one sender.
    sender_identity_arn = pulumi.Output.concat("arn:aws:ses:", name, ":", account, ":identity/", sender)
    welcome = EventPipeline(
        f"welcome-{name}",
        consumer_args(
            cfg,
            region,
            "welcome",
            source="dynamodb",
            stream_arn=table.stream_arns[name],
            source_key_arn=table.key_arns.get(name),
            filter_patterns=[welcome_filter(name)],
            batch_size=25,
            environment={**access.environment(), "SENDER": sender, "CONFIGURATION_SET": mail.configuration_set_name},
            statements=[
                *access.reads(name),
                *access.writes(name, ["dynamodb:UpdateItem"], sid="ClaimWelcomes"),
                allow(["ses:SendEmail"], [mail.identity_arn, sender_identity_arn, configuration_set_arn], "SendWelcome"),
            ],
            # WelcomeClaimsOpen (sent, claim not closed: no second email follows) is emitted and
            # logged, not alarmed: nothing is left to do about one ($0.10 a month an alarm).
        ),
        opts=region.opts(),
    )
    return [feedback, welcome]
