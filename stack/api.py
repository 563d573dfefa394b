"""The blog's API in each region: the ServerlessApi component with the blog's routes and schemas
(stack/api_contract.py), the API and health functions' environment and grants, the shared admin
key and the regional custom domain."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import ApiDomain, ContainerService, GlobalTable, ReplicatedBuckets, ServerlessApi, ServerlessApiArgs, allow
from stack import api_contract, consumers
from stack.config import StackConfig
from stack.consumers import Region
from stack.packaging import code_archive, handler_of
from stack.paid_content import PremiumMedia
from stack.regional_paths import RegionalPaths
from stack.table_access import TableAccess

# The API function's timeout: room for a write to be confirmed by the in-sync regions (the
# functions' shared/confirm.py, up to 4 s) and, when it is not, to be deferred instead.
API_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class SigningKey:
    """The HMAC key of write ids, cursors and sealed intents in one region: an SSM SecureString
    (the same value everywhere), read by the functions at run time. Not in their environment:
    lambda:GetFunctionConfiguration shows that to anyone allowed it (policy rule
    lambda-no-plain-secrets). Encrypted with the AWS managed key aws/ssm, whose key policy lets
    this account's principals decrypt through SSM: who may read it is who may ssm:GetParameter it."""

    name: str
    arn: pulumi.Output[str]

    def environment(self) -> dict[str, str]:
        return {"SIGNING_KEY_PARAMETER": self.name}

    def grant(self, sid: str = "SigningKey") -> dict:
        return allow(["ssm:GetParameter"], [self.arn], sid)


def signing_key_parameter(cfg: StackConfig, region: Region, value: pulumi.Input[str]) -> SigningKey:
    name = f"/{cfg.project}/{cfg.stack}/signing-key"
    parameter = aws.ssm.Parameter(
        f"signing-key-{region.name}",
        name=name,
        type="SecureString",
        tier="Standard",
        value=value,
        description="HMAC key of the API's write ids, cursors and sealed write intents (the same in every region)",
        opts=region.opts(),
    )
    return SigningKey(name, parameter.arn)


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
        *access.ledger_statements(),
    ]


def api_environment(cfg: StackConfig, access: TableAccess, path: RegionalPaths, media_bucket, signing_key: SigningKey) -> dict:
    """What the blog API's code reads from its environment, in a function or in a container."""
    return {
        **access.environment(),
        "WRITE_RETRY_TOPIC_ARN": path.write_retry.topic_arn,
        **path.views_environment,
        "MEDIA_BUCKET": media_bucket,
        "MAX_UPLOAD_BYTES": str(cfg.max_upload_bytes),
        **signing_key.environment(),
        "POWERTOOLS_SERVICE_NAME": "api",
        "POWERTOOLS_METRICS_NAMESPACE": consumers.metrics_namespace(cfg),
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def regional_apis(
    cfg: StackConfig,
    regions: dict[str, Region],
    paths: dict[str, RegionalPaths],
    *,
    table: GlobalTable,
    access: TableAccess,
    media: ReplicatedBuckets,
    site_origin: pulumi.Input[str],
    admin_key: pulumi.Input[str],
    signing_keys: dict[str, SigningKey],
    drain_parameter_name: str,
    containers: dict[str, ContainerService] | None = None,
    premium: PremiumMedia | None = None,
) -> dict[str, ServerlessApi]:
    """One API per region, the home region's first (the others reuse its certificate validation)."""
    apis: dict[str, ServerlessApi] = {}
    home = cfg.home_region
    # Warm containers count in a region's health; a pilot-light standby has none on purpose.
    warm = {r: c for r, c in (containers or {}).items() if cfg.container.mode == "warm"}
    for name, region in regions.items():
        path = paths[name]
        apis[name] = ServerlessApi(
            f"api-{name}",
            ServerlessApiArgs(
                code=code_archive("api"),
                handler=handler_of("api"),
                routes=api_contract.routes(),
                schemas=api_contract.schemas(cfg.max_upload_bytes),
                environment={
                    **api_environment(cfg, access, path, media.names[name], signing_keys[name]),
                    **(premium.environment(name) if premium else {}),
                },
                statements=[
                    *api_statements(access, name, path.write_retry.topic_arn, path.views_grant, media.arns[name]),
                    signing_keys[name].grant(),
                    *(premium.statements(name) if premium else []),
                ],
                layers=[region.layer.arn],
                health_handler="api.health_app.handler",
                health_environment={
                    "TABLE_NAME": table.name,
                    "POWERTOOLS_SERVICE_NAME": "health",
                    **(path.failover.health_environment(cfg) if path.failover else {}),
                    **({"CONTAINER_TARGET_GROUP_ARN": warm[name].target_group_arn} if name in warm else {}),
                },
                health_statements=[
                    *access.reads(name, sid="HealthProbe"),
                    *(path.failover.health_statements() if path.failover else []),
                    # ELB's Describe* actions support no resource-level permission.
                    *([allow(["elasticloadbalancing:DescribeTargetHealth"], ["*"], "ContainerTargets")] if name in warm else []),
                ],
                health_reserved_concurrency=cfg.health_reserved_concurrency or None,
                manage_account_logging_role=cfg.api_gateway_account_setting == "managed",
                web_acl_arn=cfg.api_web_acl_arns.get(name),
                hardening=region.hardening,
                drain_parameter_name=drain_parameter_name,
                api_key_value=admin_key,
                allowed_origin=site_origin,
                private_backend=containers[name].backend if containers and name in containers else None,
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
    return apis
