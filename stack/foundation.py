"""Each region's foundation: what every component of the region shares (stack/consumers.Region):
its alert topic and the key of its encrypted topics, the functions' dependency layer, the
idempotency table, and the stack's hardening choices (log and environment keys, concurrency)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components import AlertTopic, AlertTopicArgs, Hardening, IdempotencyTable, IdempotencyTableArgs, rotating_key
from components.lambda_function import ARCHITECTURE, RUNTIME
from stack.config import StackConfig
from stack.consumers import Region
from stack.packaging import layer_archive
from stack.providers import Providers


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


def regional_foundation(
    cfg: StackConfig, region: str, provider: aws.Provider, mail: bool, table_key_arn: pulumi.Input[str] | None = None
) -> Region:
    """`table_key_arn`: the region's customer-managed table key, which the idempotency table
    shares under the `customer-managed` table-encryption choice (None: AWS-owned keys)."""
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
            f"idempotency-{region}",
            IdempotencyTableArgs(deletion_protection=cfg.deletion_protection, kms_key_arn=table_key_arn),
            opts=opts,
        ),
        idempotency_key_arn=table_key_arn,
        hardening=hardening(cfg, region, opts),
    )


def foundations(cfg: StackConfig, providers: Providers, *, mail: bool, table_key_arns: dict) -> dict[str, Region]:
    """Every region's foundation, in the stack's order (the home region first)."""
    return {
        r: regional_foundation(cfg, r, providers.regional[r], mail=mail, table_key_arn=table_key_arns.get(r)) for r in cfg.regions
    }
