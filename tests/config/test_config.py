"""Stack config validation: every refused value names its key, the value and what is allowed."""

import json

import pytest

from stack.config import ConfigError, parse_stack_config
from stack.project import load_project, load_stack_file
from tests.helpers import fixture_file

NS = "serverless-dr"


def raw_for(stack: str, **overrides) -> dict[str, str]:
    """The stack file's values in the string form Pulumi hands the program, plus overrides."""
    values = {
        k.split(":", 1)[1]: v for k, v in load_stack_file(stack, path=fixture_file(stack)).items() if k.startswith(f"{NS}:")
    }
    values.update(overrides)
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def refused(stack: str = "dr", **overrides) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw_for(stack, **overrides), stack=stack, allow_placeholder_domain=True)
    return caught.value


def test_dr_stack_file_parses_to_the_documented_shape():
    cfg = parse_stack_config(raw_for("dr"), stack="dr", allow_placeholder_domain=True)
    assert cfg.regions == ("us-east-1", "us-west-2")
    assert cfg.routing == "latency"
    assert (cfg.health_check_interval, cfg.health_check_failure_threshold, cfg.rto_budget_seconds) == (10, 3, 90)
    assert cfg.deletion_protection is True
    assert cfg.domain == "example.com"
    assert cfg.api_host == "api.example.com"


def test_dev_stack_is_one_region_without_domain_and_takes_project_defaults():
    cfg = parse_stack_config(raw_for("dev"), stack="dev", allow_placeholder_domain=True)
    assert cfg.regions == ("us-east-1",)
    assert cfg.domain is None and cfg.api_host is None
    defaults = load_project().keys
    assert cfg.health_check_interval == defaults["healthCheckIntervalSeconds"].default == 30
    assert cfg.deletion_protection is False
    assert cfg.log_retention_days == 7


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"regions": []}, "regions", "at least one AWS region"),
        ({"regions": ["us-east-1", "mars-north-1"]}, "regions", "mars-north-1 unknown"),
        ({"regions": ["us-east-1", "us-east-1"]}, "regions", "us-east-1 repeated"),
        ({"regions": "us-east-1"}, "regions", "a list of strings"),
        ({"routing": "round-robin"}, "routing", "one of latency, failover"),
        ({"healthCheckIntervalSeconds": 15}, "healthCheckIntervalSeconds", "one of 10, 30"),
        ({"healthCheckIntervalSeconds": "ten"}, "healthCheckIntervalSeconds", "an integer"),
        ({"healthCheckFailureThreshold": 0}, "healthCheckFailureThreshold", "from 1 to 10"),
        ({"healthCheckFailureThreshold": 11}, "healthCheckFailureThreshold", "from 1 to 10"),
        ({"evacuatedRegions": ["us-east-1", "us-west-2"]}, "evacuatedRegions", "at least one region left serving"),
        ({"evacuatedRegions": ["eu-west-1"]}, "evacuatedRegions", "regions of this stack only"),
        ({"consistency": "strong"}, "consistency", "exactly 3 regions, or 2 regions plus witnessRegion"),
        ({"consistency": "sequential"}, "consistency", "one of eventual, strong"),
        (
            {"consistency": "strong", "regions": ["us-east-1", "eu-west-1"], "witnessRegion": "us-east-2"},
            "consistency",
            "one region set",
        ),
        ({"witnessRegion": "us-east-2"}, "witnessRegion", "empty unless consistency is strong"),
        ({"consistency": "strong", "witnessRegion": "us-west-2"}, "witnessRegion", "not one of the serving regions"),
        ({"healthCheckIntervalSeconds": 30}, "rtoBudgetSeconds", "computed API failover time 150 s"),
        ({"healthCheckFailureThreshold": 4}, "rtoBudgetSeconds", "computed API failover time 100 s"),
        ({"alertEmail": "ops-at-example.com"}, "alertEmail", "an email address"),
        ({"senderEmail": "noreply@localhost"}, "senderEmail", "an email address"),
        ({"domain": "not a domain"}, "domain", "a DNS zone name"),
        ({"apiSubdomain": "API_1"}, "apiSubdomain", "one DNS label"),
        ({"siteSubdomain": "api"}, "siteSubdomain", "different from apiSubdomain"),
        ({"readSubdomain": "www"}, "readSubdomain", "different from siteSubdomain"),
        ({"readSubdomain": "Read_Edge"}, "readSubdomain", "one DNS label"),
        ({"logRetentionDays": 10}, "logRetentionDays", "one of 1, 3, 5, 7, 14"),
        ({"storedAnswerSeconds": 30}, "storedAnswerSeconds", "an integer from 60 to 86400"),
        ({"storedAnswerSeconds": 90_000}, "storedAnswerSeconds", "an integer from 60 to 86400"),
        ({"deletionProtection": "yes"}, "deletionProtection", "true or false"),
        ({"tableEncryption": "rot13"}, "tableEncryption", "one of aws-owned, customer-managed"),
        ({"logEncryption": "aws-managed"}, "logEncryption", "one of aws-owned, customer-managed"),
        ({"functionEnvironmentEncryption": "aws-owned"}, "functionEnvironmentEncryption", "one of aws-managed, customer-managed"),
        ({"functionConcurrencyLimit": 1}, "functionConcurrencyLimit", "0 for no limit, or 2 to 1000"),
        ({"functionConcurrencyLimit": 1001}, "functionConcurrencyLimit", "0 for no limit, or 2 to 1000"),
        ({"functionConcurrencyLimit": -5}, "functionConcurrencyLimit", "0 for no limit, or 2 to 1000"),
        ({"regionz": ["us-east-1"]}, "regionz", "unknown key; did you mean serverless-dr:regions?"),
        ({"colour": "blue"}, "colour", "unknown key; the keys are declared in Pulumi.yaml"),
        ({"apiWebAclArns": ["arn:aws:wafv2:us-east-1:123456789012:global/webacl/a/b"]}, "apiWebAclArns", "scope REGIONAL"),
        ({"apiWebAclArns": ["arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/a/b"]}, "apiWebAclArns", "serving region"),
    ],
)
def test_bad_value_is_refused_with_its_key_value_and_rule(overrides, key, fragment):
    error = refused(**overrides)
    assert error.key == f"{NS}:{key}"
    message = str(error)
    assert message.startswith(f"config {NS}:{key}=")
    assert fragment in message
    assert "\n" not in message  # one line: key, value, rule


