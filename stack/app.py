"""Builds the whole stack from a validated StackConfig: providers, then components per region."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components import (
    AlertTopic,
    AlertTopicArgs,
    Analytics,
    ApiDomain,
    Backups,
    BackupsArgs,
    EventPipeline,
    FailoverDns,
    FailoverDnsArgs,
    GlobalTable,
    GlobalTableArgs,
    Hardening,
    IdempotencyTable,
    IdempotencyTableArgs,
    RegionalEndpoint,
    ReplicatedBuckets,
    ReplicatedBucketsArgs,
    ServerlessApi,
    ServerlessApiArgs,
    SiteDomain,
    StaticSite,
    StaticSiteArgs,
    allow,
    rotating_key,
)
from components.lambda_function import ARCHITECTURE, RUNTIME
from stack import analytics, api_contract, consumers, data_model, write_failover
from stack.budget import compute_budget
from stack.config import StackConfig
from stack.consumers import Region
from stack.dashboard import RegionMetrics, build_dashboard
from stack.packaging import code_archive, handler_of, layer_archive
from stack.providers import build_providers
from stack.regions import GLOBAL_SERVICES_REGION
from stack.table_access import TableAccess

SITE_DIR = Path(__file__).resolve().parents[1] / "site"
# The API function's timeout: room for a write to be confirmed by the in-sync regions
# (functions/shared/confirm.py, up to 4 s) and, when it is not, to be deferred instead.
API_TIMEOUT_SECONDS = 15


def messaging_key(cfg: StackConfig, region: str, opts: pulumi.ResourceOptions, mail: bool) -> aws.kms.Key | None:
    """One rotating key per region for every encrypted topic the services publish to: CloudWatch
    alarms (alerts) and SES (mail feedback). The AWS-managed SNS key admits neither."""
    services = [*(["cloudwatch.amazonaws.com"] if cfg.alarms else []), *(["ses.amazonaws.com"] if mail else [])]
    if not services:
        return None
    return rotating_key(f"messaging-{region}", f"{region} alert and mail-feedback topics", {}, opts, service_principals=services)


def hardening(cfg: StackConfig, region: str, opts: pulumi.ResourceOptions) -> Hardening:
    """The region's keys for log groups and function environments (one key for both: KMS bills per
    key) and the functions' concurrency limit, as the stack's config chooses."""
    logs = cfg.log_encryption == "customer-managed"
    environments = cfg.function_environment_encryption == "customer-managed"
    if not (logs or environments):
        return Hardening(concurrency_limit=cfg.function_concurrency_limit)
    key = rotating_key(
        f"operations-{region}",
        f"{region} log groups and function environments",
        {},
        opts,
        service_principals=[f"logs.{region}.amazonaws.com"] if logs else [],
    )
    return Hardening(
        log_key_arn=key.arn if logs else None,
        environment_key_arn=key.arn if environments else None,
        concurrency_limit=cfg.function_concurrency_limit,
    )


def regional_foundation(cfg: StackConfig, region: str, provider: aws.Provider, mail: bool) -> Region:
    opts = pulumi.ResourceOptions(provider=provider)
    key = messaging_key(cfg, region, opts, mail)
    return Region(
        name=region,
        provider=provider,
        alerts=AlertTopic(f"alerts-{region}", AlertTopicArgs(email=cfg.alert_email, kms_key_arn=key.arn), opts=opts)
        if cfg.alarms and key is not None
        else None,
        messaging_key=key,
        layer=aws.lambda_.LayerVersion(
            f"deps-{region}",
            layer_name=f"{cfg.project}-{cfg.stack}-deps",
            description="Third-party packages of every function (functions/requirements.txt)",
            code=layer_archive(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            opts=opts,
        ),
        idempotency=IdempotencyTable(
            f"idempotency-{region}", IdempotencyTableArgs(deletion_protection=cfg.deletion_protection), opts=opts
        ),
        hardening=hardening(cfg, region, opts),
    )


def api_statements(access: TableAccess, region: str, topic_arn, page_views_grant: dict, bucket_arn) -> list[dict]:
    """What the blog API function does in its region, and nothing more."""
    return [
        *access.reads(region, query=True),
        *access.writes(region, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]),
        *access.lease_writes(),
        allow(["sns:Publish"], [topic_arn], "WriteRetryTopic"),
        page_views_grant,
        allow(["s3:PutObject"], [pulumi.Output.concat(bucket_arn, "/uploads/*")], "MediaUploads"),
        allow(["s3:GetObject"], [pulumi.Output.concat(bucket_arn, "/thumbnails/*")], "ReadThumbnails"),
        # A HEAD of a missing thumbnail answers 404 (not 403) only with s3:ListBucket on the bucket.
        allow(["s3:ListBucket"], [bucket_arn], "SeeMissingThumbnails"),
    ]


def build(cfg: StackConfig) -> None:
    providers = build_providers(cfg)

    table = GlobalTable(
        "app",
        GlobalTableArgs(
            regions=cfg.regions,
            providers=providers.regional,
            hash_key=data_model.HASH_KEY,
            range_key=data_model.RANGE_KEY,
            attributes=data_model.ATTRIBUTES,
            indexes=data_model.INDEXES,
            # MRSC tables do not support TTL: request records and tombstones are then kept.
            ttl_attribute=None if cfg.consistency == "strong" else data_model.TTL_ATTRIBUTE,
            consistency=cfg.consistency,
            witness_region=cfg.witness_region,
            encryption=cfg.table_encryption,
            deletion_protection=cfg.deletion_protection,
        ),
    )
    site = StaticSite(
        "site",
        StaticSiteArgs(
            regions=cfg.regions,
            providers=providers.regional,
            global_provider=providers.global_services,
            site_dir=SITE_DIR,
            # Known before the API exists, so the site and the API do not wait for each other.
            api_origin_pattern=f"https://{cfg.api_host}"
            if cfg.api_host
            else f"https://*.execute-api.{cfg.home_region}.amazonaws.com",
            domain=SiteDomain(host=cfg.site_host, zone_name=cfg.domain) if cfg.domain else None,
            price_class=cfg.site_price_class,
            access_logs=cfg.site_access_logs,
            web_acl_arn=cfg.site_web_acl_arn,
        ),
    )
    # The one browser origin allowed to call the API and to POST uploads.
    site_origin = site.origin
    media = ReplicatedBuckets(
        "media",
        ReplicatedBucketsArgs(regions=cfg.regions, providers=providers.regional, cors_origins=[site_origin]),
    )
    # One admin key value for every region: a client must not care which region DNS picked.
    admin_key = random.RandomPassword("admin-api-key", length=40, special=False)
    # Seals write ids and cursors; the same in every region, so a client failing over can present them.
    signing_key = random.RandomPassword("api-signing-key", length=48, special=False)
    voters = write_failover.lease_voters(cfg, providers.voters, table.key_arns)
    access = TableAccess(table, cfg, voters)
    drain_parameter_name = f"/{cfg.project}/{cfg.stack}/drain"

    # Welcome mail needs a sender SES can verify: the configured address, or noreply@ the domain.
    sender = cfg.sender_email or (f"noreply@{cfg.domain}" if cfg.domain else None)
    regions = {r: regional_foundation(cfg, r, providers.regional[r], mail=sender is not None) for r in cfg.regions}
    apis: dict[str, ServerlessApi] = {}
    pipelines: dict[str, list[EventPipeline]] = {}
    analytics_buckets = analytics.data_buckets(cfg, providers.regional) if cfg.analytics else None
    analytics_paths: dict[str, Analytics] = {}
    for name, region in regions.items():
        write_retry = consumers.write_retry(cfg, region, access, signing_key.result)
        if analytics_buckets is not None and cfg.page_view_transport == "sqs-fifo":
            # The queue has one reader: the views consumer forwards each view to Firehose.
            analytics_paths[name] = analytics.analytics_path(cfg, region, analytics_buckets)
            views = consumers.page_views(cfg, region, access, analytics.forwarding(analytics_paths[name]))
        else:
            views = consumers.page_views(cfg, region, access)
            if analytics_buckets is not None:  # Firehose reads the stream itself
                analytics_paths[name] = analytics.analytics_path(cfg, region, analytics_buckets, views.stream_arn)
        views_environment, views_grant = consumers.page_view_producer(views)
        failover = (
            write_failover.failover_function(cfg, region, access, drain_parameter_name, region.layer.arn) if voters else None
        )
        pipelines[name] = [write_retry, views, consumers.thumbnails(cfg, region, media)]
        if sender:
            pipelines[name] += consumers.mail_paths(cfg, region, access, sender)
        home = cfg.home_region
        apis[name] = ServerlessApi(
            f"api-{name}",
            ServerlessApiArgs(
                code=code_archive("api"),
                handler=handler_of("api"),
                routes=api_contract.routes(),
                schemas=api_contract.schemas(),
                environment={
                    **access.environment(),
                    "WRITE_RETRY_TOPIC_ARN": write_retry.topic_arn,
                    **views_environment,
                    "MEDIA_BUCKET": media.names[name],
                    "MAX_UPLOAD_BYTES": str(cfg.max_upload_bytes),
                    "SIGNING_KEY": pulumi.Output.secret(signing_key.result),
                    "POWERTOOLS_SERVICE_NAME": "api",
                    "POWERTOOLS_METRICS_NAMESPACE": consumers.metrics_namespace(cfg),
                    "POWERTOOLS_LOG_LEVEL": "INFO",
                },
                statements=api_statements(access, name, write_retry.topic_arn, views_grant, media.arns[name]),
                layers=[region.layer.arn],
                health_handler="api.health_app.handler",
                health_environment={
                    "TABLE_NAME": table.name,
                    "POWERTOOLS_SERVICE_NAME": "health",
                    **(failover.health_environment(cfg) if failover else {}),
                },
                health_statements=[*access.reads(name, sid="HealthProbe"), *(failover.health_statements() if failover else [])],
                health_reserved_concurrency=cfg.health_reserved_concurrency or None,
                manage_account_logging_role=cfg.api_gateway_account_setting == "managed",
                web_acl_arn=cfg.api_web_acl_arns.get(name),
                hardening=region.hardening,
                drain_parameter_name=drain_parameter_name,
                api_key_value=admin_key.result,
                allowed_origin=site_origin,
                alert_topic_arn=region.alert_topic_arn,
                log_retention_days=cfg.log_retention_days,
                throttle_rate_limit=cfg.api_throttle_rate_limit,
                throttle_burst_limit=cfg.api_throttle_burst_limit,
                admin_quota_per_day=cfg.admin_quota_per_day,
                admin_throttle_rate_limit=cfg.admin_throttle_rate_limit,
                cache_enabled=cfg.api_cache_enabled,
                timeout=API_TIMEOUT_SECONDS,
                cache_ttl_seconds=cfg.api_cache_ttl_seconds,
                domain=ApiDomain(
                    host=cfg.api_host,
                    zone_name=cfg.domain,
                    owns_validation_record=name == home,
                    validation_record=None if name == home else apis[home].certificate_validation_record,
                )
                if cfg.domain
                else None,
            ),
            opts=region.opts(),
        )

    dns = None
    if cfg.domain:
        global_alerts = regions[GLOBAL_SERVICES_REGION].alerts if GLOBAL_SERVICES_REGION in regions else None
        if global_alerts is None and cfg.alarms:
            # Health-check metrics exist only in us-east-1: their alarms need a topic there.
            global_alerts = AlertTopic(
                f"alerts-{GLOBAL_SERVICES_REGION}",
                AlertTopicArgs(email=cfg.alert_email),
                opts=pulumi.ResourceOptions(provider=providers.global_services),
            )
        dns = FailoverDns(
            "api-dns",
            FailoverDnsArgs(
                record_name=cfg.api_host,
                zone_name=cfg.domain,
                routing=cfg.routing,
                endpoints={
                    r: RegionalEndpoint(
                        health_host=api.invoke_url.apply(lambda url: url.split("/")[2]),
                        health_path=f"/{api.stage_name}/health",
                        alias_name=api.regional_domain_name,
                        alias_zone_id=api.regional_zone_id,
                    )
                    for r, api in apis.items()
                },
                interval=cfg.health_check_interval,
                failure_threshold=cfg.health_check_failure_threshold,
                evacuated_regions=cfg.evacuated_regions,
                alert_topic_arn=global_alerts.arn if global_alerts is not None else None,
                measure_latency=cfg.health_check_latency_graphs,
            ),
            opts=pulumi.ResourceOptions(provider=providers.global_services),
        )

    if cfg.backups:
        home = cfg.home_region
        backups = Backups(
            "backups",
            BackupsArgs(
                regions=cfg.regions,
                providers=providers.regional,
                home=home,
                # The table's home replica and the home media bucket: replicas hold the same data,
                # and a mistake replicated everywhere is undone from these recovery points.
                resources=[table.arns[home], media.arns[home]],
                copy_region=cfg.backup_copy_region,
                schedule=cfg.backup_schedule,
                retention_days=cfg.backup_retention_days,
                vault_lock=cfg.backup_vault_lock,
                alert_topic_arn=regions[home].alert_topic_arn,
            ),
        )
        pulumi.export("backupVaults", backups.vault_names)
        pulumi.export("backupRoleArn", backups.role_arn)
    if analytics_paths:
        analytics.export(analytics_paths)
    # Every region's own URL: the browser fails over between them itself (site/client.js), in
    # seconds, instead of waiting for DNS; apiBaseUrl is the name Route 53 routes.
    site.publish_config(
        {
            "apiBaseUrl": apis[cfg.home_region].public_url,
            "regions": {r: api.invoke_url for r, api in apis.items()},
            "failoverTimeoutMs": 1500,
        }
    )

    if cfg.dashboard:
        build_dashboard(
            "operations",
            {
                r: RegionMetrics(
                    api_name=apis[r].rest_api_name,
                    stage=apis[r].stage_name,
                    functions=[apis[r].function_name, *(p.function_name for p in pipelines[r])],
                    dlqs=[p.dlq_name for p in pipelines[r]],
                    stream_functions=[p.function_name for p in pipelines[r] if p.queue_arn is None],
                )
                for r in cfg.regions
            },
            table.name,
            dns.health_check_ids if dns else {},
            GLOBAL_SERVICES_REGION,
            providers.global_services,
        )

    pulumi.export("siteUrl", site.url)
    pulumi.export("siteBuckets", site.bucket_names)
    pulumi.export("distributionDomain", site.distribution_domain)
    pulumi.export("regions", list(cfg.regions))
    pulumi.export("homeRegion", cfg.home_region)
    pulumi.export("writeMode", cfg.write_mode)
    if voters is not None:
        pulumi.export("writeFailover", cfg.write_failover)
        pulumi.export("leaseVoterTables", voters.table_names)
        pulumi.export("leaseSeconds", cfg.lease_seconds)
    pulumi.export("tableName", table.name)
    pulumi.export("tableArns", table.arns)
    pulumi.export("tableStreamArns", table.stream_arns)
    pulumi.export("idempotencyTableNames", {r: reg.idempotency.name for r, reg in regions.items()})
    pulumi.export("mediaBuckets", media.names)
    pulumi.export("apiUrls", {r: a.invoke_url for r, a in apis.items()})
    pulumi.export("healthUrls", {r: a.health_url for r, a in apis.items()})
    pulumi.export("apiPublicUrl", apis[cfg.home_region].public_url)
    pulumi.export("drainParameters", {r: a.drain_parameter_name for r, a in apis.items()})
    if dns is not None:
        pulumi.export("apiRecordName", dns.fqdn)
        pulumi.export("zoneName", cfg.domain)
        pulumi.export("healthCheckIds", dns.health_check_ids)
        pulumi.export("apiRegionalTargets", {r: a.regional_domain_name for r, a in apis.items()})
    pulumi.export("adminApiKey", pulumi.Output.secret(admin_key.result))
    pulumi.export("drBudget", compute_budget(cfg).to_dict())
