"""Stack configuration: read once, typed, validated before any resource exists.

`parse_stack_config(raw)` takes the raw string values Pulumi hands a program (arrays as JSON,
integers and booleans as text) and returns a frozen `StackConfig`, or raises `ConfigError` whose
message names the key, the value and what is allowed. `load_stack_config()` does the same with
the running stack's `pulumi.Config`, falling back to the defaults declared in Pulumi.yaml.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from components import aws_cron
from components._blocks.edge_names import PRICE_CLASSES
from components.failover_math import api_failover_seconds
from functions.shared import failover_timing
from stack import api_contract
from stack.config_errors import ConfigError, one_of
from stack.container_config import ContainerConfig, parse_container_config
from stack.paid_content_config import PaidContentConfig, parse_paid_content_config
from stack.project import ConfigKey, load_project
from stack.regions import KNOWN_REGIONS, strong_consistency_region_set
from stack.relational_config import RelationalConfig, parse_relational_config

Routing = Literal["latency", "failover"]
Consistency = Literal["eventual", "strong"]
TableEncryption = Literal["aws-owned", "customer-managed"]
WriteMode = Literal["single-primary", "any-region"]

ROUTING_MODES: tuple[str, ...] = ("latency", "failover")
CONSISTENCY_MODES: tuple[str, ...] = ("eventual", "strong")
TABLE_ENCRYPTION_MODES: tuple[str, ...] = ("aws-owned", "customer-managed")
LOG_ENCRYPTION_MODES: tuple[str, ...] = ("aws-owned", "customer-managed")
ENVIRONMENT_ENCRYPTION_MODES: tuple[str, ...] = ("aws-managed", "customer-managed")
# 0 (no limit) or a reserved concurrency an SQS mapping's maximum concurrency can match (2-1000).
FUNCTION_CONCURRENCY_LIMITS = range(2, 1001)
WRITE_MODES: tuple[str, ...] = ("single-primary", "any-region")
WRITE_FAILOVER_MODES: tuple[str, ...] = ("automatic", "manual")
# The write lease (shared/lease.py): how long a grant lasts; its holder renews every half of it.
# Route 53's checkers call /health about once a second, which triggers the renewals.
LEASE_SECONDS = failover_timing.DEFAULT_LEASE_SECONDS
PAGE_VIEW_TRANSPORTS: tuple[str, ...] = ("sqs-fifo", "kinesis-provisioned", "kinesis-on-demand")
# A cached GET /thumbnails/{name} answer holds a presigned link valid 300 s (functions/api/uploads.py):
# kept at most 240 s at the edge, it still has a minute to be used.
EDGE_CACHE_SECONDS_MAX = 240
STORED_ANSWER_SECONDS_MAX = 86_400  # CloudFront's default maximum TTL
HEALTH_CHECK_INTERVALS: tuple[int, ...] = (10, 30)
FAILURE_THRESHOLD_RANGE = range(1, 11)
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_HOSTNAME = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True, kw_only=True)
class StackConfig:
    project: str
    stack: str
    regions: tuple[str, ...]
    routing: Routing
    domain: str | None
    api_subdomain: str
    site_subdomain: str
    read_subdomain: str
    health_check_interval: int
    health_check_failure_threshold: int
    rto_budget_seconds: int
    evacuated_regions: tuple[str, ...]
    consistency: Consistency
    write_mode: WriteMode
    witness_region: str | None
    write_failover: str
    lease_witness_region: str | None  # the third voter of an even number of serving regions
    table_encryption: TableEncryption
    log_encryption: str
    function_environment_encryption: str
    function_concurrency_limit: int | None
    deletion_protection: bool
    alert_email: str | None
    sender_email: str | None
    log_retention_days: int
    cost_center: str | None
    api_throttle_rate_limit: int
    api_throttle_burst_limit: int
    admin_quota_per_day: int
    admin_throttle_rate_limit: int
    api_cache_enabled: bool
    api_cache_ttl_seconds: int
    max_upload_bytes: int
    health_reserved_concurrency: int
    api_gateway_account_setting: Literal["managed", "existing"]
    site_price_class: str
    site_access_logs: bool
    site_web_acl_arn: str | None
    api_web_acl_arns: dict[str, str]  # region -> REGIONAL web ACL ARN
    page_view_transport: str
    edge_reads: bool
    post_pages: bool
    edge_cache_seconds: int
    stored_answer_seconds: int
    alarms: bool
    backups: bool
    backup_schedule: str
    backup_retention_days: int
    backup_vault_lock: bool
    analytics: bool
    analytics_retention_days: int
    analytics_buffer_seconds: int
    analytics_bytes_scanned_limit_mb: int
    dashboard: bool
    health_check_latency_graphs: bool
    container: ContainerConfig  # containerBackend and its keys (stack/container_config.py)
    relational: RelationalConfig  # relationalDb and its keys (stack/relational_config.py)
    paid_content: PaidContentConfig  # paidContent and its keys (stack/paid_content_config.py)

    @property
    def home_region(self) -> str:
        return self.regions[0]

    @property
    def serving_regions(self) -> list[str]:
        """The regions that take traffic, home first: every region but the evacuated ones."""
        return [r for r in self.regions if r not in self.evacuated_regions]

    @property
    def stored_answers(self) -> bool:
        """A post's GET answer stored beside its page and read there by the API's edge."""
        return self.edge_reads and self.post_pages

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1

    @property
    def write_lease(self) -> bool:
        """Single-primary across regions: the primary holds a lease, it can move without a deploy."""
        return self.write_mode == "single-primary" and self.multi_region

    @property
    def lease_voter_regions(self) -> tuple[str, ...]:
        if not self.write_lease:
            return ()
        return self.regions + ((self.lease_witness_region,) if self.lease_witness_region else ())

    @property
    def lease_seconds(self) -> int:
        return LEASE_SECONDS

    @property
    def backup_copy_region(self) -> str | None:
        """Where every recovery point is copied: the second region (none for a single-region stack)."""
        return self.regions[1] if self.backups and self.multi_region else None

    @property
    def api_host(self) -> str | None:
        return f"{self.api_subdomain}.{self.domain}" if self.domain else None

    @property
    def site_host(self) -> str | None:
        return f"{self.site_subdomain}.{self.domain}" if self.domain else None

    @property
    def read_host(self) -> str | None:
        """The API's read edge (edgeReads)."""
        return f"{self.read_subdomain}.{self.domain}" if self.domain else None