def test_refusal_message_quotes_the_offending_value():
    assert "healthCheckIntervalSeconds=15 " in str(refused(healthCheckIntervalSeconds=15))
    assert '["us-east-1", "us-east-1"]' in str(refused(regions=["us-east-1", "us-east-1"]))


def test_rto_budget_is_not_applied_to_a_single_region_stack():
    # dev checks every 30 s: 30 x 3 + 60 = 150 s exceeds a 90 s budget, but one region has no
    # failover target, so no RTO is claimed and none is checked.
    cfg = parse_stack_config(raw_for("dev", rtoBudgetSeconds=90), stack="dev", allow_placeholder_domain=True)
    assert cfg.rto_budget_seconds == 90


def test_strong_consistency_shapes_that_aws_accepts():
    three = parse_stack_config(
        raw_for("dr", consistency="strong", regions=["us-east-1", "us-east-2", "us-west-2"]),
        stack="dr",
        allow_placeholder_domain=True,
    )
    assert three.witness_region is None
    witnessed = parse_stack_config(
        raw_for("dr", consistency="strong", witnessRegion="us-east-2"), stack="dr", allow_placeholder_domain=True
    )
    assert witnessed.witness_region == "us-east-2"


def test_evacuating_some_regions_is_allowed():
    cfg = parse_stack_config(raw_for("dr", evacuatedRegions=["us-west-2"]), stack="dr", allow_placeholder_domain=True)
    assert cfg.evacuated_regions == ("us-west-2",)


def test_every_declared_key_has_type_description_and_default():
    for name, spec in load_project().keys.items():
        assert spec.type in ("string", "integer", "boolean", "array"), name
        assert len(spec.description) > 20, name
        assert spec.default is not None, name


def test_default_aws_provider_is_disabled_in_the_project_file():
    assert load_project().fixed_values["pulumi:disable-default-providers"] == ["aws"]


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"apiThrottleRateLimit": 0}, "apiThrottleRateLimit", "from 1 to 10000"),
        ({"apiCacheTtlSeconds": 3601}, "apiCacheTtlSeconds", "from 0 to 3600"),
        ({"edgeCacheSeconds": 0}, "edgeCacheSeconds", "from 1 to 240"),
        ({"edgeCacheSeconds": 241}, "edgeCacheSeconds", "from 1 to 240"),
        ({"maxUploadBytes": 10}, "maxUploadBytes", "from 1024 to 52428800"),
        (
            {"adminThrottleRateLimit": 500, "apiThrottleRateLimit": 100},
            "adminThrottleRateLimit",
            "at most apiThrottleRateLimit (100)",
        ),
        ({"apiCacheEnabled": "sometimes"}, "apiCacheEnabled", "true or false"),
    ],
)
def test_api_settings_are_bounded(overrides, key, fragment):
    error = refused(**overrides)
    assert error.key == f"{NS}:{key}" and fragment in str(error)


