"""The five central components for every Pulumi language: a component package.

`provider/` holds the package (PulumiPlugin.yaml, a `component_provider_host` over the classes
below); `pulumi package add <repo>/provider` makes them usable from TypeScript, Go, C#, Java or
YAML. A Python program uses the components of this package directly instead.

Inputs cross languages only as plain data, so where the Python components take a map of
`aws.Provider`s these take region names, and create one explicit provider per region themselves
(named `<name>-<region>`): every resource still names its provider, as the default provider stays
unused. Files (the site's content, a function's code) are local directory paths, strings
resolved where the program runs. Policy statements, JSON schemas and filter patterns are JSON
strings. Each class builds the Python component of the same name and exposes its outputs as
plain values (maps of region to name or ARN).

(No `from __future__ import annotations` here: the provider host reads these annotations as types.)
"""

import json
from pathlib import Path
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from . import event_pipeline, failover_dns, global_table, serverless_api, static_site
from .hardening import Hardening
from .openapi import Route

GLOBAL_SERVICES_REGION = "us-east-1"


def _providers(name: str, regions: list[str], parent: pulumi.Resource) -> dict[str, aws.Provider]:
    return {r: aws.Provider(f"{name}-{r}", region=r, opts=pulumi.ResourceOptions(parent=parent)) for r in regions}


def _statements(documents: list | None) -> list:
    """IAM statements given as JSON strings (or outputs of them), as the components take them."""
    return [pulumi.Output.from_input(d).apply(json.loads) for d in documents or []]


def _map(values: dict[str, pulumi.Output[str]]) -> pulumi.Output[dict[str, str]]:
    return pulumi.Output.all(**values) if values else pulumi.Output.from_input({})


class HardeningArgs(TypedDict):
    log_key_arn: NotRequired[pulumi.Input[str]]
    """A customer managed key (in the component's region) for its log groups; its policy must admit CloudWatch Logs."""
    environment_key_arn: NotRequired[pulumi.Input[str]]
    """A customer managed key for the functions' environment variables."""
    concurrency_limit: NotRequired[int]
    """Reserved concurrency of each function (2 or more), and the maximum concurrency of an SQS mapping."""


def _hardening(args: HardeningArgs | None) -> Hardening:
    args = args or {}
    return Hardening(
        log_key_arn=args.get("log_key_arn"),
        environment_key_arn=args.get("environment_key_arn"),
        concurrency_limit=args.get("concurrency_limit"),
    )


# --- GlobalTable -------------------------------------------------------------------------------


class AttributeArgs(TypedDict):
    name: str
    """Attribute name (a key of the table or of an index)."""
    type: str
    """S, N or B."""


class IndexArgs(TypedDict):
    name: str
    hash_key: str
    range_key: NotRequired[str]


class GlobalTableArgs(TypedDict):
    regions: list[str]
    """The regions of the replicas; the first holds the table that owns them."""
    hash_key: str
    range_key: NotRequired[str]
    attributes: list[AttributeArgs]
    indexes: NotRequired[list[IndexArgs]]
    consistency: NotRequired[str]
    """eventual (default) or strong (multi-Region strong consistency)."""
    witness_region: NotRequired[str]
    encryption: NotRequired[str]
    """aws-owned (default) or customer-managed."""
    deletion_protection: NotRequired[bool]
    tags: NotRequired[dict[str, str]]


