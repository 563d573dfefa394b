"""The security and reliability rules of serverless-dr, as plain data and functions.

Each rule cites the scanner / AWS Foundational Security Best Practices IDs it stands for
(shared/notes/security-baseline.md). Rules see resources the way pulumi-policy does: type, URN,
name, camelCase props, and which resources each prop came from (`property_dependencies`). The
pack (policy/__main__.py) wraps them as Pulumi policies; policy/engine.py runs them over the
offline plan's recorded resources. Every rule is mandatory; a suppression names the rule, the
resource and a written reason (SUPPRESSIONS).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

BUCKET = "aws:s3/bucket:Bucket"
TABLE = "aws:dynamodb/table:Table"
FUNCTION = "aws:lambda/function:Function"
QUEUE = "aws:sqs/queue:Queue"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
STAGE = "aws:apigateway/stage:Stage"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
POLICY_DOCUMENT_TYPES = {"aws:iam/rolePolicy:RolePolicy": "policy", "aws:iam/policy:Policy": "policy"}
CURRENT_RUNTIMES = frozenset({"python3.12", "python3.13", "python3.14", "nodejs22.x", "nodejs24.x", "java21", "provided.al2023"})
# Actions with no resource-level permissions: "*" is the only resource IAM accepts for them.
UNRESTRICTABLE_ACTIONS = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "cloudwatch:PutMetricData",
    }
)


@dataclass(frozen=True)
class Resource:
    """One resource as a rule sees it."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, list[str]] = field(default_factory=dict)
    additional_secret_outputs: tuple[str, ...] = ()

    def depends_on(self, prop: str) -> list[str]:
        return list(self.property_dependencies.get(prop, []))


Finding = tuple[str, str]  # (urn, message)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    ids: tuple[str, ...]
    types: tuple[str, ...] = ()  # resource rules: the types they check
    check: Callable[[Resource], Iterable[str]] | None = None  # resource rule
    check_stack: Callable[[list[Resource]], Iterable[Finding]] | None = None  # cross-resource rule

    def evaluate(self, resources: list[Resource]) -> list[Finding]:
        if self.check_stack is not None:
            return list(self.check_stack(resources))
        return [(r.urn, message) for r in resources if r.type in self.types for message in self.check(r)]


# --- helpers -------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _statements(document: Any) -> list[dict]:
    document = _json(document)
    if not isinstance(document, dict):
        return []
    statements = document.get("Statement", [])
    return [s for s in (statements if isinstance(statements, list) else [statements]) if isinstance(s, dict)]


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _public_principal(statement: dict) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))


