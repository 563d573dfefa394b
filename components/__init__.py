"""serverless-dr components: reusable Pulumi ComponentResources for an active-active,
multi-region serverless application on AWS.

Installed, this package imports as `serverless_dr`; inside this repository as `components`.
The five central components are GlobalTable, ServerlessApi, EventPipeline, StaticSite and
FailoverDns; the others are the pieces they and a typical composition need. Each takes one
frozen `...Args` dataclass with secure defaults and validates it before creating anything.
"""

from ._blocks.edge_names import EdgeName
from ._blocks.kms import rotating_key
from .alert_topic import AlertTopic, AlertTopicArgs
from .analytics import Analytics, AnalyticsArgs, Column, NamedQuerySpec, glue_columns
from .api_edge import ApiEdge, ApiEdgeArgs, StoredAnswers
from .aurora_global import AuroraGlobal, AuroraGlobalArgs
from .backups import Backups, BackupsArgs
from .container_service import ContainerService, ContainerServiceArgs
from .event_pipeline import ConsumerMetricAlarm, EventPipeline, EventPipelineArgs
from .failover_dns import FailoverDns, FailoverDnsArgs, RegionalEndpoint
from .global_table import GlobalTable, GlobalTableArgs, SecondaryIndex
from .hardening import Hardening
from .idempotency_table import IdempotencyTable, IdempotencyTableArgs
from .lambda_function import LambdaFunction, LambdaFunctionArgs
from .lease_voters import LeaseVoters, LeaseVotersArgs
from .mail_sender import MailSender, MailSenderArgs
from .openapi import Route, openapi_document
from .paid_content import PaidContent, PaidContentArgs
from .policies import allow
from .replicated_buckets import ReplicatedBuckets, ReplicatedBucketsArgs
from .serverless_api import ApiDomain, PrivateBackend, ServerlessApi, ServerlessApiArgs
from .static_site import PrefixReader, PremiumPath, SiteDomain, StaticSite, StaticSiteArgs

__version__ = "0.2.0"

__all__ = [
    "AlertTopic",
    "AlertTopicArgs",
    "Analytics",
    "AnalyticsArgs",
    "ApiDomain",
    "ApiEdge",
    "ApiEdgeArgs",
    "AuroraGlobal",
    "AuroraGlobalArgs",
    "Backups",
    "BackupsArgs",
    "Column",
    "ConsumerMetricAlarm",
    "ContainerService",
    "ContainerServiceArgs",
    "EdgeName",
    "EventPipeline",
    "EventPipelineArgs",
    "FailoverDns",
    "FailoverDnsArgs",
    "GlobalTable",
    "GlobalTableArgs",
    "Hardening",
    "IdempotencyTable",
    "IdempotencyTableArgs",
    "LambdaFunction",
    "LambdaFunctionArgs",
    "LeaseVoters",
    "LeaseVotersArgs",
    "MailSender",
    "MailSenderArgs",
    "NamedQuerySpec",
    "PaidContent",
    "PaidContentArgs",
    "PrefixReader",
    "PremiumPath",
    "PrivateBackend",
    "RegionalEndpoint",
    "ReplicatedBuckets",
    "ReplicatedBucketsArgs",
    "Route",
    "SecondaryIndex",
    "ServerlessApi",
    "ServerlessApiArgs",
    "SiteDomain",
    "StaticSite",
    "StaticSiteArgs",
    "StoredAnswers",
    "allow",
    "glue_columns",
    "openapi_document",
    "rotating_key",
]