class GlobalTable(pulumi.ComponentResource):
    """A DynamoDB global table with point-in-time recovery and deletion protection on every replica."""

    table_name: pulumi.Output[str]
    arns: pulumi.Output[dict[str, str]]
    stream_arns: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: GlobalTableArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-dr:index:GlobalTable", name, None, opts)
        regions = list(args["regions"])
        table = global_table.GlobalTable(
            name,
            global_table.GlobalTableArgs(
                regions=regions,
                providers=_providers(name, regions, self),
                hash_key=args["hash_key"],
                range_key=args.get("range_key"),
                attributes={a["name"]: a["type"] for a in args["attributes"]},
                indexes=[
                    global_table.SecondaryIndex(name=i["name"], hash_key=i["hash_key"], range_key=i.get("range_key"))
                    for i in args.get("indexes") or []
                ],
                consistency=args.get("consistency", "eventual"),
                witness_region=args.get("witness_region"),
                encryption=args.get("encryption", "aws-owned"),
                deletion_protection=args.get("deletion_protection", True),
                tags=args.get("tags") or {},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.table_name = table.name
        self.arns = _map(table.arns)
        self.stream_arns = _map(table.stream_arns)
        self.register_outputs({"table_name": self.table_name, "arns": self.arns, "stream_arns": self.stream_arns})


# --- StaticSite --------------------------------------------------------------------------------


class StaticSiteArgs(TypedDict):
    regions: list[str]
    """Regions of the origin buckets; CloudFront fails over from the first to the second."""
    site_dir: str
    """Local directory whose files are published."""
    api_origin_pattern: str
    """What the page may call (the CSP connect-src), e.g. https://api.example.com."""
    domain_host: NotRequired[str]
    zone_name: NotRequired[str]
    price_class: NotRequired[str]
    access_logs: NotRequired[bool]
    web_acl_arn: NotRequired[pulumi.Input[str]]
    tags: NotRequired[dict[str, str]]


class StaticSite(pulumi.ComponentResource):
    """A static site in private buckets per region behind one CloudFront distribution with origin failover."""

    url: pulumi.Output[str]
    distribution_domain: pulumi.Output[str]
    bucket_names: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-dr:index:StaticSite", name, None, opts)
        regions = list(args["regions"])
        providers = _providers(name, sorted({*regions, GLOBAL_SERVICES_REGION}), self)
        domain = args.get("domain_host")
        site = static_site.StaticSite(
            name,
            static_site.StaticSiteArgs(
                regions=regions,
                providers={r: providers[r] for r in regions},
                global_provider=providers[GLOBAL_SERVICES_REGION],
                site_dir=Path(args["site_dir"]),
                api_origin_pattern=args["api_origin_pattern"],
                domain=static_site.SiteDomain(host=domain, zone_name=args["zone_name"]) if domain else None,
                price_class=args.get("price_class", "PriceClass_100"),
                access_logs=args.get("access_logs", False),
                web_acl_arn=args.get("web_acl_arn"),
                tags=args.get("tags") or {},
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = site.url
        self.distribution_domain = site.distribution_domain
        self.bucket_names = _map(site.bucket_names)
        self.register_outputs(
            {"url": self.url, "distribution_domain": self.distribution_domain, "bucket_names": self.bucket_names}
        )


# --- ServerlessApi -----------------------------------------------------------------------------


class RouteArgs(TypedDict):
    path: str
    method: str
    body: NotRequired[str]
    """Name of the request schema in `schemas`."""
    keyed: NotRequired[bool]
    """The admin API key is required."""
    public: NotRequired[str]
    """Why a write route needs no key."""
    query: NotRequired[list[str]]
    cached: NotRequired[bool]


class ServerlessApiArgs(TypedDict):
    region: str
    code_dir: str
    """Local directory with the function's code."""
    handler: str
    routes: list[RouteArgs]
    schemas: NotRequired[dict[str, str]]
    """Request schemas (JSON Schema documents as JSON strings) by name."""
    environment: NotRequired[dict[str, pulumi.Input[str]]]
    policy_statements: NotRequired[list[pulumi.Input[str]]]
    """IAM statements (JSON strings) the function needs beyond logs, tracing and its drain flag."""
    api_key_value: pulumi.Input[str]
    allowed_origin: NotRequired[pulumi.Input[str]]
    alert_topic_arn: NotRequired[pulumi.Input[str]]
    log_retention_days: NotRequired[int]
    drain_parameter_name: str
    hardening: NotRequired[HardeningArgs]
    tags: NotRequired[dict[str, str]]


class ServerlessApi(pulumi.ComponentResource):
    """A regional REST API (OpenAPI from the routes) with a Lambda proxy, a drain flag and a deep health route."""

    invoke_url: pulumi.Output[str]
    health_url: pulumi.Output[str]
    function_name: pulumi.Output[str]

    def __init__(self, name: str, args: ServerlessApiArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-dr:index:ServerlessApi", name, None, opts)
        [provider] = _providers(name, [args["region"]], self).values()
        api = serverless_api.ServerlessApi(
            name,
            serverless_api.ServerlessApiArgs(
                code=pulumi.FileArchive(args["code_dir"]),
                handler=args["handler"],
                routes=[Route.from_dict(r) for r in args["routes"]],
                schemas={k: json.loads(v) for k, v in (args.get("schemas") or {}).items()},
                environment=args.get("environment") or {},
                statements=_statements(args.get("policy_statements")),
                drain_parameter_name=args["drain_parameter_name"],
                api_key_value=args["api_key_value"],
                allowed_origin=args.get("allowed_origin"),
                alert_topic_arn=args.get("alert_topic_arn"),
                log_retention_days=args.get("log_retention_days", 14),
                hardening=_hardening(args.get("hardening")),
                tags=args.get("tags") or {},
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.invoke_url = api.invoke_url
        self.health_url = api.health_url
        self.function_name = api.function_name
        self.register_outputs({"invoke_url": self.invoke_url, "health_url": self.health_url, "function_name": self.function_name})


# --- EventPipeline -----------------------------------------------------------------------------


class EventPipelineArgs(TypedDict):
    region: str
    source: str
    """sns, s3, sqs-fifo, kinesis or dynamodb."""
    code_dir: str
    handler: str
    service_name: str
    idempotency_table_name: pulumi.Input[str]
    idempotency_table_arn: pulumi.Input[str]
    layer_arn: NotRequired[pulumi.Input[str]]
    alert_topic_arn: NotRequired[pulumi.Input[str]]
    environment: NotRequired[dict[str, str]]
    policy_statements: NotRequired[list[pulumi.Input[str]]]
    stream_arn: NotRequired[pulumi.Input[str]]
    bucket_name: NotRequired[pulumi.Input[str]]
    bucket_arn: NotRequired[pulumi.Input[str]]
    key_prefix: NotRequired[str]
    filter_patterns: NotRequired[list[str]]
    """Lambda event filters (JSON strings) for stream sources."""
    log_retention_days: NotRequired[int]
    hardening: NotRequired[HardeningArgs]
    tags: NotRequired[dict[str, str]]


class EventPipeline(pulumi.ComponentResource):
    """One source feeding one Lambda consumer with partial-batch failures, a DLQ and alarms."""

    function_name: pulumi.Output[str]
    dlq_arn: pulumi.Output[str]

    def __init__(self, name: str, args: EventPipelineArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-dr:index:EventPipeline", name, None, opts)
        [provider] = _providers(name, [args["region"]], self).values()
        pipeline = event_pipeline.EventPipeline(
            name,
            event_pipeline.EventPipelineArgs(
                source=args["source"],  # type: ignore[arg-type]  # validated by the component
                code=pulumi.FileArchive(args["code_dir"]),
                handler=args["handler"],
                service_name=args["service_name"],
                alert_topic_arn=args.get("alert_topic_arn"),
                layer_arn=args.get("layer_arn"),
                idempotency_table_name=args["idempotency_table_name"],
                idempotency_table_arn=args["idempotency_table_arn"],
                log_retention_days=args.get("log_retention_days", 14),
                environment=args.get("environment") or {},
                statements=_statements(args.get("policy_statements")),
                stream_arn=args.get("stream_arn"),
                bucket_name=args.get("bucket_name"),
                bucket_arn=args.get("bucket_arn"),
                key_prefix=args.get("key_prefix", ""),
                filter_patterns=[json.loads(p) for p in args.get("filter_patterns") or []],
                hardening=_hardening(args.get("hardening")),
                tags=args.get("tags") or {},
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.function_name = pipeline.function_name
        self.dlq_arn = pipeline.dlq_arn
        self.register_outputs({"function_name": self.function_name, "dlq_arn": self.dlq_arn})


# --- FailoverDns -------------------------------------------------------------------------------


class EndpointArgs(TypedDict):
    region: str
    health_host: pulumi.Input[str]
    health_path: str
    alias_name: pulumi.Input[str]
    alias_zone_id: pulumi.Input[str]


class FailoverDnsArgs(TypedDict):
    record_name: str
    zone_name: str
    endpoints: list[EndpointArgs]
    """In order: the first is primary for failover routing."""
    routing: NotRequired[str]
    interval: NotRequired[int]
    failure_threshold: NotRequired[int]
    evacuated_regions: NotRequired[list[str]]
    alert_topic_arn: NotRequired[pulumi.Input[str]]


class FailoverDns(pulumi.ComponentResource):
    """Health-checked latency or failover alias records for one API name across regions."""

    health_check_ids: pulumi.Output[dict[str, str]]
    rto_seconds: pulumi.Output[int]

    def __init__(self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("serverless-dr:index:FailoverDns", name, None, opts)
        [provider] = _providers(name, [GLOBAL_SERVICES_REGION], self).values()
        dns = failover_dns.FailoverDns(
            name,
            failover_dns.FailoverDnsArgs(
                record_name=args["record_name"],
                zone_name=args["zone_name"],
                endpoints={
                    e["region"]: failover_dns.RegionalEndpoint(
                        health_host=e["health_host"],
                        health_path=e["health_path"],
                        alias_name=e["alias_name"],
                        alias_zone_id=e["alias_zone_id"],
                    )
                    for e in args["endpoints"]
                },
                alert_topic_arn=args.get("alert_topic_arn"),
                routing=args.get("routing", "latency"),  # type: ignore[arg-type]  # validated by the component
                interval=args.get("interval", 30),
                failure_threshold=args.get("failure_threshold", 3),
                evacuated_regions=args.get("evacuated_regions") or [],
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.health_check_ids = _map(dns.health_check_ids)
        self.rto_seconds = pulumi.Output.from_input(dns.rto_seconds)
        self.register_outputs({"health_check_ids": self.health_check_ids, "rto_seconds": self.rto_seconds})


COMPONENTS = [GlobalTable, StaticSite, ServerlessApi, EventPipeline, FailoverDns]