def test_failover_routing_needs_exactly_two_regions():
    error = refused(routing="failover", regions=["us-east-1", "us-west-2", "eu-west-1"], rtoBudgetSeconds=90)
    assert error.key == f"{NS}:routing" and "exactly 2 regions" in str(error)


def test_several_regions_need_a_domain_and_site_settings_are_checked():
    assert refused(domain="").key == f"{NS}:domain"
    assert "one API name" in str(refused(domain=""))
    assert refused(sitePriceClass="PriceClass_Cheap").key == f"{NS}:sitePriceClass"
    error = refused(siteWebAclArn="arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/x/y")
    assert error.key == f"{NS}:siteWebAclArn" and "scope CLOUDFRONT" in str(error)


@pytest.mark.parametrize("domain", ["example.com", "shop.example.org", "blog.test", "EXAMPLE.NET."])
def test_a_placeholder_domain_is_refused_for_a_real_preview_with_the_key_named(domain):
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(raw_for("dr", domain=domain), stack="dr")
    message = str(caught.value)
    assert caught.value.key == f"{NS}:domain" and "\n" not in message
    assert "placeholder" in message and f"pulumi config set {NS}:domain" in message


def test_a_domain_the_user_owns_is_accepted_for_a_real_preview():
    cfg = parse_stack_config(raw_for("dr", domain="blog.acme.io"), stack="dr")
    assert cfg.api_host == f"{cfg.api_subdomain}.blog.acme.io"


def test_the_real_program_ends_a_config_error_in_one_line_without_a_traceback():
    """`pulumi up` runs __main__.py: a refused value ends it through pulumi.RunError, which the CLI
    prints as the message alone."""
    import pulumi

    from tests.helpers import fixture_stack

    with pytest.raises(pulumi.RunError) as caught:
        fixture_stack("dr", healthCheckFailureTreshold="1")
    message = str(caught.value)
    assert "\n" not in message and "did you mean serverless-dr:healthCheckFailureThreshold?" in message


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"backupSchedule": "rate(1 day)"}, "backupSchedule", "not of the form cron("),
        ({"backupSchedule": "cron(0 5 * * *)"}, "backupSchedule", "has 5 fields, not 6"),
        ({"backupSchedule": "cron(0 5 * * * *)"}, "backupSchedule", "exactly one of day-of-month and day-of-week"),
        ({"backupSchedule": "cron(0 27 * * ? *)"}, "backupSchedule", "hours '27' is outside 0-23"),
        ({"backupSchedule": "cron(0 5 L * ? *)"}, "backupSchedule", "L, W and # are not evaluated"),
        ({"backupSchedule": "cron(0/30 * * * ? *)"}, "backupSchedule", "at most hourly"),
        ({"backupRetentionDays": 0}, "backupRetentionDays", "from 1 to 36500"),
        ({"backupVaultLock": "maybe"}, "backupVaultLock", "true or false"),
    ],
)
def test_backup_settings_are_checked_with_the_reason(overrides, key, fragment):
    error = refused(**overrides)
    assert error.key == f"{NS}:{key}" and fragment in str(error)


def test_a_weekday_backup_schedule_is_accepted():
    cfg = parse_stack_config(raw_for("dr", backupSchedule="cron(30 2 ? * MON-FRI *)"), stack="dr", allow_placeholder_domain=True)
    assert cfg.backup_schedule == "cron(30 2 ? * MON-FRI *)"


def test_the_edge_budget_follows_the_config():
    from stack.budget import compute_budget

    cfg = parse_stack_config(raw_for("dr", edgeCacheSeconds=30), stack="dr", allow_placeholder_domain=True)
    edge = compute_budget(cfg).edge_reads
    assert edge["stale_at_most_seconds"] == 30
    assert edge["origin_group"] == list(cfg.regions[:2])
    # An evacuated region leaves the edge's group: a one-region edge has nothing to fail over to.
    evacuated = parse_stack_config(raw_for("dr", evacuatedRegions=[cfg.regions[0]]), stack="dr", allow_placeholder_domain=True)
    assert compute_budget(evacuated).edge_reads["origin_group"] is None
    off = parse_stack_config(raw_for("dr", edgeReads="false"), stack="dr", allow_placeholder_domain=True)
    assert compute_budget(off).edge_reads is None


IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/blog-api@sha256:" + "ab" * 32
CONTAINERS = {"containerBackend": "warm", "containerImage": IMAGE}
PILOT = {**CONTAINERS, "containerBackend": "pilot-light"}


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"containerBackend": "hot"}, "containerBackend", "one of off, pilot-light, warm"),
        ({**CONTAINERS, "containerImage": ""}, "containerImage", "pinned by digest"),
        (
            {**CONTAINERS, "containerImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/blog-api:latest"},
            "containerImage",
            "(a tag can move under the same name)",
        ),
        ({**CONTAINERS, "containerImage": "public.ecr.aws/docker/library/httpd:latest"}, "containerImage", "private ECR"),
        ({**CONTAINERS, "containerImage": IMAGE.replace("us-east-1", "us-west-2")}, "containerImage", "home region us-east-1"),
        ({**CONTAINERS, "containerCpu": 300}, "containerCpu", "Fargate CPU units"),
        ({**CONTAINERS, "containerMemory": 4096}, "containerMemory", "with containerCpu 256"),
        ({**CONTAINERS, "containerCpu": 2048, "containerMemory": 2048}, "containerMemory", "4096-16384 in steps of 1024"),
        ({**CONTAINERS, "containerArchitecture": "arm64"}, "containerArchitecture", "ARM64, X86_64"),
        ({**CONTAINERS, "containerPort": 80}, "containerPort", "unprivileged"),
        ({**CONTAINERS, "containerNetwork": "private"}, "containerNetwork", "CannotPullContainerError"),
        ({**CONTAINERS, "containerNetwork": "vpn"}, "containerNetwork", "one of public-subnets"),
        ({**CONTAINERS, "containerMinTasks": 5, "containerMaxTasks": 4}, "containerMinTasks", "at most containerMaxTasks"),
        ({**CONTAINERS, "containerMinTasks": 0}, "containerMinTasks", "at least 1 when warm"),
        ({**CONTAINERS, "containerRoutes": ["GET /health"]}, "containerRoutes", "but the health check"),
        ({**CONTAINERS, "containerRoutes": ["GET /nope"]}, "containerRoutes", "among the API's routes"),
        (
            {**CONTAINERS, "containerBackend": "pilot-light", "containerRtoBudgetSeconds": 120},
            "containerRtoBudgetSeconds",
            "pilot-light container RTO",
        ),
        ({**CONTAINERS, "domain": "", "regions": ["us-east-1"]}, "containerBackend", "load balancer proves a name"),
    ],
)
def test_container_choices_aws_or_the_design_would_refuse_are_refused_in_one_line(overrides, key, fragment):
    error = refused(**overrides)
    assert error.key == f"{NS}:{key}" and fragment in str(error) and "\n" not in str(error)


def test_a_pilot_light_budget_is_detection_plus_scale_plus_ttl_from_the_config():
    from components.failover_math import ALIAS_TTL_SECONDS, container_scale_seconds

    cfg = parse_stack_config(raw_for("dr", **PILOT), stack="dr", allow_placeholder_domain=True)
    detection = cfg.health_check_interval * cfg.health_check_failure_threshold
    assert cfg.container.rto_seconds == detection + container_scale_seconds() + ALIAS_TTL_SECONDS
    assert [cfg.container.tasks_in(r, cfg.home_region) for r in cfg.regions] == [cfg.container.min_tasks, 0]
    # One second less than what the mode needs is refused; exactly it is accepted.
    refused(**PILOT, containerRtoBudgetSeconds=cfg.container.rto_seconds - 1)
    raw = raw_for("dr", **PILOT, containerRtoBudgetSeconds=cfg.container.rto_seconds)
    assert (
        parse_stack_config(raw, stack="dr", allow_placeholder_domain=True).container.rto_budget_seconds
        == cfg.container.rto_seconds
    )


