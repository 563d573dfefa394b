"""Reusable ComponentResources of serverless-dr, one per module."""

from components.alert_topic import AlertTopic, AlertTopicArgs
from components.event_pipeline import EventPipeline, EventPipelineArgs
from components.failover_dns import FailoverDns, FailoverDnsArgs, RegionalEndpoint
from components.global_table import GlobalTable, GlobalTableArgs, SecondaryIndex
from components.idempotency_table import IdempotencyTable, IdempotencyTableArgs
from components.lambda_function import LambdaFunction, LambdaFunctionArgs
from components.mail_sender import MailSender, MailSenderArgs
from components.replicated_buckets import ReplicatedBuckets, ReplicatedBucketsArgs
from components.serverless_api import ApiDomain, ServerlessApi, ServerlessApiArgs
from components.static_site import SiteDomain, StaticSite, StaticSiteArgs

__all__ = [
    "AlertTopic",
    "AlertTopicArgs",
    "ApiDomain",
    "EventPipeline",
    "EventPipelineArgs",
    "FailoverDns",
    "FailoverDnsArgs",
    "GlobalTable",
    "GlobalTableArgs",
    "IdempotencyTable",
    "IdempotencyTableArgs",
    "LambdaFunction",
    "LambdaFunctionArgs",
    "MailSender",
    "MailSenderArgs",
    "RegionalEndpoint",
    "ReplicatedBuckets",
    "ReplicatedBucketsArgs",
    "SecondaryIndex",
    "ServerlessApi",
    "ServerlessApiArgs",
    "SiteDomain",
    "StaticSite",
    "StaticSiteArgs",
]