def _key(project: str, name: str) -> str:
    return f"{project}:{name}"


def _typed(project: str, spec: ConfigKey, raw: str | None) -> Any:
    """Convert Pulumi's string form of a value to the type Pulumi.yaml declares for it."""
    key = _key(project, spec.name)
    if raw is None:
        return spec.default
    if spec.type == "string":
        return raw
    if spec.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(key, raw, "an integer") from None
    if spec.type == "boolean":
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ConfigError(key, raw, "true or false")
    if spec.type == "array":
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise ConfigError(key, raw, "a list of strings (YAML list in the stack file)") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, value, "a list of strings")
        return value
    raise TypeError(f"Pulumi.yaml declares {spec.name} with unsupported type {spec.type}")


def _regions(key: str, regions: list[str]) -> tuple[str, ...]:
    if not regions:
        raise ConfigError(key, regions, "at least one AWS region, e.g. [us-east-1]")
    unknown = [r for r in regions if r not in KNOWN_REGIONS]
    if unknown:
        raise ConfigError(
            key, regions, f"known AWS regions only ({', '.join(unknown)} unknown); known: {', '.join(sorted(KNOWN_REGIONS))}"
        )
    duplicates = sorted({r for r in regions if regions.count(r) > 1})
    if duplicates:
        raise ConfigError(key, regions, f"each region once ({', '.join(duplicates)} repeated)")
    return tuple(regions)


# Near each home region, in order: where the lease's third voter goes by default.
_WITNESS_PREFERENCES: dict[str, tuple[str, ...]] = {
    "us": ("us-east-2", "us-west-1", "us-east-1", "us-west-2", "ca-central-1"),
    "ca": ("us-east-2", "us-east-1", "ca-central-1"),
    "eu": ("eu-west-2", "eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"),
    "ap": ("ap-northeast-3", "ap-northeast-1", "ap-southeast-1", "ap-northeast-2", "ap-southeast-2"),
    "sa": ("us-east-1", "us-east-2"),
}


