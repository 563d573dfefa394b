"""Before the first `pulumi up`: what the account must allow that no preview checks.

    sdr preflight --stack <stack> [--format text|json]

Reads Pulumi.<stack>.yaml (validated as a real preview would), plans the stack offline to learn
what it reserves, then asks AWS, per region of the stack, with the caller's credentials:

- SES production access: a new account is in the SES sandbox in every region, separately; there
  welcome mail reaches verified addresses only (warning: the stack deploys, mail is refused).
- Lambda concurrency: reserved concurrency must leave at least 100 unreserved executions in the
  region, and new accounts may have a quota far below the default 1,000 (blocking when the
  stack's reservations do not fit; warning when the quota is below 1,000).
- The API Gateway account setting (CloudWatch role for execution logging), one per account and
  region: with apiGatewayAccountSetting=existing it must already name a role (blocking); with
  managed it reports who owns it now (this stack, another stack of this project, or someone else).
- The Route 53 public hosted zone named by `domain` exists in the account (blocking).
- AWS Backup in the home region (with backups on and a copy region): a DynamoDB recovery point
  is copied to another region only with AWS Backup's advanced DynamoDB backup features
  (full management, one setting per account and region; blocking, the copy is the DR promise).

Each finding is one line; the exit code is 1 when anything blocking failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from stack.config import StackConfig

# Lambda keeps this many executions unreserved per region; a reservation that would go below fails.
UNRESERVED_FLOOR = 100
DEFAULT_CONCURRENCY_QUOTA = 1000


@dataclass(frozen=True)
class Finding:
    region: str
    check: str
    ok: bool
    blocking: bool
    detail: str

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.blocking else "warn")
        return f"{mark} {self.region:<14} {self.check:<22} {self.detail}"


def ses_production_access(sesv2: Any, region: str) -> Finding:
    account = sesv2.get_account()
    if not account.get("SendingEnabled", True):
        return Finding(region, "ses-sending", False, False, "SES sending is paused for this account in this region")
    if account.get("ProductionAccessEnabled"):
        return Finding(region, "ses-production-access", True, False, "production access granted")
    return Finding(
        region,
        "ses-production-access",
        False,
        False,
        "SES sandbox: welcome mail reaches verified addresses only; request production access for this region",
    )


def lambda_concurrency(lambda_: Any, region: str, reserved: int) -> Finding:
    limits = lambda_.get_account_settings()["AccountLimit"]
    quota, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    if reserved and unreserved - reserved < UNRESERVED_FLOOR:
        return Finding(
            region,
            "lambda-concurrency",
            False,
            True,
            f"the stack reserves {reserved} but only {unreserved} of {quota} are unreserved and {UNRESERVED_FLOOR} must stay "
            "so; lower functionConcurrencyLimit or healthReservedConcurrency, or request a quota increase",
        )
    if quota < DEFAULT_CONCURRENCY_QUOTA:
        return Finding(
            region,
            "lambda-concurrency",
            False,
            False,
            f"quota {quota} concurrent executions (default {DEFAULT_CONCURRENCY_QUOTA}): a new account's reduced quota; "
            "request an increase before taking production traffic",
        )
    return Finding(
        region, "lambda-concurrency", True, False, f"quota {quota}, {unreserved} unreserved, stack reserves {reserved}"
    )


def api_gateway_logging_role(apigateway: Any, iam: Any, region: str, cfg: StackConfig) -> Finding:
    role_arn = apigateway.get_account().get("cloudwatchRoleArn")
    managed = cfg.api_gateway_account_setting == "managed"
    if not role_arn:
        if managed:
            return Finding(region, "apigateway-account", True, False, "no CloudWatch role set: this stack will set it")
        return Finding(
            region,
            "apigateway-account",
            False,
            True,
            "apiGatewayAccountSetting=existing but no CloudWatch role is set: execution logging would fail; use managed",
        )
    owner = _role_owner(iam, role_arn.rsplit("/", 1)[-1])
    if owner is None:
        return Finding(
            region,
            "apigateway-account",
            managed,
            not managed,
            f"set to {role_arn}, which no longer exists"
            + ("; this stack will replace it" if managed else ": execution logging fails; use managed"),
        )
    project, stack = owner
    if (project, stack) == (cfg.project, cfg.stack):
        return Finding(region, "apigateway-account", True, False, f"owned by this stack ({role_arn})")
    who = f"stack {stack} of this project" if project == cfg.project else "someone outside this project"
    if managed:
        return Finding(
            region,
            "apigateway-account",
            False,
            False,
            f"set by {who} ({role_arn}); this stack would take it over: set apiGatewayAccountSetting=existing in one of them",
        )
    return Finding(region, "apigateway-account", True, False, f"uses the role set by {who} ({role_arn})")


def _role_owner(iam: Any, role_name: str) -> tuple[str | None, str | None] | None:
    try:
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role_name)["Tags"]}
    except iam.exceptions.NoSuchEntityException:
        return None
    return tags.get("project"), tags.get("stack")


def hosted_zone(route53: Any, domain: str) -> Finding:
    zones = route53.list_hosted_zones_by_name(DNSName=domain, MaxItems="1")["HostedZones"]
    zone = zones[0] if zones else None
    if zone is None or zone["Name"].rstrip(".") != domain or zone.get("Config", {}).get("PrivateZone"):
        return Finding(
            "global", "route53-zone", False, True, f"no public hosted zone {domain} in this account: create it or change domain"
        )
    return Finding("global", "route53-zone", True, False, f"public hosted zone {domain} ({zone['Id'].rsplit('/', 1)[-1]})")


def backup_dynamodb_management(backup: Any, region: str) -> Finding:
    managed = backup.describe_region_settings().get("ResourceTypeManagementPreference", {}).get("DynamoDB", False)
    if managed:
        return Finding(region, "backup-dynamodb-copy", True, False, "advanced DynamoDB backup on: table backups can be copied")
    return Finding(
        region,
        "backup-dynamodb-copy",
        False,
        True,
        "AWS Backup's advanced DynamoDB backup is off: table backups cannot be copied to another region "
        "(aws backup update-region-settings --resource-type-management-preference DynamoDB=true)",
    )


def reserved_concurrency_by_region(run) -> Counter:
    """What the planned stack reserves per region (all functions that set reserved concurrency)."""
    reserved: Counter = Counter()
    for function in run.of_type("aws:lambda/function:Function"):
        value = function.inputs.get("reservedConcurrentExecutions")
        if value is not None and value >= 0:
            reserved[function.region] += value
    return reserved


def preflight(cfg: StackConfig, session: Any, reserved: Counter) -> list[Finding]:
    findings = []
    if cfg.domain:
        findings.append(hosted_zone(session.client("route53", region_name="us-east-1"), cfg.domain))
    if cfg.backup_copy_region:
        findings.append(backup_dynamodb_management(session.client("backup", region_name=cfg.home_region), cfg.home_region))
    for region in cfg.regions:
        findings.append(ses_production_access(session.client("sesv2", region_name=region), region))
        findings.append(lambda_concurrency(session.client("lambda", region_name=region), region, reserved[region]))
        findings.append(
            api_gateway_logging_role(
                session.client("apigateway", region_name=region), session.client("iam", region_name=region), region, cfg
            )
        )
    return findings


def run(stack: str, session: Any) -> list[Finding]:
    """`sdr preflight`: every check of the stack's target account, from its config."""
    from ops.config_file import read_config, stack_file_path
    from ops.offline_run import run_stack

    cfg = read_config(stack)
    reserved = reserved_concurrency_by_region(run_stack(stack, stack_file=stack_file_path(stack)))
    return preflight(cfg, session, reserved)