GLOBAL_DB = {"relationalDb": "aurora-serverless"}


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"relationalDb": "mysql"}, "relationalDb", "one of off, aurora-serverless"),
        ({**GLOBAL_DB, "relationalDbMinCapacity": "0"}, "relationalDbMinCapacity", "its primary cannot pause"),
        ({**GLOBAL_DB, "relationalDbMinCapacity": "0.75"}, "relationalDbMinCapacity", "in steps of 0.5"),
        ({**GLOBAL_DB, "relationalDbMinCapacity": "4", "relationalDbMaxCapacity": 2}, "relationalDbMaxCapacity", "at least"),
        ({**GLOBAL_DB, "relationalDbEngineVersion": "13.4"}, "relationalDbEngineVersion", "auto-pause, the Data API"),
        ({**GLOBAL_DB, "relationalDbWriteForwarding": True}, "relationalDbWriteForwarding", "answers only on a writer"),
        ({**GLOBAL_DB, "relationalDbDr": "pilot-light"}, "relationalDbDr", "one of global, backup-copy"),
        ({**GLOBAL_DB, "relationalDbSecondary": "hot"}, "relationalDbSecondary", "one of headless, warm"),
        ({**GLOBAL_DB, "relationalDbSecondsUntilAutoPause": 60}, "relationalDbSecondsUntilAutoPause", "300-86400"),
        ({**GLOBAL_DB, "relationalRtoBudgetSeconds": 300}, "relationalRtoBudgetSeconds", "relational RTO"),
        (
            {**GLOBAL_DB, "relationalDbAutomaticFailover": True, "writeFailover": "manual"},
            "relationalDbAutomaticFailover",
            "only an operator moves the write primary",
        ),
        (
            {**GLOBAL_DB, "relationalDbDr": "backup-copy", "relationalDbAutomaticFailover": True},
            "relationalDbAutomaticFailover",
            "without a global database",
        ),
    ],
)
def test_relational_choices_aws_or_the_budget_would_refuse_are_refused_in_one_line(overrides, key, fragment):
    error = refused(**overrides)
    assert error.key == f"{NS}:{key}" and fragment in str(error) and "\n" not in str(error)


def test_a_headless_secondary_costs_an_instance_creation_in_the_rto_and_warm_does_not():
    from components.failover_math import AURORA_INSTANCE_CREATE_SECONDS

    def rto(secondary):
        raw = raw_for("dr", **GLOBAL_DB, relationalDbSecondary=secondary)
        return parse_stack_config(raw, stack="dr", allow_placeholder_domain=True).relational.rto_seconds

    assert rto("headless") - rto("warm") == AURORA_INSTANCE_CREATE_SECONDS
    one = parse_stack_config(raw_for("dev", **GLOBAL_DB), stack="dev").relational
    assert (one.dr, one.min_capacity, one.pauses, one.rto_seconds) == (None, 0, True, None)
    assert "empty with one region" in str(refused("dev", **GLOBAL_DB, relationalDbDr="global"))


PAID = {"paidContent": "signed-cookies"}


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"paidContent": "signed-urls"}, "paidContent", "one of off, signed-cookies"),
        ({**PAID, "domain": "", "regions": ["us-east-1"]}, "paidContent", "no cookie for *.cloudfront.net"),
        ({**PAID, "premiumCookieSeconds": 59}, "premiumCookieSeconds", "from 60 to 3600"),
        ({**PAID, "premiumCookieSeconds": 86400}, "premiumCookieSeconds", "from 60 to 3600"),
        ({**PAID, "premiumSigningKeys": []}, "premiumSigningKeys", "one key name, or two"),
        ({**PAID, "premiumSigningKeys": ["k1", "k2", "k3"]}, "premiumSigningKeys", "one key name, or two"),
        ({**PAID, "premiumSigningKeys": ["k1", "k1"]}, "premiumSigningKeys", "two different ones"),
        ({**PAID, "premiumSigningKeys": ["Key One"]}, "premiumSigningKeys", "lowercase letters"),
        ({**PAID, "readerTokenMinutes": 4}, "readerTokenMinutes", "from 5 to 1440"),
        ({"premiumTestPurchases": True}, "premiumTestPurchases", "nothing to unlock"),
    ],
)
def test_paid_content_choices_that_cannot_work_are_refused_in_one_line(overrides, key, fragment):
    error = refused(**overrides)
    assert error.key == f"{NS}:{key}" and fragment in str(error) and "\n" not in str(error)


def test_paid_content_budget_follows_the_config():
    """A playing reader renews with half the cookie's life left: no gap when that half outlasts
    the API name's failover, the difference otherwise."""
    from components.failover_math import api_failover_seconds
    from stack.budget import compute_budget

    off = parse_stack_config(raw_for("dr"), stack="dr", allow_placeholder_domain=True)
    assert compute_budget(off).paid_content is None
    for seconds in (60, 300, 3600):
        cfg = parse_stack_config(raw_for("dr", **PAID, premiumCookieSeconds=seconds), stack="dr", allow_placeholder_domain=True)
        budget = compute_budget(cfg).paid_content
        failover = api_failover_seconds(cfg.health_check_interval, cfg.health_check_failure_threshold)
        assert budget["new_session_after_seconds"] == failover
        assert budget["playing_reader_gap_seconds"] == max(0, failover - seconds // 2)
        assert budget["cookie_seconds"] == seconds and cfg.paid_content.token_minutes == 60