def _denies_insecure_transport(statements: list[dict]) -> bool:
    return any(
        s.get("Effect") == "Deny"
        and ((s.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport") in ("false", False)
        for s in statements
    )


def _of(resources: list[Resource], type_: str) -> list[Resource]:
    return [r for r in resources if r.type == type_]


def _covered(resources: list[Resource], side_type: str, prop: str, ok: Callable[[Resource], bool] = lambda _r: True) -> set[str]:
    """URNs that a side resource (e.g. a public-access block) points at through `prop`, when `ok`."""
    return {urn for side in _of(resources, side_type) if ok(side) for urn in side.depends_on(prop)}


def _each_bucket_has(side_type: str, what: str, ok: Callable[[Resource], bool] = lambda _r: True):
    def check(resources: list[Resource]) -> Iterable[Finding]:
        covered = _covered(resources, side_type, "bucket", ok)
        return [(b.urn, f"bucket {b.name} has no {what}") for b in _of(resources, BUCKET) if b.urn not in covered]

    return check


# --- S3 ------------------------------------------------------------------------------------------


def _pab_all_on(r: Resource) -> bool:
    return all(
        r.props.get(f) is True for f in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )


def _bucket_policies_by_bucket(resources: list[Resource]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for policy in _of(resources, "aws:s3/bucketPolicy:BucketPolicy"):
        for urn in policy.depends_on("bucket"):
            out.setdefault(urn, []).extend(_statements(policy.props.get("policy")))
    return out


def _bucket_tls_only(resources: list[Resource]) -> Iterable[Finding]:
    policies = _bucket_policies_by_bucket(resources)
    for bucket in _of(resources, BUCKET):
        if not _denies_insecure_transport(policies.get(bucket.urn, [])):
            yield bucket.urn, f"bucket {bucket.name} has no policy denying aws:SecureTransport=false"


def _bucket_policy_public(r: Resource) -> Iterable[str]:
    for statement in _statements(r.props.get("policy")):
        if statement.get("Effect") == "Allow" and _public_principal(statement):
            yield f"statement {statement.get('Sid', '?')} allows the public principal '*'"
        cloudfront = statement.get("Effect") == "Allow" and (statement.get("Principal") or {}) == {
            "Service": "cloudfront.amazonaws.com"
        }
        if cloudfront and "AWS:SourceArn" not in json.dumps(statement.get("Condition", {})):
            yield f"statement {statement.get('Sid', '?')} lets CloudFront read without an AWS:SourceArn condition"


def _replication_rtc(r: Resource) -> Iterable[str]:
    for rule in r.props.get("rules") or []:
        destination = rule.get("destination") or {}
        if (destination.get("replicationTime") or {}).get("status") != "Enabled":
            yield f"replication rule {rule.get('id')} has no Replication Time Control"
        if (destination.get("metrics") or {}).get("status") != "Enabled":
            yield f"replication rule {rule.get('id')} has no replication metrics (RTC requires them)"


# --- CloudFront ----------------------------------------------------------------------------------


def _behaviors(props: Mapping[str, Any]) -> list[dict]:
    return [props.get("defaultCacheBehavior") or {}, *(props.get("orderedCacheBehaviors") or [])]


def _cloudfront_oac(r: Resource) -> Iterable[str]:
    for origin in r.props.get("origins") or []:
        domain = str(origin.get("domainName", ""))
        if "s3-website" in domain:
            yield f"origin {origin.get('originId')} is a public S3 website endpoint"
        elif ".s3." in domain and not origin.get("originAccessControlId"):
            yield f"S3 origin {origin.get('originId')} is read without origin access control"


def _cloudfront_https(r: Resource) -> Iterable[str]:
    for behavior in _behaviors(r.props):
        if behavior.get("viewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
            yield f"behavior {behavior.get('pathPattern', 'default')} allows plain HTTP"


def _cloudfront_tls(r: Resource) -> Iterable[str]:
    viewer = r.props.get("viewerCertificate") or {}
    if viewer.get("acmCertificateArn") and viewer.get("minimumProtocolVersion") not in (
        "TLSv1.2_2021",
        "TLSv1.2_2025",
        "TLSv1.3_2025",
    ):
        yield f"custom certificate allows {viewer.get('minimumProtocolVersion')} (TLSv1.2_2021 or newer required)"
    if viewer.get("acmCertificateArn") and viewer.get("sslSupportMethod") != "sni-only":
        yield "custom certificate is served without SNI (dedicated IPs)"


def _cloudfront_headers(resources: list[Resource]) -> Iterable[Finding]:
    good = {
        p.urn
        for p in _of(resources, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
        if ((p.props.get("securityHeadersConfig") or {}).get("strictTransportSecurity") or {}).get("accessControlMaxAgeSec", 0)
        >= 31_536_000
        and (p.props.get("securityHeadersConfig") or {}).get("contentTypeOptions") is not None
    }
    for distribution in _of(resources, DISTRIBUTION):
        if not set(distribution.depends_on("defaultCacheBehavior")) & good:
            yield distribution.urn, "default behavior has no response headers policy with HSTS (>= 1 year) and nosniff"


def _cloudfront_failover(r: Resource) -> Iterable[str]:
    s3_origins = [o for o in r.props.get("origins") or [] if ".s3." in str(o.get("domainName", ""))]
    if len(s3_origins) > 1 and not r.props.get("originGroups"):
        yield f"{len(s3_origins)} regional origins but no origin group to fail over between them"
    for group in r.props.get("originGroups") or []:
        codes = set((group.get("failoverCriteria") or {}).get("statusCodes") or [])
        if not {500, 502, 503, 504} <= codes:
            yield f"origin group {group.get('originId')} does not fail over on 5xx"


def _cloudfront_root(r: Resource) -> Iterable[str]:
    if not r.props.get("defaultRootObject"):
        yield "no default root object"


# --- API Gateway ---------------------------------------------------------------------------------


def _stage_access_logs(r: Resource) -> Iterable[str]:
    settings = r.props.get("accessLogSettings") or {}
    if not settings.get("destinationArn") or not settings.get("format"):
        yield f"stage {r.props.get('stageName')} has no access logging"


def _stage_xray(r: Resource) -> Iterable[str]:
    if r.props.get("xrayTracingEnabled") is not True:
        yield f"stage {r.props.get('stageName')} is not traced with X-Ray"


def _stage_wide_settings(resources: list[Resource]) -> dict[str, dict]:
    """Stage URN -> its '*/*' method settings."""
    out = {}
    for settings in _of(resources, METHOD_SETTINGS):
        if settings.props.get("methodPath") == "*/*":
            for urn in settings.depends_on("stageName") + settings.depends_on("restApi"):
                out[urn] = settings.props.get("settings") or {}
    return out


def _stage_execution_logging(resources: list[Resource]) -> Iterable[Finding]:
    settings = _stage_wide_settings(resources)
    for stage in _of(resources, STAGE):
        s = settings.get(stage.urn, {})
        if s.get("loggingLevel") not in ("ERROR", "INFO"):
            yield stage.urn, f"stage {stage.props.get('stageName')} has no execution logging (ERROR or INFO)"
        if s.get("dataTraceEnabled") is True:
            yield stage.urn, f"stage {stage.props.get('stageName')} logs full request and response data"


def _stage_throttling(resources: list[Resource]) -> Iterable[Finding]:
    settings = _stage_wide_settings(resources)
    for stage in _of(resources, STAGE):
        s = settings.get(stage.urn, {})
        if not s.get("throttlingRateLimit") or not s.get("throttlingBurstLimit"):
            yield stage.urn, f"stage {stage.props.get('stageName')} has no stage-wide throttling"


def _keyed_apis_have_usage_plans(resources: list[Resource]) -> Iterable[Finding]:
    planned = _covered(resources, "aws:apigateway/usagePlan:UsagePlan", "apiStages")
    for api in _of(resources, "aws:apigateway/restApi:RestApi"):
        document = _json(api.props.get("body")) or {}
        keyed = any(
            "security" in op
            for methods in (document.get("paths") or {}).values()
            for op in methods.values()
            if isinstance(op, dict)
        )
        if keyed and api.urn not in planned:
            yield api.urn, "methods require an API key but no usage plan covers this API"


def _request_validators(r: Resource) -> Iterable[str]:
    document = _json(r.props.get("body")) or {}
    for path, methods in (document.get("paths") or {}).items():
        for method, operation in methods.items():
            if (
                isinstance(operation, dict)
                and "requestBody" in operation
                and not operation.get("x-amazon-apigateway-request-validator")
            ):
                yield f"{method.upper()} {path} takes a body without a request validator"


def _cache_encrypted(r: Resource) -> Iterable[str]:
    settings = r.props.get("settings") or {}
    if settings.get("cachingEnabled") and settings.get("cacheDataEncrypted") is not True:
        yield f"cache of {r.props.get('methodPath')} is not encrypted"


def _domain_tls(r: Resource) -> Iterable[str]:
    if r.props.get("securityPolicy") not in ("TLS_1_2", "SecurityPolicy_TLS13_1_2_2021_06"):
        yield f"custom domain allows {r.props.get('securityPolicy')} (TLS 1.2 required)"
    if (r.props.get("endpointConfiguration") or {}).get("types") != "REGIONAL":
        yield "custom domain is not REGIONAL (Route 53 routes between regional endpoints)"


# --- Lambda --------------------------------------------------------------------------------------


def _lambda_tracing(r: Resource) -> Iterable[str]:
    if (r.props.get("tracingConfig") or {}).get("mode") != "Active":
        yield "active X-Ray tracing is off"


def _lambda_runtime(r: Resource) -> Iterable[str]:
    if r.props.get("runtime") not in CURRENT_RUNTIMES:
        yield f"runtime {r.props.get('runtime')} is not a current one ({', '.join(sorted(CURRENT_RUNTIMES))})"


def _lambda_permission(r: Resource) -> Iterable[str]:
    if r.props.get("principal") in ("*", None):
        yield "the function may be invoked by anyone"
    elif not r.props.get("sourceArn") and not r.props.get("sourceAccount"):
        yield f"{r.props.get('principal')} may invoke the function on behalf of any source (no SourceArn/SourceAccount)"


def _mapping_failure_handling(resources: list[Resource]) -> Iterable[Finding]:
    queues = {q.urn: q for q in _of(resources, QUEUE)}
    for mapping in _of(resources, MAPPING):
        sources = mapping.depends_on("eventSourceArn")
        queue = next((queues[u] for u in sources if u in queues), None)
        p = mapping.props
        if "ReportBatchItemFailures" not in (p.get("functionResponseTypes") or []):
            yield mapping.urn, "mapping does not report partial batch failures"
        if queue is not None:
            if not queue.props.get("redrivePolicy"):
                yield mapping.urn, f"queue {queue.name} has no dead-letter queue"
            continue
        if not ((p.get("destinationConfig") or {}).get("onFailure") or {}).get("destinationArn"):
            yield mapping.urn, "stream mapping has no on-failure destination"
        if p.get("bisectBatchOnFunctionError") is not True:
            yield mapping.urn, "stream mapping does not bisect failing batches"
        if not 0 <= int(p.get("maximumRetryAttempts", -1)) <= 10:
            yield mapping.urn, "stream mapping retries without bound"
        if not 60 <= int(p.get("maximumRecordAgeInSeconds", -1)) <= 604_800:
            yield mapping.urn, "stream mapping keeps records without a maximum age"


def _lambda_log_retention(resources: list[Resource]) -> Iterable[Finding]:
    retained = {g.urn for g in _of(resources, "aws:cloudwatch/logGroup:LogGroup") if g.props.get("retentionInDays")}
    for function in _of(resources, FUNCTION):
        if not set(function.depends_on("loggingConfig")) & retained:
            yield function.urn, "function logs to no log group with a retention period"


def _reserved_concurrency(r: Resource) -> Iterable[str]:
    reserved = r.props.get("reservedConcurrentExecutions")
    if reserved is not None and reserved != -1 and reserved < 1:
        yield f"reserved concurrency {reserved} would stop the function entirely"


# --- IAM -----------------------------------------------------------------------------------------


def _policy_statements(r: Resource) -> list[dict]:
    return _statements(r.props.get(POLICY_DOCUMENT_TYPES[r.type]))


def _iam_wildcard_actions(r: Resource) -> Iterable[str]:
    for statement in _policy_statements(r):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action")):
            if action == "*" or str(action).endswith(":*"):
                yield f"statement {statement.get('Sid', '?')} allows wildcard action {action}"


def _iam_wildcard_resources(r: Resource) -> Iterable[str]:
    for statement in _policy_statements(r):
        if statement.get("Effect") == "Allow" and "*" in _as_list(statement.get("Resource")):
            restrictable = sorted(set(_as_list(statement.get("Action"))) - UNRESTRICTABLE_ACTIONS)
            if restrictable:
                yield f"statement {statement.get('Sid', '?')} grants {', '.join(restrictable)} on every resource"


def _iam_passrole(r: Resource) -> Iterable[str]:
    for statement in _policy_statements(r):
        actions = _as_list(statement.get("Action"))
        if statement.get("Effect") == "Allow" and "iam:PassRole" in actions and "*" in _as_list(statement.get("Resource")):
            yield "iam:PassRole on every role"


# --- DynamoDB ------------------------------------------------------------------------------------


def _table_pitr(r: Resource) -> Iterable[str]:
    if (r.props.get("pointInTimeRecovery") or {}).get("enabled") is not True:
        yield "point-in-time recovery is off"
    for replica in r.props.get("replicas") or []:
        if replica.get("pointInTimeRecovery") is not True:
            yield f"replica in {replica.get('regionName')} has no point-in-time recovery"


def _table_encryption(r: Resource) -> Iterable[str]:
    sse = r.props.get("serverSideEncryption")
    if sse is None:
        yield "encryption at rest is not declared (state the key: AWS-owned or a CMK)"
        return
    if sse.get("kmsKeyArn"):
        for replica in r.props.get("replicas") or []:
            if not replica.get("kmsKeyArn"):
                yield f"table uses a CMK but its replica in {replica.get('regionName')} does not"


def _table_deletion_protection(r: Resource) -> Iterable[str]:
    # A table with replicas is the protected, multi-region data of a DR stack.
    if r.props.get("replicas"):
        if r.props.get("deletionProtectionEnabled") is not True:
            yield "global table without deletion protection"
        for replica in r.props.get("replicas"):
            if replica.get("deletionProtectionEnabled") is not True:
                yield f"replica in {replica.get('regionName')} without deletion protection"


# --- SNS, SQS, Kinesis ---------------------------------------------------------------------------


def _sns_encryption(r: Resource) -> Iterable[str]:
    if not r.props.get("kmsMasterKeyId"):
        yield "topic is not encrypted"


def _sqs_encryption(r: Resource) -> Iterable[str]:
    if r.props.get("sqsManagedSseEnabled") is not True and not r.props.get("kmsMasterKeyId"):
        yield "queue is not encrypted"


def _messaging_policy(r: Resource) -> Iterable[str]:
    statements = _statements(r.props.get("policy"))
    if not _denies_insecure_transport(statements):
        yield "policy does not deny requests without TLS"
    for statement in statements:
        if statement.get("Effect") == "Allow" and _public_principal(statement):
            yield f"statement {statement.get('Sid', '?')} admits the public principal '*'"


def _queues_consumed_safely(resources: list[Resource]) -> Iterable[Finding]:
    queues = {q.urn: q for q in _of(resources, QUEUE)}
    functions = {f.urn: f for f in _of(resources, FUNCTION)}
    for mapping in _of(resources, MAPPING):
        queue = next((queues[u] for u in mapping.depends_on("eventSourceArn") if u in queues), None)
        function = next((functions[u] for u in mapping.depends_on("functionName") if u in functions), None)
        if queue is None:
            continue
        redrive = _json(queue.props.get("redrivePolicy")) or {}
        if int(redrive.get("maxReceiveCount", 0)) < 5:
            yield queue.urn, f"queue {queue.name} moves messages to its DLQ after fewer than 5 receives"
        timeout = int((function.props.get("timeout") if function else None) or 3)
        if int(queue.props.get("visibilityTimeoutSeconds", 30)) < 6 * timeout:
            yield queue.urn, f"queue {queue.name} visibility timeout is under 6 x the consumer's {timeout} s timeout"


def _kinesis(r: Resource) -> Iterable[str]:
    if r.props.get("encryptionType") != "KMS":
        yield "stream is not encrypted"
    if int(r.props.get("retentionPeriod", 24)) < 24:
        yield "stream keeps records under 24 hours"


# --- Route 53, ACM, SES, KMS ---------------------------------------------------------------------


def _routed_records_checked(r: Resource) -> Iterable[str]:
    routed = (
        r.props.get("latencyRoutingPolicies") or r.props.get("failoverRoutingPolicies") or r.props.get("weightedRoutingPolicies")
    )
    if routed and not r.props.get("healthCheckId"):
        yield f"record {r.props.get('name')} ({r.props.get('setIdentifier')}) is routed without a health check"


def _health_check_interval(r: Resource) -> Iterable[str]:
    if r.props.get("requestInterval") not in (10, 30):
        yield "request interval not set explicitly (an omitted value forces replacement)"


def _acm_dns(r: Resource) -> Iterable[str]:
    if not r.props.get("certificateBody") and r.props.get("validationMethod") != "DNS":
        yield f"certificate validated by {r.props.get('validationMethod')}, not DNS"


def _ses_tls(r: Resource) -> Iterable[str]:
    if (r.props.get("deliveryOptions") or {}).get("tlsPolicy") != "REQUIRE":
        yield "configuration set does not require TLS"


def _kms_rotation(r: Resource) -> Iterable[str]:
    if r.props.get("enableKeyRotation") is not True:
        yield "key rotation is off"
    for statement in _statements(r.props.get("policy")):
        if statement.get("Effect") == "Allow" and _public_principal(statement):
            yield f"key policy statement {statement.get('Sid', '?')} admits '*'"


# Outputs that hold a credential, by resource type. The engine stores an output in clear in the
# state unless it is marked secret (the resource option additional_secret_outputs; some provider
# classes set it themselves, e.g. ApiKey.value, RandomPassword.result; UsagePlanKey does not).
CREDENTIAL_OUTPUTS: dict[str, tuple[str, ...]] = {
    "aws:apigateway/apiKey:ApiKey": ("value",),
    "aws:apigateway/usagePlanKey:UsagePlanKey": ("value",),
    "aws:iam/accessKey:AccessKey": ("secret", "sesSmtpPasswordV4"),
    "aws:iam/userLoginProfile:UserLoginProfile": ("password",),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString", "secretBinary"),
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
}


def _credential_outputs_secret(r: Resource) -> Iterable[str]:
    missing = [o for o in CREDENTIAL_OUTPUTS.get(r.type, ()) if o not in r.additional_secret_outputs]
    if missing:
        yield f"output(s) {', '.join(missing)} hold a credential but are stored in clear (mark them additional_secret_outputs)"


RULES: tuple[Rule, ...] = (
    # S3
    Rule(
        "s3-public-access-block",
        "every bucket blocks public ACLs and policies (all four flags)",
        ("CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6", "FSBP S3.8"),
        check_stack=_each_bucket_has(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "public access block with all four flags on", _pab_all_on
        ),
    ),
    Rule(
        "s3-acls-disabled",
        "object ownership enforced: ACLs disabled",
        ("CKV2_AWS_65", "FSBP S3.12"),
        check_stack=_each_bucket_has(
            "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
            "BucketOwnerEnforced ownership",
            lambda r: (r.props.get("rule") or {}).get("objectOwnership") == "BucketOwnerEnforced",
        ),
    ),
    Rule(
        "s3-default-encryption",
        "default encryption on every bucket",
        ("CKV_AWS_19", "CKV_AWS_145"),
        check_stack=_each_bucket_has(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "default encryption"
        ),
    ),
    Rule(
        "s3-versioning",
        "versioning on every bucket",
        ("CKV_AWS_21",),
        check_stack=_each_bucket_has(
            "aws:s3/bucketVersioning:BucketVersioning",
            "versioning enabled",
            lambda r: (r.props.get("versioningConfiguration") or {}).get("status") == "Enabled",
        ),
    ),
    Rule(
        "s3-tls-only",
        "bucket policies deny aws:SecureTransport=false",
        ("CKV_AWS_379", "FSBP S3.5"),
        check_stack=_bucket_tls_only,
    ),
    Rule(
        "s3-no-public-principal",
        "no '*' principal; CloudFront only with an AWS:SourceArn condition",
        ("CKV_AWS_70", "FSBP S3.6"),
        types=("aws:s3/bucketPolicy:BucketPolicy",),
        check=_bucket_policy_public,
    ),
    Rule(
        "s3-replication-rtc",
        "replication of data that must survive a region uses RTC",
        ("CKV_AWS_144",),
        types=("aws:s3/bucketReplicationConfig:BucketReplicationConfig",),
        check=_replication_rtc,
    ),
    # CloudFront
    Rule(
        "cloudfront-oac",
        "S3 origins through OAC, never a public website endpoint",
        ("CKV2_AWS_46", "FSBP CloudFront.13"),
        types=(DISTRIBUTION,),
        check=_cloudfront_oac,
    ),
    Rule(
        "cloudfront-https-only",
        "viewers use HTTPS only",
        ("CKV_AWS_34", "FSBP CloudFront.3"),
        types=(DISTRIBUTION,),
        check=_cloudfront_https,
    ),
    Rule(
        "cloudfront-tls",
        "custom certificates: TLSv1.2_2021 or newer, SNI",
        ("CKV_AWS_174", "FSBP CloudFront.15"),
        types=(DISTRIBUTION,),
        check=_cloudfront_tls,
    ),
    Rule(
        "cloudfront-security-headers",
        "response headers policy with HSTS and nosniff",
        ("CKV2_AWS_32", "CKV_AWS_259"),
        check_stack=_cloudfront_headers,
    ),
    Rule(
        "cloudfront-origin-failover",
        "multi-region origins sit in an origin group failing over on 5xx",
        ("CKV_AWS_310", "FSBP CloudFront.4"),
        types=(DISTRIBUTION,),
        check=_cloudfront_failover,
    ),
    Rule(
        "cloudfront-default-root-object",
        "a default root object",
        ("CKV_AWS_305", "FSBP CloudFront.1"),
        types=(DISTRIBUTION,),
        check=_cloudfront_root,
    ),
    # API Gateway
    Rule(
        "apigw-access-logging",
        "access logging on every stage",
        ("CKV_AWS_76", "FSBP APIGateway.9"),
        types=(STAGE,),
        check=_stage_access_logs,
    ),
    Rule(
        "apigw-execution-logging",
        "execution logging ERROR/INFO without data trace",
        ("CKV2_AWS_4", "FSBP APIGateway.1"),
        check_stack=_stage_execution_logging,
    ),
    Rule("apigw-xray", "X-Ray on every stage", ("CKV_AWS_73", "FSBP APIGateway.3"), types=(STAGE,), check=_stage_xray),
    Rule("apigw-stage-throttling", "stage-wide throttling", ("cfn-nag W64",), check_stack=_stage_throttling),
    Rule(
        "apigw-usage-plan",
        "APIs with keyed methods have a usage plan",
        ("cfn-nag W68",),
        check_stack=_keyed_apis_have_usage_plans,
    ),
    Rule(
        "apigw-request-validators",
        "request validators on methods with bodies",
        ("CKV2_AWS_53",),
        types=("aws:apigateway/restApi:RestApi",),
        check=_request_validators,
    ),
    Rule(
        "apigw-cache-encrypted",
        "the stage cache, when on, is encrypted",
        ("CKV_AWS_308", "FSBP APIGateway.5"),
        types=(METHOD_SETTINGS,),
        check=_cache_encrypted,
    ),
    Rule(
        "apigw-domain-tls12-regional",
        "custom domains: TLS 1.2, REGIONAL",
        ("CKV_AWS_206",),
        types=("aws:apigateway/domainName:DomainName",),
        check=_domain_tls,
    ),
    # Lambda
    Rule("lambda-tracing", "active tracing", ("CKV_AWS_50",), types=(FUNCTION,), check=_lambda_tracing),
    Rule(
        "lambda-current-runtime", "a current runtime", ("CKV_AWS_363", "FSBP Lambda.2"), types=(FUNCTION,), check=_lambda_runtime
    ),
    Rule(
        "lambda-permission-scoped",
        "invoke permissions scoped by SourceArn/SourceAccount, never public",
        ("CKV_AWS_301", "CKV_AWS_364", "FSBP Lambda.1"),
        types=("aws:lambda/permission:Permission",),
        check=_lambda_permission,
    ),
    Rule(
        "lambda-event-failure-handling",
        "mappings: partial failures; SQS redrive or stream on-failure, bisect, bounded retries and age",
        ("CKV_AWS_116",),
        check_stack=_mapping_failure_handling,
    ),
    Rule(
        "lambda-log-retention",
        "functions log to a log group with retention",
        ("CKV_AWS_158", "CKV_AWS_66"),
        check_stack=_lambda_log_retention,
    ),
    Rule(
        "lambda-reserved-concurrency",
        "reserved concurrency, where set, leaves the function able to run",
        ("CKV_AWS_115",),
        types=(FUNCTION,),
        check=_reserved_concurrency,
    ),
    # IAM
    Rule(
        "iam-no-wildcard-actions",
        "no '*' or 'service:*' actions",
        ("CKV_AWS_1", "CKV_AWS_49", "CKV_AWS_62", "CKV_AWS_63", "FSBP IAM.1", "FSBP IAM.21"),
        types=tuple(POLICY_DOCUMENT_TYPES),
        check=_iam_wildcard_actions,
    ),
    Rule(
        "iam-no-wildcard-resource",
        "no '*' resource for actions that support resource-level permissions",
        ("CKV_AWS_355",),
        types=tuple(POLICY_DOCUMENT_TYPES),
        check=_iam_wildcard_resources,
    ),
    Rule(
        "iam-no-passrole-wildcard",
        "no iam:PassRole on '*'",
        ("CKV_AWS_356",),
        types=tuple(POLICY_DOCUMENT_TYPES),
        check=_iam_passrole,
    ),
    # DynamoDB
    Rule(
        "dynamodb-pitr",
        "PITR on the table and every replica",
        ("CKV_AWS_28", "FSBP DynamoDB.2"),
        types=(TABLE,),
        check=_table_pitr,
    ),
    Rule(
        "dynamodb-encryption",
        "encryption declared; a CMK on the table means one on every replica",
        ("CKV_AWS_119", "CKV_AWS_271"),
        types=(TABLE,),
        check=_table_encryption,
    ),
    Rule(
        "dynamodb-deletion-protection",
        "global tables and their replicas are protected from deletion",
        ("FSBP DynamoDB.6",),
        types=(TABLE,),
        check=_table_deletion_protection,
    ),
    # SNS, SQS, Kinesis
    Rule(
        "sns-encryption", "topics encrypted", ("CKV_AWS_26", "FSBP SNS.1"), types=("aws:sns/topic:Topic",), check=_sns_encryption
    ),
    Rule("sqs-encryption", "queues encrypted", ("CKV_AWS_27", "FSBP SQS.1"), types=(QUEUE,), check=_sqs_encryption),
    Rule(
        "messaging-policy-tls-private",
        "topic/queue policies deny non-TLS and admit no public principal",
        ("custom", "FSBP SNS.4", "FSBP SQS.3"),
        types=("aws:sns/topicPolicy:TopicPolicy", "aws:sqs/queuePolicy:QueuePolicy"),
        check=_messaging_policy,
    ),
    Rule(
        "sqs-consumer-settings",
        "consumed queues: maxReceiveCount >= 5, visibility >= 6 x timeout",
        ("custom: Lambda developer guide",),
        check_stack=_queues_consumed_safely,
    ),
    Rule(
        "kinesis-encryption-retention",
        "streams encrypted, retention >= 24 h",
        ("CKV_AWS_43", "CKV_AWS_185", "FSBP Kinesis.1"),
        types=("aws:kinesis/stream:Stream",),
        check=_kinesis,
    ),
    # Route 53, ACM, SES, KMS
    Rule(
        "route53-routed-records-checked",
        "latency/failover records have a health check",
        ("custom",),
        types=("aws:route53/record:Record",),
        check=_routed_records_checked,
    ),
    Rule(
        "route53-health-check-interval",
        "health checks set request_interval explicitly",
        ("custom: provider replaces the check otherwise",),
        types=("aws:route53/healthCheck:HealthCheck",),
        check=_health_check_interval,
    ),
    Rule(
        "acm-dns-validation",
        "ACM certificates validated by DNS",
        ("CKV2_AWS_71",),
        types=("aws:acm/certificate:Certificate",),
        check=_acm_dns,
    ),
    Rule(
        "ses-tls-required",
        "SES configuration sets require TLS",
        ("CKV_AWS_365",),
        types=("aws:sesv2/configurationSet:ConfigurationSet",),
        check=_ses_tls,
    ),
    Rule(
        "no-plain-credential-outputs",
        "resource outputs that hold a credential are stored as secrets",
        ("custom: Pulumi secrets",),
        types=tuple(CREDENTIAL_OUTPUTS),
        check=_credential_outputs_secret,
    ),
    Rule(
        "kms-rotation-private",
        "KMS keys rotate and admit no '*' principal",
        ("CKV_AWS_7", "CKV_AWS_33", "FSBP KMS.4"),
        types=("aws:kms/key:Key",),
        check=_kms_rotation,
    ),
)

# (rule, resource name pattern) -> the written reason. Nothing is suppressed without one.
SUPPRESSIONS: dict[tuple[str, str], str] = {
    ("s3-acls-disabled", r"^site-logs$"): "CloudFront standard logging writes with the awslogsdelivery ACL, which requires "
    "BucketOwnerPreferred ownership on the log bucket; the bucket is private (all four public-access flags) and expires logs after 90 days.",
    (
        "s3-versioning",
        r"^site-logs$",
    ): "Access logs are written once and expire after 90 days; versions would only keep deleted logs longer.",
}


def suppression_reason(rule: str, resource_name: str) -> str | None:
    return next((reason for (r, pattern), reason in SUPPRESSIONS.items() if r == rule and re.match(pattern, resource_name)), None)


def evaluate(resources: list[Resource], rules: Iterable[Rule] = RULES) -> list[dict[str, str]]:
    names = {r.urn: r.name for r in resources}
    findings = []
    for rule in rules:
        for urn, message in rule.evaluate(resources):
            if suppression_reason(rule.name, names.get(urn, "")) is None:
                findings.append({"rule": rule.name, "urn": urn, "message": message})
    return findings