def _lease_witness(key: str, value: str, regions: tuple[str, ...], write_mode: str) -> str | None:
    """The lease's third voter: only for single-primary with an even number of serving regions."""
    needed = write_mode == "single-primary" and len(regions) > 1 and len(regions) % 2 == 0
    if value:
        if not needed:
            raise ConfigError(key, value, "empty unless single-primary serves from an even number of regions")
        if value not in KNOWN_REGIONS or value in regions:
            raise ConfigError(key, value, f"a known AWS region that does not serve ({', '.join(regions)})")
        return value
    if not needed:
        return None
    preferences = _WITNESS_PREFERENCES.get(regions[0].split("-", 1)[0], ())
    return next(r for r in (*preferences, *sorted(KNOWN_REGIONS)) if r not in regions)


def _optional_email(key: str, value: str) -> str | None:
    if value == "":
        return None
    if not _EMAIL.match(value):
        raise ConfigError(key, value, "an email address such as ops@example.com, or empty for none")
    return value


# RFC 2606 / RFC 6761 names that can never be a zone the user owns: a real preview would fail on
# the Route 53 zone lookup with a message that does not say which config value is wrong.
PLACEHOLDER_ZONES = ("example.com", "example.net", "example.org")
PLACEHOLDER_TLDS = ("example", "test", "invalid", "localhost")
# Set by the offline harness (ops/offline_run.py), which plans the shipped placeholder domain.
OFFLINE_ENV = "SERVERLESS_DR_OFFLINE"


def is_placeholder_domain(domain: str) -> bool:
    return any(domain == zone or domain.endswith("." + zone) for zone in PLACEHOLDER_ZONES) or (
        domain.rsplit(".", 1)[-1] in PLACEHOLDER_TLDS
    )


