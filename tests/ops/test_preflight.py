"""The preflight asks AWS what no preview checks; every answer is stubbed against the real API models."""

from collections import Counter

import boto3
import pytest
from botocore.stub import Stubber

from ops.preflight import (
    UNRESERVED_FLOOR,
    api_gateway_logging_role,
    backup_dynamodb_management,
    hosted_zone,
    lambda_concurrency,
    reserved_concurrency_by_region,
    ses_production_access,
)
from tests.helpers import cached_stack
from verify.variants import VARIANTS


def stubbed(service, operation, response, expected_params=None):
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_response(operation, response, expected_params)
    stubber.activate()
    return client


def ses_account(production):
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": production,
        "SendingEnabled": True,
    }


def test_ses_sandbox_is_reported_per_region_as_a_warning():
    sandbox = ses_production_access(stubbed("sesv2", "get_account", ses_account(False)), "eu-west-1")
    assert (sandbox.ok, sandbox.blocking, sandbox.region) == (False, False, "eu-west-1") and "sandbox" in sandbox.detail
    assert ses_production_access(stubbed("sesv2", "get_account", ses_account(True)), "eu-west-1").ok


def lambda_limits(quota, unreserved):
    return {"AccountLimit": {"ConcurrentExecutions": quota, "UnreservedConcurrentExecutions": unreserved}, "AccountUsage": {}}


@pytest.mark.parametrize(
    ("quota", "unreserved", "reserved", "ok", "blocking"),
    [
        (1000, 1000, 10, True, False),
        (10, 10, 0, False, False),  # a new account's reduced quota: nothing reserved, still a warning
        (10, 10, 5, False, True),  # a reservation that cannot leave 100 unreserved
        (1000, UNRESERVED_FLOOR + 5, 5, True, False),
        (1000, UNRESERVED_FLOOR + 4, 5, False, True),
    ],
)
def test_lambda_reservations_must_leave_the_unreserved_floor(quota, unreserved, reserved, ok, blocking):
    finding = lambda_concurrency(
        stubbed("lambda", "get_account_settings", lambda_limits(quota, unreserved)), "us-east-1", reserved
    )
    assert (finding.ok, finding.blocking) == (ok, blocking), finding.detail


def role_arn(name):
    return f"arn:aws:iam::123456789012:role/{name}"


def account_setting(cfg, role, tags=None, missing=False):
    apigateway = stubbed("apigateway", "get_account", {"cloudwatchRoleArn": role_arn(role)} if role else {})
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(iam)
    if role and missing:
        stubber.add_client_error("list_role_tags", "NoSuchEntity", http_status_code=404)
    elif role:
        stubber.add_response(
            "list_role_tags", {"Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()]}, {"RoleName": role}
        )
    stubber.activate()
    return api_gateway_logging_role(apigateway, iam, "us-east-1", cfg)


class Cfg:
    def __init__(self, setting, project="serverless-dr", stack="dr"):
        self.api_gateway_account_setting, self.project, self.stack = setting, project, stack


def test_the_api_gateway_account_setting_owner_is_named():
    mine = {"project": "serverless-dr", "stack": "dr"}
    assert account_setting(Cfg("managed"), "r", mine).detail.startswith("owned by this stack")
    assert account_setting(Cfg("managed"), None).ok
    other = account_setting(Cfg("managed"), "r", {"project": "serverless-dr", "stack": "dev"})
    assert (other.ok, other.blocking) == (False, False) and "stack dev of this project" in other.detail
    shared = account_setting(Cfg("existing"), "r", {"project": "serverless-dr", "stack": "dev"})
    assert shared.ok and "stack dev" in shared.detail
    outside = account_setting(Cfg("existing"), "r", {})
    assert outside.ok and "outside this project" in outside.detail


def test_existing_setting_without_a_role_blocks_the_deploy():
    unset = account_setting(Cfg("existing"), None)
    assert (unset.ok, unset.blocking) == (False, True)
    dangling = account_setting(Cfg("existing"), "gone", missing=True)
    assert (dangling.ok, dangling.blocking) == (False, True) and "no longer exists" in dangling.detail
    assert account_setting(Cfg("managed"), "gone", missing=True).ok


def zone(name, private=False):
    return {
        "HostedZones": [{"Id": "/hostedzone/Z1", "Name": name, "CallerReference": "c", "Config": {"PrivateZone": private}}],
        "IsTruncated": False,
        "MaxItems": "1",
    }


def test_the_hosted_zone_must_exist_and_be_public():
    params = {"DNSName": "blog.acme.io", "MaxItems": "1"}
    assert hosted_zone(stubbed("route53", "list_hosted_zones_by_name", zone("blog.acme.io."), params), "blog.acme.io").ok
    for answer in (zone("other.io."), zone("blog.acme.io.", private=True), {**zone("x."), "HostedZones": []}):
        finding = hosted_zone(stubbed("route53", "list_hosted_zones_by_name", answer, params), "blog.acme.io")
        assert (finding.ok, finding.blocking) == (False, True)


# Runs shared with tests/stacks/test_variants.py: health reserved alone, then with a limit for all.
HEALTH_ONLY = VARIANTS["failover-routing-locked-hourly-backups-pilot-light-headless-database"]
LIMITED = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]


def _setting(run, key: str) -> int:
    return int(run.config[f"serverless-dr:{key}"])


def test_reservations_come_from_the_planned_stack_per_region():
    run = cached_stack(HEALTH_ONLY[0], **HEALTH_ONLY[1])
    health = _setting(run, "healthReservedConcurrency")
    assert health > 0 and _setting(run, "functionConcurrencyLimit") == 0
    cfg_regions = set(json_list(run.config["serverless-dr:regions"]))
    assert reserved_concurrency_by_region(run) == Counter(dict.fromkeys(cfg_regions, health))
    assert reserved_concurrency_by_region(cached_stack("dev")) == Counter()


def test_a_concurrency_limit_reserves_it_for_every_function_but_health_which_keeps_its_own():
    run = cached_stack(LIMITED[0], **LIMITED[1])
    health, limit = _setting(run, "healthReservedConcurrency"), _setting(run, "functionConcurrencyLimit")
    assert health > 0 and limit > 0
    functions = Counter(f.region for f in run.of_type("aws:lambda/function:Function"))
    assert reserved_concurrency_by_region(run) == Counter({r: health + limit * (n - 1) for r, n in functions.items()})


def json_list(text):
    import json

    return json.loads(text)


def test_backup_copies_of_the_table_need_advanced_dynamodb_backup_in_the_home_region():
    off = {"ResourceTypeOptInPreference": {"DynamoDB": True, "S3": True}, "ResourceTypeManagementPreference": {"DynamoDB": False}}
    on = {"ResourceTypeOptInPreference": {}, "ResourceTypeManagementPreference": {"DynamoDB": True, "EFS": True}}
    refused = backup_dynamodb_management(stubbed("backup", "describe_region_settings", off), "us-east-1")
    assert (refused.ok, refused.blocking) == (False, True)
    assert "--resource-type-management-preference DynamoDB=true" in refused.detail
    assert backup_dynamodb_management(stubbed("backup", "describe_region_settings", on), "us-east-1").ok