def parse_stack_config(raw: Mapping[str, str | None], *, stack: str, allow_placeholder_domain: bool = False) -> StackConfig:
    """Validate raw config values (`{key-without-namespace: string}`); missing keys take defaults.

    A reserved placeholder domain (example.com) is refused unless `allow_placeholder_domain`: the
    offline plan and tests use it, a real preview or deployment cannot."""
    project = load_project()
    unknown = sorted(set(raw) - set(project.keys))
    if unknown:
        name = unknown[0]
        close = difflib.get_close_matches(name, project.keys, n=1, cutoff=0.6)
        raise ConfigError(
            _key(project.name, name),
            raw[name],
            f"unknown key; did you mean {_key(project.name, close[0])}?"
            if close
            else f"unknown key; the keys are declared in Pulumi.yaml ({', '.join(sorted(project.keys))})",
        )
    v = {name: _typed(project.name, spec, raw.get(name)) for name, spec in project.keys.items()}

    def key(name: str) -> str:
        return _key(project.name, name)

    regions = _regions(key("regions"), v["regions"])
    routing = one_of(key("routing"), v["routing"], ROUTING_MODES)
    if routing == "failover" and len(regions) != 2:
        raise ConfigError(
            key("routing"),
            routing,
            f"failover routing needs exactly 2 regions (PRIMARY, SECONDARY), have {len(regions)}; use latency",
        )
    interval = one_of(key("healthCheckIntervalSeconds"), v["healthCheckIntervalSeconds"], HEALTH_CHECK_INTERVALS)
    threshold = v["healthCheckFailureThreshold"]
    if threshold not in FAILURE_THRESHOLD_RANGE:
        raise ConfigError(key("healthCheckFailureThreshold"), threshold, "an integer from 1 to 10")
    budget = v["rtoBudgetSeconds"]
    if budget <= 0:
        raise ConfigError(key("rtoBudgetSeconds"), budget, "a positive number of seconds")
    if len(regions) > 1 and api_failover_seconds(interval, threshold) > budget:
        raise ConfigError(
            key("rtoBudgetSeconds"),
            budget,
            f"at least the computed API failover time {api_failover_seconds(interval, threshold)} s "
            f"(healthCheckIntervalSeconds {interval} x healthCheckFailureThreshold {threshold} + 60 s alias TTL); "
            "lower the interval or threshold, or raise the budget",
        )

    evacuated = v["evacuatedRegions"]
    strays = [r for r in evacuated if r not in regions]
    if strays:
        raise ConfigError(key("evacuatedRegions"), evacuated, f"regions of this stack only ({', '.join(regions)})")
    if len(set(evacuated)) != len(evacuated):
        raise ConfigError(key("evacuatedRegions"), evacuated, "each region once")
    if evacuated and set(evacuated) == set(regions):
        raise ConfigError(
            key("evacuatedRegions"),
            evacuated,
            "at least one region left serving: when every record is unhealthy Route 53 answers with all of them",
        )

    consistency = one_of(key("consistency"), v["consistency"], CONSISTENCY_MODES)
    witness = v["witnessRegion"] or None
    if witness is not None:
        if consistency != "strong":
            raise ConfigError(key("witnessRegion"), witness, "empty unless consistency is strong")
        if witness not in KNOWN_REGIONS or witness in regions:
            raise ConfigError(
                key("witnessRegion"), witness, f"a known AWS region that is not one of the serving regions ({', '.join(regions)})"
            )
    if consistency == "strong":
        members = set(regions) | ({witness} if witness else set())
        if not ((len(regions) == 3 and witness is None) or (len(regions) == 2 and witness is not None)):
            raise ConfigError(
                key("consistency"),
                consistency,
                f"strong needs exactly 3 regions, or 2 regions plus witnessRegion (have {len(regions)} region(s)"
                f"{' and witness ' + witness if witness else ', no witness'})",
            )
        if strong_consistency_region_set(members) is None:
            raise ConfigError(
                key("consistency"),
                consistency,
                f"strong needs every replica and the witness in one region set (US: us-east-1, us-east-2, us-west-2; "
                f"EU: eu-west-1, eu-west-2, eu-west-3, eu-central-1; AP: ap-northeast-1..3); got {', '.join(sorted(members))}",
            )

    write_mode = v["writeMode"] or ("any-region" if consistency == "strong" else "single-primary")
    write_failover = one_of(key("writeFailover"), v["writeFailover"], WRITE_FAILOVER_MODES)
    lease_witness = _lease_witness(key("leaseWitnessRegion"), v["leaseWitnessRegion"], regions, write_mode)
    one_of(key("writeMode"), write_mode, WRITE_MODES)
    if write_mode == "any-region" and consistency != "strong":
        raise ConfigError(
            key("writeMode"),
            write_mode,
            f"any-region needs {key('consistency')}=strong: with eventual consistency two regions writing one item "
            "concurrently silently lose one write (last writer wins); use single-primary",
        )
    if write_mode == "single-primary" and consistency == "strong":
        raise ConfigError(
            key("writeMode"),
            write_mode,
            f"single-primary fences writes with transactions, which {key('consistency')}=strong (MRSC) does not support; "
            "use any-region (MRSC itself refuses conflicting writes)",
        )

    domain = v["domain"].strip().lower().rstrip(".") or None
    if domain is not None and not _HOSTNAME.match(domain):
        raise ConfigError(key("domain"), v["domain"], "a DNS zone name such as shop.acme.io, or empty for none")
    if domain is not None and is_placeholder_domain(domain) and not allow_placeholder_domain:
        raise ConfigError(
            key("domain"),
            v["domain"],
            "a Route 53 public hosted zone you own; this name is reserved as a placeholder (RFC 2606) "
            f"(pulumi config set {key('domain')} <your zone> --stack {stack})",
        )
    labels = ("apiSubdomain", "siteSubdomain", "readSubdomain")
    for label_key in labels:
        if not _LABEL.match(v[label_key]):
            raise ConfigError(key(label_key), v[label_key], "one DNS label: lowercase letters, digits and hyphens")
    for i, label_key in enumerate(labels):
        taken = [other for other in labels[:i] if v[other] == v[label_key]]
        if taken:
            raise ConfigError(key(label_key), v[label_key], f"a label different from {taken[0]} ({v[taken[0]]})")

    retention = one_of(key("logRetentionDays"), v["logRetentionDays"], LOG_RETENTION_DAYS)
    if len(regions) > 1 and domain is None:
        raise ConfigError(
            key("domain"),
            v["domain"],
            f"a DNS zone: {len(regions)} active regions need one API name for Route 53 to route between them",
        )
    price_class = one_of(key("sitePriceClass"), v["sitePriceClass"], PRICE_CLASSES)
    web_acl = v["siteWebAclArn"] or None
    if web_acl is not None and not re.match(r"^arn:aws:wafv2:us-east-1:\d{12}:global/webacl/[\w-]+/[\w-]+$", web_acl):
        raise ConfigError(
            key("siteWebAclArn"),
            web_acl,
            "the ARN of a WAFv2 web ACL with scope CLOUDFRONT (arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>)",
        )
    schedule = v["backupSchedule"].strip()
    try:
        gap = aws_cron.parse(schedule).longest_gap_seconds()
    except aws_cron.CronError as error:
        raise ConfigError(key("backupSchedule"), v["backupSchedule"], f"an AWS Backup cron expression ({error})") from None
    if gap < 3600:
        raise ConfigError(
            key("backupSchedule"), v["backupSchedule"], "a schedule at most hourly (AWS Backup's shortest interval)"
        )
    api_web_acls: dict[str, str] = {}
    for arn in v["apiWebAclArns"]:
        match = re.match(r"^arn:aws:wafv2:([a-z0-9-]+):\d{12}:regional/webacl/[\w-]+/[\w-]+$", str(arn))
        if not match or match.group(1) not in regions or match.group(1) in api_web_acls:
            raise ConfigError(
                key("apiWebAclArns"),
                v["apiWebAclArns"],
                "ARNs of WAFv2 web ACLs with scope REGIONAL (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>), "
                f"at most one per serving region ({', '.join(regions)})",
            )
        api_web_acls[match.group(1)] = str(arn)
    for name, low, high in (
        ("apiThrottleRateLimit", 1, 10_000),
        ("apiThrottleBurstLimit", 1, 5_000),
        ("adminQuotaPerDay", 1, 1_000_000),
        ("adminThrottleRateLimit", 1, 10_000),
        ("apiCacheTtlSeconds", 0, 3600),
        ("edgeCacheSeconds", 1, EDGE_CACHE_SECONDS_MAX),
        ("storedAnswerSeconds", 60, STORED_ANSWER_SECONDS_MAX),
        ("maxUploadBytes", 1024, 50 * 1024 * 1024),
        ("healthReservedConcurrency", 0, 100),
        ("backupRetentionDays", 1, 36500),
        ("analyticsRetentionDays", 1, 36500),
        ("analyticsBufferSeconds", 60, 900),
        ("analyticsBytesScannedLimitMb", 10, 10_000_000),
    ):
        if not low <= v[name] <= high:
            raise ConfigError(key(name), v[name], f"an integer from {low} to {high}")
    if v["adminThrottleRateLimit"] > v["apiThrottleRateLimit"]:
        raise ConfigError(
            key("adminThrottleRateLimit"),
            v["adminThrottleRateLimit"],
            f"at most apiThrottleRateLimit ({v['apiThrottleRateLimit']})",
        )

    limit = v["functionConcurrencyLimit"]
    if limit != 0 and limit not in FUNCTION_CONCURRENCY_LIMITS:
        raise ConfigError(
            key("functionConcurrencyLimit"),
            limit,
            "0 for no limit, or 2 to 1000 (reserved concurrency of each function, and the maximum concurrency of its "
            "SQS mapping, whose smallest value is 2)",
        )

    containers = parse_container_config(
        v,
        key,
        regions=regions,
        health_interval=interval,
        failure_threshold=threshold,
        api_routes=tuple(f"{r.method.upper()} {r.path}" for r in api_contract.routes()),
        health_route="GET /health",
    )
    if containers.enabled and domain is None:
        raise ConfigError(
            key("containerBackend"),
            containers.mode,
            f"a {key('domain')}: each region's load balancer proves a name in your zone with its TLS certificate",
        )

    return StackConfig(
        project=project.name,
        stack=stack,
        regions=regions,
        routing=routing,
        domain=domain,
        api_subdomain=v["apiSubdomain"],
        site_subdomain=v["siteSubdomain"],
        read_subdomain=v["readSubdomain"],
        health_check_interval=interval,
        health_check_failure_threshold=threshold,
        rto_budget_seconds=budget,
        evacuated_regions=tuple(evacuated),
        consistency=consistency,
        write_mode=write_mode,
        witness_region=witness,
        write_failover=write_failover,
        lease_witness_region=lease_witness,
        table_encryption=one_of(key("tableEncryption"), v["tableEncryption"], TABLE_ENCRYPTION_MODES),
        log_encryption=one_of(key("logEncryption"), v["logEncryption"], LOG_ENCRYPTION_MODES),
        function_environment_encryption=one_of(
            key("functionEnvironmentEncryption"), v["functionEnvironmentEncryption"], ENVIRONMENT_ENCRYPTION_MODES
        ),
        function_concurrency_limit=limit or None,
        deletion_protection=v["deletionProtection"],
        alert_email=_optional_email(key("alertEmail"), v["alertEmail"]),
        sender_email=_optional_email(key("senderEmail"), v["senderEmail"]),
        log_retention_days=retention,
        cost_center=v["costCenter"] or None,
        api_throttle_rate_limit=v["apiThrottleRateLimit"],
        api_throttle_burst_limit=v["apiThrottleBurstLimit"],
        admin_quota_per_day=v["adminQuotaPerDay"],
        admin_throttle_rate_limit=v["adminThrottleRateLimit"],
        api_cache_enabled=v["apiCacheEnabled"],
        api_cache_ttl_seconds=v["apiCacheTtlSeconds"],
        max_upload_bytes=v["maxUploadBytes"],
        health_reserved_concurrency=v["healthReservedConcurrency"],
        api_gateway_account_setting=one_of(
            key("apiGatewayAccountSetting"), v["apiGatewayAccountSetting"], ("managed", "existing")
        ),
        site_price_class=price_class,
        site_access_logs=v["siteAccessLogs"],
        site_web_acl_arn=web_acl,
        api_web_acl_arns=api_web_acls,
        alarms=v["alarms"],
        backups=v["backups"],
        backup_schedule=schedule,
        backup_retention_days=v["backupRetentionDays"],
        backup_vault_lock=v["backupVaultLock"],
        analytics=v["analytics"],
        analytics_retention_days=v["analyticsRetentionDays"],
        analytics_buffer_seconds=v["analyticsBufferSeconds"],
        analytics_bytes_scanned_limit_mb=v["analyticsBytesScannedLimitMb"],
        dashboard=v["dashboard"],
        health_check_latency_graphs=v["healthCheckLatencyGraphs"],
        page_view_transport=one_of(key("pageViewTransport"), v["pageViewTransport"], PAGE_VIEW_TRANSPORTS),
        edge_reads=v["edgeReads"],
        post_pages=v["postPages"],
        edge_cache_seconds=v["edgeCacheSeconds"],
        stored_answer_seconds=v["storedAnswerSeconds"],
        container=containers,
        relational=parse_relational_config(v, key, regions=regions, health_interval=interval, failure_threshold=threshold),
        paid_content=parse_paid_content_config(v, key, domain=domain),
    )


def project_values(values: Mapping[str, Any], project_name: str) -> dict[str, str]:
    """`{key-without-namespace: string}` from namespaced config values as a stack file or the
    engine holds them (lists as JSON text); keys of other namespaces (aws:, pulumi:) left out."""
    prefix = f"{project_name}:"
    out: dict[str, str] = {}
    for key, value in values.items():
        if not key.startswith(prefix):
            continue
        if isinstance(value, Mapping) and "secure" in value:
            raise ConfigError(key, "[secure]", "a plain value: no key of this program holds a secret")
        out[key[len(prefix) :]] = value if isinstance(value, str) else json.dumps(value)
    return out


def load_stack_config() -> StackConfig:
    """The running stack's config (every key the engine passed, not only the declared ones, so a
    misspelt key is refused instead of silently ignored), validated."""
    import pulumi
    from pulumi.runtime import config as runtime_config

    project = load_project()
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_stack_config(
        project_values(values, project.name),
        stack=pulumi.get_stack(),
        allow_placeholder_domain=os.environ.get(OFFLINE_ENV) == "1",
    )
