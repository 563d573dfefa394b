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
from functools import cached_property
from typing import Any

from policy.access import (
    ADMIN_MANAGED_POLICIES,
    IDENTITY,
    POLICY_INPUTS,
    RESOURCE,
    SOURCE_KEYS,
    TRUST,
    Statement,
    as_list,
    attached_managed_policies,
    own_accounts,
    statements_of,
)
from policy.secrets import looks_like_secret

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
        "ecr:GetAuthorizationToken",
        "elasticloadbalancing:DescribeTargetHealth",
    }
)


_S3_ALIAS = re.compile(r"^aws:s3/(bucket\w*?)(?:V2|v2):(\w*?)(?:V2|v2)$")


def canonical_type(type_: str) -> str:
    """The type a rule checks for any of its aliases: the deprecated S3 `...V2` resources
    (BucketV2, BucketAclV2, BucketVersioningV2, BucketObjectv2, ...) are the same AWS resources
    as the current ones, and a bucket declared with one must meet every bucket rule."""
    match = _S3_ALIAS.match(type_)
    return f"aws:s3/{match.group(1)}:{match.group(2)}" if match else type_


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

    # A resource's props never change once it is built (a mutant is a new Resource), so what the
    # access rules read from them is parsed once: four rules, and thousands of mutants that share
    # every other resource, would otherwise parse each policy document again.
    @cached_property
    def statements(self) -> list[Statement]:
        return statements_of(self.type, self.name, self.props)

    @cached_property
    def accounts_named(self) -> frozenset[str]:
        return frozenset(own_accounts([self.props]))


Finding = tuple[str, str]  # (urn, message)


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    ids: tuple[str, ...]
    types: tuple[str, ...] = ()  # resource rules: the types they check
    check: Callable[[Resource], Iterable[str]] | None = None  # resource rule
    check_stack: Callable[[list[Resource]], Iterable[Finding]] | None = None  # cross-resource rule
    # "mandatory" fails the preview; "advisory" reports optional hardening the stack may not want
    # (its cost or its operational weight), the way pulumi-policy's enforcement levels do.
    enforcement: str = "mandatory"

    def evaluate(self, resources: list[Resource]) -> list[Finding]:
        if self.check_stack is not None:
            return list(self.check_stack(resources))
        return [(r.urn, message) for r in resources if canonical_type(r.type) in self.types for message in self.check(r)]


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


def _public_principal(statement: dict) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    return isinstance(principal, dict) and "*" in as_list(principal.get("AWS"))


def _denies_insecure_transport(statements: list[dict], service: str = "s3") -> bool:
    """A Deny of aws:SecureTransport=false that covers every principal, every action of the
    service and every resource of the policy's subject: a narrowed one (a principal, some
    actions, the bucket without its objects, the Not* forms) leaves plain-HTTP requests allowed."""
    return any(
        s.get("Effect") == "Deny"
        and ((s.get("Condition") or {}).get("Bool") or {}).get("aws:SecureTransport") in ("false", False)
        and _covers_everyone(s)
        and _covers_every_action(s, service)
        and _covers_every_resource(s, service)
        for s in statements
    )


def _covers_everyone(statement: dict) -> bool:
    return "NotPrincipal" not in statement and _public_principal(statement)


def _covers_every_action(statement: dict, service: str) -> bool:
    if "NotAction" in statement:
        return False
    if service != "s3":
        return True  # topic and queue policies deny what their publishers and senders do (AWS's examples)
    return bool({"*", "s3:*"} & {str(a).lower() for a in as_list(statement.get("Action"))})


def _covers_every_resource(statement: dict, service: str) -> bool:
    if "NotResource" in statement:
        return False
    resources = [str(r) for r in as_list(statement.get("Resource"))]
    if "*" in resources:
        return True
    if service != "s3":
        return bool(resources)  # a topic or queue policy names its one resource
    # A bucket's policy must cover the bucket and every object in it.
    return any(not r.endswith("/*") and "/" not in r.split(":::", 1)[-1] and f"{r}/*" in resources for r in resources)


def _of(resources: list[Resource], type_: str) -> list[Resource]:
    return [r for r in resources if canonical_type(r.type) == type_]


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


PUBLIC_CANNED_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
PUBLIC_GRANTEES = ("http://acs.amazonaws.com/groups/global/AllUsers", "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
# Every resource that can carry an ACL, with where (canonical types: the V2 aliases count too).
ACL_BEARERS = {
    BUCKET: ("acl", "grants"),
    "aws:s3/bucketAcl:BucketAcl": ("acl", "accessControlPolicy"),
    "aws:s3/bucketObject:BucketObject": ("acl", None),
}


def _public_acl(r: Resource) -> Iterable[str]:
    canned_prop, grants_prop = ACL_BEARERS[canonical_type(r.type)]
    canned = r.props.get(canned_prop)
    if canned in PUBLIC_CANNED_ACLS:
        yield f"{canned_prop} {canned} makes it readable by everyone"
    grants = r.props.get(grants_prop) if grants_prop else None
    if isinstance(grants, Mapping):
        grants = grants.get("grants")
    for grant in as_list(grants):
        grantee = (grant.get("grantee") or {}) if isinstance(grant, Mapping) else {}
        uri = grantee.get("uri") or grant.get("uri") if isinstance(grant, Mapping) else None
        if uri in PUBLIC_GRANTEES:
            yield f"a grant of {grant.get('permission') or grant.get('permissions')} to {uri.rsplit('/', 1)[-1]}"


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


# Every form of an S3 endpoint: bucket.s3.amazonaws.com, bucket.s3.<region>.amazonaws.com, the
# legacy bucket.s3-<region>.amazonaws.com, dualstack, path style s3.<region>.amazonaws.com.
_S3_ENDPOINT = re.compile(r"(^|\.)s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
_S3_WEBSITE = re.compile(r"(^|\.)s3-website[.-]")


def _is_s3_origin(origin: Mapping[str, Any], bucket_domains: set[str]) -> bool:
    domain = str(origin.get("domainName", "")).lower().rstrip(".")
    return bool(origin.get("s3OriginConfig")) or bool(_S3_ENDPOINT.search(domain)) or domain in bucket_domains


def _cloudfront_oac(resources: list[Resource]) -> Iterable[Finding]:
    """Every S3 origin of every distribution (however its endpoint is spelled) is read with origin
    access control; a website endpoint is public by construction."""
    bucket_domains = {
        str(b.props.get(p, "")).lower() for b in _of(resources, BUCKET) for p in ("bucketRegionalDomainName", "bucketDomainName")
    } - {""}
    for distribution in _of(resources, DISTRIBUTION):
        for origin in distribution.props.get("origins") or []:
            domain = str(origin.get("domainName", "")).lower()
            if _S3_WEBSITE.search(domain):
                yield distribution.urn, f"origin {origin.get('originId')} is a public S3 website endpoint"
            elif _is_s3_origin(origin, bucket_domains) and not origin.get("originAccessControlId"):
                yield distribution.urn, f"S3 origin {origin.get('originId')} is read without origin access control"


def _cloudfront_https(r: Resource) -> Iterable[str]:
    for behavior in _behaviors(r.props):
        if behavior.get("viewerProtocolPolicy") not in ("redirect-to-https", "https-only"):
            yield f"behavior {behavior.get('pathPattern', 'default')} allows plain HTTP"


MODERN_VIEWER_POLICIES = ("TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025")


def _cloudfront_tls(r: Resource) -> Iterable[str]:
    viewer = r.props.get("viewerCertificate") or {}
    custom = viewer.get("acmCertificateArn") or viewer.get("iamCertificateId")
    if custom and viewer.get("minimumProtocolVersion") not in MODERN_VIEWER_POLICIES:
        yield f"custom certificate allows {viewer.get('minimumProtocolVersion')} (TLSv1.2_2021 or newer required)"
    if custom and viewer.get("sslSupportMethod") != "sni-only":
        yield "custom certificate is served without SNI (dedicated IPs)"


# What shows a stack has a domain of its own: with one, every distribution can carry a certificate.
DOMAIN_EVIDENCE = ("aws:route53/record:Record", "aws:acm/certificate:Certificate", "aws:apigateway/domainName:DomainName")


def _cloudfront_custom_certificate(resources: list[Resource]) -> Iterable[Finding]:
    """The default *.cloudfront.net certificate fixes the TLS floor at TLSv1. A stack without a
    domain has no name to put on another one; a stack with one (aliases on the distribution, DNS
    records, certificates or API domains anywhere in it) must use a certificate of its own."""
    has_domain = any(_of(resources, t) for t in DOMAIN_EVIDENCE)
    for distribution in _of(resources, DISTRIBUTION):
        viewer = distribution.props.get("viewerCertificate") or {}
        default = viewer.get("cloudfrontDefaultCertificate") or not (
            viewer.get("acmCertificateArn") or viewer.get("iamCertificateId")
        )
        if default and (has_domain or distribution.props.get("aliases")):
            yield (
                distribution.urn,
                "the default *.cloudfront.net certificate (TLS floor TLSv1) on a stack that has a domain: use an ACM certificate",
            )


def _cloudfront_origin_https(r: Resource) -> Iterable[str]:
    for origin in r.props.get("origins") or []:
        custom = origin.get("customOriginConfig")
        if not custom:
            continue
        if custom.get("originProtocolPolicy") != "https-only":
            yield f"custom origin {origin.get('originId')} is reached with {custom.get('originProtocolPolicy')} (https-only required)"
        weak = sorted(set(custom.get("originSslProtocols") or []) - {"TLSv1.2"})
        if weak:
            yield f"custom origin {origin.get('originId')} accepts {', '.join(weak)}"


def _cloudfront_waf(r: Resource) -> Iterable[str]:
    if not r.props.get("webAclId"):
        yield "no WAF web ACL in front of the distribution"


def _cloudfront_logs(r: Resource) -> Iterable[str]:
    if not (r.props.get("loggingConfig") or {}).get("bucket"):
        yield "no standard access logs"


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
        ordered = distribution.props.get("orderedCacheBehaviors") or []
        if ordered and not set(distribution.depends_on("orderedCacheBehaviors")) & good:
            yield distribution.urn, "its path behaviors use no response headers policy with HSTS (>= 1 year) and nosniff"
        for behavior in ordered:
            if not behavior.get("responseHeadersPolicyId"):
                yield distribution.urn, f"behavior {behavior.get('pathPattern')} has no response headers policy"


def _cloudfront_failover(r: Resource) -> Iterable[str]:
    s3_origins = [o for o in r.props.get("origins") or [] if ".s3." in str(o.get("domainName", ""))]
    if len(s3_origins) > 1 and not r.props.get("originGroups"):
        yield f"{len(s3_origins)} regional origins but no origin group to fail over between them"
    for group in r.props.get("originGroups") or []:
        codes = set((group.get("failoverCriteria") or {}).get("statusCodes") or [])
        if not {500, 502, 503, 504} <= codes:
            yield f"origin group {group.get('originId')} does not fail over on 5xx"


# AWS managed cache policy "CachingDisabled": a behaviour under it keeps nothing.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"


def _cloudfront_cache_shared_safely(r: Resource) -> Iterable[str]:
    """An answer a behaviour caches is given to everyone whose request has the same cache key. So
    a caching behaviour forwards to its origin only what its cache policy keys on: an origin
    request policy would send more (cookies, an API key, every viewer header) and let the answer
    to one client be served to others."""
    for behavior in _behaviors(r.props):
        caches = behavior.get("cachePolicyId") not in (None, CACHING_DISABLED)
        if caches and behavior.get("originRequestPolicyId"):
            yield (
                f"behavior {behavior.get('pathPattern', 'default')} caches answers and forwards more than its cache key "
                f"(origin request policy {behavior['originRequestPolicyId']})"
            )


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
    # Full request/response logging writes bodies (and the admin key's header) to CloudWatch:
    # refused at every level, stage-wide or for one method.
    for method in _of(resources, METHOD_SETTINGS):
        if (method.props.get("settings") or {}).get("dataTraceEnabled") is True:
            yield method.urn, f"{method.props.get('methodPath')} logs full request and response data"


def _stage_throttling(resources: list[Resource]) -> Iterable[Finding]:
    settings = _stage_wide_settings(resources)
    for stage in _of(resources, STAGE):
        s = settings.get(stage.urn, {})
        if not s.get("throttlingRateLimit") or not s.get("throttlingBurstLimit"):
            yield stage.urn, f"stage {stage.props.get('stageName')} has no stage-wide throttling"


def _stages_in_usage_plans(resources: list[Resource]) -> Iterable[Finding]:
    planned = _covered(resources, "aws:apigateway/usagePlan:UsagePlan", "apiStages")
    for stage in _of(resources, STAGE):
        if stage.urn not in planned and not set(stage.depends_on("restApi")) & planned:
            yield stage.urn, f"stage {stage.props.get('stageName')} is in no usage plan"


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


# --- access: every policy-bearing input, through policy/access.py ----------------------------------


def _statements_by_resource(resources: list[Resource]) -> list[tuple[Resource, list[Statement]]]:
    return [(r, r.statements) for r in resources]


def _public_access(resources: list[Resource]) -> Iterable[Finding]:
    for resource, statements in _statements_by_resource(resources):
        for statement in statements:
            if statement.public:
                who = "NotPrincipal (everyone else)" if statement.not_principal else "any principal"
                yield (
                    resource.urn,
                    f"{statement.label()} grants {', '.join(statement.actions) or '?'} to {who} without a restricting condition",
                )


def _own_accounts(resources: list[Resource]) -> set[str]:
    return set().union(*(r.accounts_named for r in resources))


def _cross_account(resources: list[Resource]) -> Iterable[Finding]:
    own = _own_accounts(resources)
    if not own:
        return  # a preview with unknown ARNs names no account: nothing to compare against
    for resource, statements in _statements_by_resource(resources):
        for statement in statements:
            if statement.allows and statement.kind != IDENTITY and not statement.restricted:
                foreign = sorted(statement.accounts() - own)
                if foreign:
                    yield resource.urn, f"{statement.label()} grants access to other account(s) {', '.join(foreign)}"


def _service_grants_name_their_source(resources: list[Resource]) -> Iterable[Finding]:
    for resource, statements in _statements_by_resource(resources):
        for statement in statements:
            if statement.kind != RESOURCE or not statement.allows or not statement.services():
                continue
            if not statement.condition_values(SOURCE_KEYS):
                yield (
                    resource.urn,
                    (
                        f"{statement.label()} lets {', '.join(statement.services())} act for any source "
                        "(no aws:SourceArn / aws:SourceAccount condition: confused deputy)"
                    ),
                )


def _trust_scoped(resources: list[Resource]) -> Iterable[Finding]:
    own = _own_accounts(resources)
    for resource, statements in _statements_by_resource(resources):
        for statement in statements:
            if statement.kind != TRUST or not statement.allows:
                continue
            if statement.everyone and not statement.restricted:
                yield resource.urn, f"{statement.label()} lets anyone assume the role"
            if "Service:*" in statement.principals or "Service:*.amazonaws.com" in statement.principals:
                yield resource.urn, f"{statement.label()} lets every AWS service assume the role"
            foreign = sorted(statement.accounts() - own) if own else []
            if foreign and not statement.restricted:
                yield (
                    resource.urn,
                    f"{statement.label()} lets account(s) {', '.join(foreign)} assume the role without a condition",
                )
            if any(p.startswith("Federated:") for p in statement.principals) and not statement.conditions:
                yield resource.urn, f"{statement.label()} trusts a federated identity provider without conditions on the token"


def _identity_statements(r: Resource) -> list[Statement]:
    return [s for s in r.statements if s.kind == IDENTITY and s.allows]


# Identity policies: the types whose input is one, and roles (inline policies).
IDENTITY_TYPES = (
    *(t for t, inputs in POLICY_INPUTS.items() if any(kind == IDENTITY for _prop, kind in inputs)),
    "aws:iam/role:Role",
)


def _iam_wildcard_actions(r: Resource) -> Iterable[str]:
    for statement in _identity_statements(r):
        for action in statement.wildcard_actions():
            yield f"{statement.label()} allows wildcard action {action}"


def _iam_wildcard_resources(r: Resource) -> Iterable[str]:
    for statement in _identity_statements(r):
        restrictable = [a for a in statement.actions if a not in UNRESTRICTABLE_ACTIONS]
        if statement.not_action or restrictable:
            for resource in statement.wildcard_resources():
                yield f"{statement.label()} grants {', '.join(restrictable) or 'actions'} on {resource}"


def _no_admin_policies(r: Resource) -> Iterable[str]:
    for arn in attached_managed_policies(r.type, r.props):
        if ADMIN_MANAGED_POLICIES.match(arn):
            yield f"attaches the administrative managed policy {arn.rsplit('/', 1)[-1]}"


def _writes(method: str, operation: dict) -> bool:
    """A write method, or the catch-all ANY (which takes POST, PUT and DELETE too) unless the
    gateway answers it itself (a MOCK integration: no function runs)."""
    if method == "x-amazon-apigateway-any-method":
        return str((operation.get("x-amazon-apigateway-integration") or {}).get("type", "")).lower() != "mock"
    return method in ("post", "put", "patch", "delete")


def _admin_routes_keyed(r: Resource) -> Iterable[str]:
    document = _json(r.props.get("body")) or {}
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    key_schemes = {n for n, s in schemes.items() if s.get("type") == "apiKey" and s.get("in") == "header"}
    for path, methods in (document.get("paths") or {}).items():
        for method, operation in methods.items():
            if not isinstance(operation, dict):
                continue
            keyed = any(set(requirement) & key_schemes for requirement in operation.get("security") or [])
            if keyed:
                continue
            if _writes(method, operation) and not str(operation.get("x-public-write") or "").strip():
                yield f"{method.upper()} {path} writes without the API key and without a stated reason to be public"
            elif str(operation.get("x-private-read") or "").strip():
                yield f"{method.upper()} {path} is a private read ({operation['x-private-read']}) served without the API key"


def _function_url_auth(r: Resource) -> Iterable[str]:
    if r.props.get("authorizationType") != "AWS_IAM":
        yield f"function URL with authorization {r.props.get('authorizationType')}: anyone on the internet may invoke it"


# --- IAM -----------------------------------------------------------------------------------------


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


def _messaging_policy_tls(r: Resource) -> Iterable[str]:
    service = "sns" if canonical_type(r.type) == "aws:sns/topicPolicy:TopicPolicy" else "sqs"
    if not _denies_insecure_transport(_statements(r.props.get("policy")), service):
        yield "policy does not deny requests without TLS"


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


def _firehose_encrypted(r: Resource) -> Iterable[str]:
    if r.props.get("kinesisSourceConfiguration"):
        return  # records rest in the source stream, encrypted there (kinesis-encryption-retention)
    if not (r.props.get("serverSideEncryption") or {}).get("enabled"):
        yield "direct-put delivery stream without server-side encryption"


def _athena_workgroup(r: Resource) -> Iterable[str]:
    configuration = r.props.get("configuration") or {}
    if not configuration.get("enforceWorkgroupConfiguration"):
        yield "workgroup does not enforce its settings: a client may send results elsewhere, unencrypted"
    encryption = ((configuration.get("resultConfiguration") or {}).get("encryptionConfiguration") or {}).get("encryptionOption")
    if encryption not in ("SSE_S3", "SSE_KMS", "CSE_KMS"):
        yield "query results are not encrypted"


def _athena_scan_limit(r: Resource) -> Iterable[str]:
    if not (r.props.get("configuration") or {}).get("bytesScannedCutoffPerQuery"):
        yield "no per-query limit on data scanned: one query over every partition is billed in full"


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


def _backup_vault_cmk(r: Resource) -> Iterable[str]:
    if not r.props.get("kmsKeyArn"):
        yield "backup vault encrypted with the AWS managed key, not a customer managed key"


def _arn_region(arn: Any) -> str | None:
    parts = str(arn or "").split(":")
    return parts[3] if len(parts) > 3 and parts[0] == "arn" else None


def _backups_copied_out_of_region(resources: list[Resource]) -> Iterable[Finding]:
    vaults = {v.urn: v for v in _of(resources, "aws:backup/vault:Vault")}
    if len(vaults) < 2:
        return  # a single-region stack has no other region to copy to
    for plan in _of(resources, "aws:backup/plan:Plan"):
        targets = [vaults[u] for u in plan.depends_on("rules") if u in vaults]
        for rule in plan.props.get("rules") or []:
            home = next(
                (_arn_region(v.props.get("arn")) for v in targets if v.props.get("name") == rule.get("targetVaultName")), None
            )
            regions = {_arn_region(c.get("destinationVaultArn")) for c in rule.get("copyActions") or []}
            if not regions - {home, None}:
                yield plan.urn, f"backup rule {rule.get('ruleName')} copies no recovery point to another region's vault"


def _global_tables_backed_up(resources: list[Resource]) -> Iterable[Finding]:
    selected = _covered(resources, "aws:backup/selection:Selection", "resources")
    for table in _of(resources, TABLE):
        if table.props.get("replicas") and table.urn not in selected:
            yield table.urn, "global table in no backup selection: replication copies a mistake to every replica"


def _acm_no_wildcard(r: Resource) -> Iterable[str]:
    names = [r.props.get("domainName"), *(r.props.get("subjectAlternativeNames") or [])]
    wild = [n for n in names if isinstance(n, str) and n.startswith("*")]
    if wild:
        yield f"wildcard certificate for {', '.join(wild)}"


def _log_group_retention(r: Resource) -> Iterable[str]:
    if not r.props.get("retentionInDays"):
        yield "log group keeps logs forever (no retention)"


def _log_group_cmk(r: Resource) -> Iterable[str]:
    if not r.props.get("kmsKeyId"):
        yield "log group encrypted with the CloudWatch Logs service key, not a customer managed key"


def _lambda_environment_cmk(r: Resource) -> Iterable[str]:
    if r.props.get("environment") and not r.props.get("kmsKeyArn"):
        yield "environment variables encrypted with the Lambda service key, not a customer managed key"


def _lambda_concurrency_limit(r: Resource) -> Iterable[str]:
    if r.props.get("reservedConcurrentExecutions") in (None, -1):
        yield "no function-level concurrency limit"


# --- containers (ContainerService) -----------------------------------------------------------------

LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE = "aws:ecs/service:Service"
# TLS 1.2 or 1.3 only (the ELB security policies whose names say so, and the FS/TLS13 families).
_TLS12_POLICY = re.compile(r"^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)-")
_OPEN = ("0.0.0.0/0", "::/0")


def _lb_internal(r: Resource) -> Iterable[str]:
    if r.props.get("internal") is not True:
        yield "load balancer faces the internet: the containers are reached through API Gateway's VPC link only"
    if r.props.get("loadBalancerType", "application") == "application" and r.props.get("dropInvalidHeaderFields") is not True:
        yield "application load balancer passes invalid HTTP header fields to its targets"


def _listener_tls(r: Resource) -> Iterable[str]:
    if r.props.get("protocol") not in ("HTTPS", "TLS"):
        yield f"listener speaks {r.props.get('protocol') or 'HTTP'}, not HTTPS"
    elif not _TLS12_POLICY.match(str(r.props.get("sslPolicy") or "")):
        yield f"listener's security policy {r.props.get('sslPolicy')!r} admits TLS below 1.2"


def _container_definitions(r: Resource) -> list[dict]:
    definitions = _json(r.props.get("containerDefinitions"))
    return [d for d in definitions if isinstance(d, dict)] if isinstance(definitions, list) else []


def _task_image_by_digest(r: Resource) -> Iterable[str]:
    for container in _container_definitions(r):
        if "@sha256:" not in str(container.get("image", "")):
            yield f"container {container.get('name')} runs image {container.get('image')!r}, not pinned by digest"


def _task_hardened(r: Resource) -> Iterable[str]:
    for container in _container_definitions(r):
        name = container.get("name")
        if container.get("privileged"):
            yield f"container {name} is privileged"
        if container.get("readonlyRootFilesystem") is not True:
            yield f"container {name} can write its root file system"
        if str(container.get("user", "root")).split(":")[0] in ("", "0", "root"):
            yield f"container {name} runs as root"
    if r.props.get("executionRoleArn") and r.props.get("executionRoleArn") == r.props.get("taskRoleArn"):
        yield "the task's code runs with its execution role (pull and log grants belong to ECS alone)"


def _service_circuit_breaker(r: Resource) -> Iterable[str]:
    breaker = r.props.get("deploymentCircuitBreaker") or {}
    if not (breaker.get("enable") and breaker.get("rollback")):
        yield "a failing deployment is not stopped and rolled back (deployment circuit breaker with rollback)"


def _subnet_no_auto_public_ip(r: Resource) -> Iterable[str]:
    if r.props.get("mapPublicIpOnLaunch"):
        yield "subnet gives every network interface launched in it a public IP"


def _no_open_ingress(r: Resource) -> Iterable[str]:
    rules = [r.props] if canonical_type(r.type) != "aws:ec2/securityGroup:SecurityGroup" else list(r.props.get("ingress") or [])
    for rule in rules:
        sources = [
            rule.get("cidrIpv4"),
            rule.get("cidrIpv6"),
            *(rule.get("cidrBlocks") or []),
            *(rule.get("ipv6CidrBlocks") or []),
        ]
        if canonical_type(r.type) == "aws:ec2/securityGroupRule:SecurityGroupRule" and rule.get("type") != "ingress":
            continue
        for source in sources:
            if source in _OPEN:
                yield f"admits {source} on ports {rule.get('fromPort')}-{rule.get('toPort')}: only named security groups may connect"


# --- the relational store (AuroraGlobal) -------------------------------------------------------------

RDS_CLUSTER = "aws:rds/cluster:Cluster"
KEY_GROUP = "aws:cloudfront/keyGroup:KeyGroup"
PREMIUM_PATH = "/premium/"
# The longest a premium session's cookies may admit their reader (stack config: 60-3600 s).
MAX_PREMIUM_COOKIE_SECONDS = 3600


PREMIUM_ORIGIN_PREFIX = "premium-"  # the origins (and origin group) of premium buckets (components/static_site.py)
PREMIUM_TAG = ("content", "premium")  # the tag premium buckets carry (stack/paid_content.py)


def _behaviour_origin_ids(distribution: Resource) -> list[tuple[dict, set[str]]]:
    """Each behaviour with the origin ids it reads (an origin group's members included)."""
    groups = {
        g.get("originId"): {m.get("originId") for m in g.get("members") or []} | {g.get("originId")}
        for g in distribution.props.get("originGroups") or []
    }
    return [
        (behavior, groups.get(behavior.get("targetOriginId")) or {behavior.get("targetOriginId")})
        for behavior in _behaviors(distribution.props)
    ]


def _signed(behavior: Mapping[str, Any]) -> bool:
    return bool(behavior.get("trustedKeyGroups")) or bool(behavior.get("trustedSigners"))


def _premium_signed_only(resources: list[Resource]) -> Iterable[Finding]:
    """Premium media reach a viewer only with a signature: the /premium/ path trusts a key
    group, no behaviour without one reads a premium origin, and a premium bucket's policy admits
    one CloudFront distribution through its OAC and no other reader. (Judged on what a preview
    knows: path patterns, origin ids and tags; a bucket's domain is not known before it exists.)"""
    for distribution in _of(resources, DISTRIBUTION):
        for behavior, origin_ids in _behaviour_origin_ids(distribution):
            pattern = str(behavior.get("pathPattern", "default"))
            if _signed(behavior):
                continue
            if pattern.startswith(PREMIUM_PATH):
                yield distribution.urn, f"behavior {pattern} serves premium media without a trusted key group"
            elif any(str(o).startswith(PREMIUM_ORIGIN_PREFIX) for o in origin_ids):
                yield distribution.urn, f"behavior {pattern} serves a premium origin without a trusted key group"
    policies = _bucket_policies_by_bucket(resources)
    for bucket in _of(resources, BUCKET):
        if (bucket.props.get("tags") or {}).get(PREMIUM_TAG[0]) != PREMIUM_TAG[1]:
            continue
        readers = set()
        for statement in policies.get(bucket.urn, []):
            if statement.get("Effect") != "Allow":
                continue
            source = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("AWS:SourceArn")
            if (
                statement.get("Principal") != {"Service": "cloudfront.amazonaws.com"}
                or not isinstance(source, str)
                or "*" in source
            ):
                yield (
                    bucket.urn,
                    f"bucket {bucket.name} holds premium media but admits a reader other than one distribution's OAC",
                )
            else:
                readers.add(source)
        if len(readers) > 1:
            yield bucket.urn, f"bucket {bucket.name} holds premium media but admits {len(readers)} distributions"


def _key_group_not_empty(r: Resource) -> Iterable[str]:
    if not r.props.get("items"):
        yield "trusts no public key: no signature can admit anyone, and the behaviour trusting it serves nothing"


def _premium_cookie_lifetime(r: Resource) -> Iterable[str]:
    environment = r.props.get("environment")
    variables = environment.get("variables") if isinstance(environment, Mapping) else None
    if not isinstance(variables, Mapping) or "PREMIUM_COOKIE_SECONDS" not in variables:
        return
    value = str(variables["PREMIUM_COOKIE_SECONDS"])
    if not value.isdigit() or not 0 < int(value) <= MAX_PREMIUM_COOKIE_SECONDS:
        yield f"premium cookies live {value} s; at most {MAX_PREMIUM_COOKIE_SECONDS} s (links for premium readers are short-lived)"


def _rds_encrypted(r: Resource) -> Iterable[str]:
    if r.props.get("storageEncrypted") is not True:
        yield "storage is not encrypted at rest"


def _rds_private(r: Resource) -> Iterable[str]:
    if r.props.get("publiclyAccessible"):
        yield "instance is publicly accessible"


def _rds_recoverable(r: Resource) -> Iterable[str]:
    if int(r.props.get("backupRetentionPeriod") or 1) < 7:
        yield f"backups kept {r.props.get('backupRetentionPeriod') or 1} day(s), fewer than 7"
    if r.props.get("skipFinalSnapshot", True):
        yield "deleting the cluster takes no final snapshot"
    if not r.props.get("copyTagsToSnapshot"):
        yield "snapshots do not carry the cluster's tags"


def _stage_waf(resources: list[Resource]) -> Iterable[Finding]:
    protected = _covered(resources, "aws:wafv2/webAclAssociation:WebAclAssociation", "resourceArn")
    for stage in _of(resources, STAGE):
        if stage.urn not in protected:
            yield stage.urn, f"stage {stage.props.get('stageName')} has no WAF web ACL"


def _bucket_access_logging(resources: list[Resource]) -> Iterable[Finding]:
    logging = _of(resources, "aws:s3/bucketLogging:BucketLogging")
    logged = {urn for side in logging for urn in side.depends_on("bucket")}
    targets = {urn for side in logging for urn in side.depends_on("targetBucket")}
    for bucket in _of(resources, BUCKET):
        if bucket.urn not in logged and bucket.urn not in targets:
            yield bucket.urn, f"bucket {bucket.name} has no server access logging"


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
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"),
}


def _no_plain_environment_secrets(resources: list[Resource]) -> Iterable[Finding]:
    """A function's environment is readable by anyone allowed lambda:GetFunctionConfiguration and
    sits in the template of every deploy: no credential in it, whether written there as a literal
    (judged by the value) or passed from a credential the stack generates (judged by where the
    value comes from). The function reads such a value at run time (SSM SecureString)."""
    credential_urns = {r.urn for r in resources if canonical_type(r.type) in CREDENTIAL_OUTPUTS}
    for function in _of(resources, FUNCTION):
        environment = function.props.get("environment")
        variables = environment.get("variables") if isinstance(environment, Mapping) else None
        variables = variables if isinstance(variables, Mapping) else {}  # unknown, or a whole secret: values unseen
        for name in sorted(variables):
            if looks_like_secret(variables[name]):
                yield function.urn, f"environment variable {name} holds a value that looks like a credential"
        if set(function.depends_on("environment")) & credential_urns:
            yield function.urn, "its environment carries a generated credential (a password or key resource of the stack)"


def _credential_outputs_secret(r: Resource) -> Iterable[str]:
    missing = [o for o in CREDENTIAL_OUTPUTS.get(r.type, ()) if o not in r.additional_secret_outputs]
    if missing:
        yield f"output(s) {', '.join(missing)} hold a credential but are stored in clear (mark them additional_secret_outputs)"


RULES: tuple[Rule, ...] = (
    # Access, over every policy-bearing input (policy/access.py)
    Rule(
        "no-public-access",
        "no resource policy, permission, layer grant or function URL admits any principal without a restricting condition",
        (
            "CKV_AWS_70",
            "CKV_AWS_33",
            "CKV_AWS_301",
            "CKV_AWS_168",
            "CKV_AWS_169",
            "CKV_AWS_387",
            "FSBP Lambda.1",
            "FSBP SNS.4",
            "FSBP SQS.3",
            "FSBP KMS.5",
        ),
        check_stack=_public_access,
    ),
    Rule(
        "no-cross-account-access",
        "resource policies grant nothing to another account unless a condition restricts it",
        ("CKV_AWS_385", "FSBP S3.6"),
        check_stack=_cross_account,
    ),
    Rule(
        "service-grants-name-their-source",
        "a grant to an AWS service names the source (aws:SourceArn / aws:SourceAccount): no confused deputy",
        ("CKV_AWS_364",),
        check_stack=_service_grants_name_their_source,
    ),
    Rule(
        "iam-trust-scoped",
        "role trust policies admit named services or this account's principals, never anyone",
        ("CKV_AWS_60", "CKV_AWS_61"),
        check_stack=_trust_scoped,
    ),
    Rule(
        "iam-no-admin-policies",
        "no AdministratorAccess, PowerUserAccess, IAMFullAccess or other *FullAccess managed policy is attached",
        ("CKV_AWS_274", "CKV2_AWS_56"),
        types=(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "aws:iam/role:Role",
            "aws:iam/userPolicyAttachment:UserPolicyAttachment",
            "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
            "aws:iam/policyAttachment:PolicyAttachment",
        ),
        check=_no_admin_policies,
    ),
    Rule(
        "iam-no-wildcard-actions",
        "identity policies name their actions: no '*', no 'service:*', no 'service:Get*', no NotAction",
        ("CKV_AWS_62", "CKV_AWS_63", "CKV2_AWS_40", "FSBP IAM.1", "FSBP IAM.21"),
        types=IDENTITY_TYPES,
        check=_iam_wildcard_actions,
    ),
    Rule(
        "iam-no-wildcard-resource",
        "identity policies name their resources: no '*' for restrictable actions, no 'role/*' or 'bucket*', no NotResource",
        ("CKV_AWS_355",),
        types=IDENTITY_TYPES,
        check=_iam_wildcard_resources,
    ),
    Rule(
        "lambda-url-iam-auth",
        "function URLs require IAM authorization",
        ("CKV_AWS_258",),
        types=("aws:lambda/functionUrl:FunctionUrl",),
        check=_function_url_auth,
    ),
    Rule(
        "apigw-admin-routes-keyed",
        "every write route of the OpenAPI document requires the API key or states why it is public (x-public-write); "
        "a private read (x-private-read) requires it",
        ("custom: OpenAPI security requirement",),
        types=("aws:apigateway/restApi:RestApi",),
        check=_admin_routes_keyed,
    ),
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
        "s3-no-public-acls",
        "no bucket, bucket ACL or object grants access to everyone by ACL (any of their type aliases)",
        ("CKV_AWS_20", "CKV_AWS_57"),
        types=tuple(ACL_BEARERS),
        check=_public_acl,
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
        ("CKV_AWS_19",),
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
        ("FSBP S3.5",),
        check_stack=_bucket_tls_only,
    ),
    Rule(
        "s3-access-logging",
        "buckets holding user data have server access logging",
        ("CKV_AWS_18", "FSBP S3.9"),
        check_stack=_bucket_access_logging,
    ),
    Rule(
        "s3-replication-rtc",
        "replication of data that must survive a region uses RTC",
        ("custom: S3 Replication Time Control",),
        types=("aws:s3/bucketReplicationConfig:BucketReplicationConfig",),
        check=_replication_rtc,
    ),
    # CloudFront
    Rule(
        "cloudfront-oac",
        "every S3 origin through OAC, never a public website endpoint",
        ("CKV2_AWS_46", "FSBP CloudFront.13"),
        check_stack=_cloudfront_oac,
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
        "custom certificates (ACM or IAM): TLSv1.2_2021 or newer, SNI",
        ("CKV_AWS_174", "FSBP CloudFront.15", "FSBP CloudFront.8"),
        types=(DISTRIBUTION,),
        check=_cloudfront_tls,
    ),
    Rule(
        "cloudfront-custom-certificate",
        "wherever the stack has a domain, a custom certificate, not the default one whose minimum protocol is TLSv1",
        ("CKV2_AWS_42", "FSBP CloudFront.7"),
        check_stack=_cloudfront_custom_certificate,
    ),
    Rule(
        "cloudfront-origin-https",
        "custom origins are reached over HTTPS with TLSv1.2 only",
        ("CKV2_AWS_72", "FSBP CloudFront.9", "FSBP CloudFront.10"),
        types=(DISTRIBUTION,),
        check=_cloudfront_origin_https,
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
        "cloudfront-cache-shared-safely",
        "a caching behaviour forwards to its origin only what its cache key holds (no answer to one client is served to another)",
        ("custom: CloudFront cache key and origin request policy",),
        types=(DISTRIBUTION,),
        check=_cloudfront_cache_shared_safely,
    ),
    Rule(
        "premium-signed-only",
        "premium media only with a signature: the premium path trusts a key group, no unsigned behaviour reads a premium origin, a premium bucket admits one distribution only",
        ("custom: CloudFront trusted key groups (paid content)",),
        check_stack=_premium_signed_only,
    ),
    Rule(
        "premium-key-group-not-empty",
        "a key group holds at least one public key",
        ("custom: CloudFront key groups",),
        types=(KEY_GROUP,),
        check=_key_group_not_empty,
    ),
    Rule(
        "premium-cookie-lifetime",
        f"premium session cookies live at most {MAX_PREMIUM_COOKIE_SECONDS} s",
        ("custom: short-lived links for premium readers (seed 003)",),
        types=(FUNCTION,),
        check=_premium_cookie_lifetime,
    ),
    Rule(
        "cloudfront-default-root-object",
        "a default root object",
        ("CKV_AWS_305", "FSBP CloudFront.1"),
        types=(DISTRIBUTION,),
        check=_cloudfront_root,
    ),
    Rule(
        "cloudfront-waf",
        "a WAF web ACL in front of the distribution (siteWebAclArn)",
        ("CKV_AWS_68", "FSBP CloudFront.6"),
        types=(DISTRIBUTION,),
        check=_cloudfront_waf,
        enforcement="advisory",
    ),
    Rule(
        "cloudfront-access-logs",
        "standard access logs (siteAccessLogs)",
        ("CKV_AWS_86", "FSBP CloudFront.5"),
        types=(DISTRIBUTION,),
        check=_cloudfront_logs,
        enforcement="advisory",
    ),
    # API Gateway
    Rule(
        "apigw-access-logging",
        "access logging on every stage",
        ("CKV_AWS_76",),
        types=(STAGE,),
        check=_stage_access_logs,
    ),
    Rule(
        "apigw-execution-logging",
        "execution logging ERROR/INFO without data trace",
        ("CKV2_AWS_4", "CKV_AWS_276", "FSBP APIGateway.1"),
        check_stack=_stage_execution_logging,
    ),
    Rule("apigw-xray", "X-Ray on every stage", ("CKV_AWS_73", "FSBP APIGateway.3"), types=(STAGE,), check=_stage_xray),
    Rule("apigw-stage-throttling", "stage-wide throttling", ("custom: API Gateway throttling",), check_stack=_stage_throttling),
    Rule(
        "apigw-usage-plan",
        "every stage is in a usage plan",
        ("cfn-nag W64",),
        check_stack=_stages_in_usage_plans,
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
    Rule(
        "apigw-waf",
        "a WAF web ACL on every stage (apiWebAclArns)",
        ("CKV2_AWS_29", "FSBP APIGateway.4"),
        check_stack=_stage_waf,
        enforcement="advisory",
    ),
    # Lambda
    Rule("lambda-tracing", "active tracing", ("CKV_AWS_50",), types=(FUNCTION,), check=_lambda_tracing),
    Rule(
        "lambda-current-runtime", "a current runtime", ("CKV_AWS_363", "FSBP Lambda.2"), types=(FUNCTION,), check=_lambda_runtime
    ),
    Rule(
        "lambda-event-failure-handling",
        "mappings: partial failures; SQS redrive or stream on-failure, bisect, bounded retries and age",
        ("custom: Lambda developer guide",),
        check_stack=_mapping_failure_handling,
    ),
    Rule(
        "lambda-log-retention",
        "functions log to a log group with retention",
        ("custom: Lambda advanced logging controls",),
        check_stack=_lambda_log_retention,
    ),
    Rule(
        "log-group-retention",
        "every log group has a retention period",
        ("CKV_AWS_66",),
        types=("aws:cloudwatch/logGroup:LogGroup",),
        check=_log_group_retention,
    ),
    Rule(
        "lambda-reserved-concurrency",
        "reserved concurrency, where set, leaves the function able to run",
        ("custom: Lambda reserved concurrency",),
        types=(FUNCTION,),
        check=_reserved_concurrency,
    ),
    Rule(
        "log-group-cmk",
        "log groups under a customer managed key",
        ("CKV_AWS_158",),
        types=("aws:cloudwatch/logGroup:LogGroup",),
        check=_log_group_cmk,
        enforcement="advisory",
    ),
    Rule(
        "lambda-environment-cmk",
        "function environments under a customer managed key",
        ("CKV_AWS_173",),
        types=(FUNCTION,),
        check=_lambda_environment_cmk,
        enforcement="advisory",
    ),
    Rule(
        "lambda-concurrency-limit",
        "a function-level concurrency limit",
        ("CKV_AWS_115",),
        types=(FUNCTION,),
        check=_lambda_concurrency_limit,
        enforcement="advisory",
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
        ("custom: DynamoDB encryption at rest",),
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
    # Messaging
    Rule(
        "sns-encryption", "topics encrypted", ("CKV_AWS_26", "FSBP SNS.1"), types=("aws:sns/topic:Topic",), check=_sns_encryption
    ),
    Rule("sqs-encryption", "queues encrypted", ("CKV_AWS_27", "FSBP SQS.1"), types=(QUEUE,), check=_sqs_encryption),
    Rule(
        "messaging-policy-tls",
        "topic and queue policies deny requests without TLS",
        ("custom: SNS/SQS security best practices",),
        types=("aws:sns/topicPolicy:TopicPolicy", "aws:sqs/queuePolicy:QueuePolicy"),
        check=_messaging_policy_tls,
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
        ("CKV_AWS_43", "FSBP Kinesis.1"),
        types=("aws:kinesis/stream:Stream",),
        check=_kinesis,
    ),
    # Route 53, ACM, SES, KMS, secrets
    Rule(
        "route53-routed-records-checked",
        "latency/failover records have a health check",
        ("custom: Route 53 DNS failover",),
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
        ("custom: ACM DNS validation renews automatically",),
        types=("aws:acm/certificate:Certificate",),
        check=_acm_dns,
    ),
    Rule(
        "acm-no-wildcard",
        "certificates name their hosts, no wildcards",
        ("CKV2_AWS_71",),
        types=("aws:acm/certificate:Certificate",),
        check=_acm_no_wildcard,
    ),
    Rule(
        "ses-tls-required",
        "configuration sets require TLS",
        ("CKV_AWS_365",),
        types=("aws:sesv2/configurationSet:ConfigurationSet",),
        check=_ses_tls,
    ),
    Rule(
        "lambda-no-plain-secrets",
        "no credential in a function's environment, literal or generated (read it from SSM at run time)",
        ("CKV_AWS_45",),
        check_stack=_no_plain_environment_secrets,
    ),
    Rule(
        "no-plain-credential-outputs",
        "resource outputs that hold a credential are stored as secrets",
        ("custom: Pulumi secrets",),
        types=tuple(CREDENTIAL_OUTPUTS),
        check=_credential_outputs_secret,
    ),
    Rule(
        "dynamodb-global-table-backed-up",
        "every global table is in an AWS Backup selection (backups: true)",
        ("custom: replication is not a backup",),
        check_stack=_global_tables_backed_up,
        # backups: false is a valid choice (a throwaway stack); the pack says what it gives up.
        enforcement="advisory",
    ),
    Rule(
        "backup-vault-cmk",
        "backup vaults are encrypted with a customer managed key",
        ("CKV_AWS_166",),
        types=("aws:backup/vault:Vault",),
        check=_backup_vault_cmk,
    ),
    Rule(
        "backup-copy-cross-region",
        "in a multi-region stack every backup rule copies its recovery points to another region's vault",
        ("custom: AWS Backup cross-Region copy",),
        check_stack=_backups_copied_out_of_region,
    ),
    Rule(
        "firehose-encrypted",
        "delivery streams encrypt records at rest (server-side encryption, or an encrypted Kinesis source)",
        ("CKV_AWS_240",),
        types=("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",),
        check=_firehose_encrypted,
    ),
    Rule(
        "athena-workgroup-encrypted",
        "Athena workgroups enforce their settings and encrypt query results",
        ("CKV_AWS_82", "CKV_AWS_159"),
        types=("aws:athena/workgroup:Workgroup",),
        check=_athena_workgroup,
    ),
    Rule(
        "athena-scan-limit",
        "Athena workgroups cancel a query past a bytes-scanned limit",
        ("custom: Athena per-query data usage control",),
        types=("aws:athena/workgroup:Workgroup",),
        check=_athena_scan_limit,
    ),
    Rule(
        "lb-internal-only",
        "load balancers are internal (reached through API Gateway's VPC link) and drop invalid header fields",
        ("CKV_AWS_131",),
        types=(LOAD_BALANCER, "aws:alb/loadBalancer:LoadBalancer"),
        check=_lb_internal,
    ),
    Rule(
        "lb-listener-tls",
        "load balancer listeners speak HTTPS with a TLS 1.2+ security policy",
        ("CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_20"),
        types=(LISTENER, "aws:alb/listener:Listener"),
        check=_listener_tls,
    ),
    Rule(
        "ecs-image-by-digest",
        "task definitions run images pinned by digest: a tag can move under the same name",
        ("custom: immutable image reference",),
        types=(TASK_DEFINITION,),
        check=_task_image_by_digest,
    ),
    Rule(
        "ecs-task-hardened",
        "containers run unprivileged, as a non-root user, on a read-only root file system, with a task role apart from the execution role",
        ("CKV_AWS_336", "CKV_AWS_249", "CKV_AWS_334"),
        types=(TASK_DEFINITION,),
        check=_task_hardened,
    ),
    Rule(
        "ecs-circuit-breaker",
        "services stop and roll back a failing deployment",
        ("custom: ECS deployment circuit breaker",),
        types=(ECS_SERVICE,),
        check=_service_circuit_breaker,
    ),
    Rule(
        "no-open-ingress",
        "security groups admit named security groups only, never 0.0.0.0/0 or ::/0",
        ("CKV_AWS_24", "CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277"),
        types=(
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "aws:ec2/securityGroupRule:SecurityGroupRule",
        ),
        check=_no_open_ingress,
    ),
    Rule(
        "subnet-no-auto-public-ip",
        "subnets give no public IP by default: a task that needs one asks for it",
        ("CKV_AWS_130",),
        types=("aws:ec2/subnet:Subnet",),
        check=_subnet_no_auto_public_ip,
    ),
    Rule(
        "rds-encrypted",
        "Aurora clusters and global clusters encrypt their storage",
        ("CKV_AWS_96", "CKV_AWS_140"),
        types=(RDS_CLUSTER, "aws:rds/globalCluster:GlobalCluster"),
        check=_rds_encrypted,
    ),
    Rule(
        "rds-private",
        "database instances are not publicly accessible",
        ("CKV_AWS_17",),
        types=("aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance"),
        check=_rds_private,
    ),
    Rule(
        "rds-recoverable",
        "Aurora clusters keep a week of backups, a final snapshot on delete, and tag their snapshots",
        ("CKV_AWS_133", "CKV_AWS_313"),
        types=(RDS_CLUSTER,),
        check=_rds_recoverable,
    ),
    Rule(
        "kms-rotation",
        "customer managed keys rotate",
        ("CKV_AWS_7", "FSBP KMS.4"),
        types=("aws:kms/key:Key",),
        check=_kms_rotation,
    ),
)


@dataclass(frozen=True)
class Suppression:
    rule: str
    pattern: str  # resource name, a regular expression
    reason: str
    applies: Callable[[Resource], bool] = lambda _r: True  # narrower than the name, when needed
    finding: str = ""  # narrower still: only findings whose message matches (e.g. one statement)


# Nothing is suppressed without a written reason, and only where its condition holds.
SUPPRESSIONS: tuple[Suppression, ...] = (
    Suppression(
        "s3-acls-disabled",
        r"^(site-logs|api-edge-logs)$",
        "CloudFront standard logging writes with the awslogsdelivery ACL, which requires BucketOwnerPreferred ownership "
        "on the log bucket; the bucket is private (all four public-access flags) and expires logs (90 days for the "
        "site's, 7 for the API edge's, which are counted as page views within a day).",
    ),
    Suppression(
        "s3-versioning",
        r"^(site-logs|api-edge-logs|.*-access-logs)$",
        "Access logs are written once and expire (90 days, the API edge's after 7); versions would only keep deleted "
        "logs longer.",
    ),
    Suppression(
        "s3-access-logging",
        r"^api-edge-logs$",
        "The API edge's log bucket is written by CloudFront's log delivery and read only by the page-view counter "
        "(functions/edge_views); a log of its log reads would record nothing a user did.",
    ),
    Suppression(
        "s3-access-logging",
        r"^site-.*$",
        "Static site content is written only by the deployment and read only through CloudFront (OAC); reads are "
        "recorded by CloudFront's own access logs (siteAccessLogs), the log bucket does not log itself.",
    ),
    Suppression(
        "s3-replication-rtc",
        r"^analytics-.*-replication$",
        "Analytics events are not a path users fail over to: replication within minutes without an SLA is enough "
        "(the analytics RPO in docs/analytics.md), and RTC's replication metrics would be a standing charge.",
    ),
    Suppression(
        "service-grants-name-their-source",
        r"^(messaging-.*|bounces-.*-topic-key)$",
        "SES publishes bounce and complaint notifications to the mail-feedback topic under this key; the AWS guides "
        "for encrypted topics document the publishing service's KMS grant without source conditions, and SES is not "
        "documented to send aws:SourceAccount on the KMS call, so a condition would drop every notification. The "
        "topic policy itself restricts SES by aws:SourceAccount; the key encrypts only this region's service topics.",
        applies=lambda r: r.type == "aws:kms/key:Key",
        finding=r"lets ses\.amazonaws\.com act",
    ),
)


def suppression_reason(rule: str, resource: Resource | str, message: str = "") -> str | None:
    name = resource if isinstance(resource, str) else resource.name
    return next(
        (
            s.reason
            for s in SUPPRESSIONS
            if s.rule == rule
            and re.match(s.pattern, name)
            and (isinstance(resource, str) or s.applies(resource))
            and (not s.finding or re.search(s.finding, message))
        ),
        None,
    )


def evaluate(resources: list[Resource], rules: Iterable[Rule] = RULES) -> list[dict[str, str]]:
    """Findings of `rules`, suppressions applied; each says whether it is mandatory or advisory."""
    by_urn = {r.urn: r for r in resources}
    findings = []
    for rule in rules:
        for urn, message in rule.evaluate(resources):
            resource = by_urn.get(urn)
            if resource is None or suppression_reason(rule.name, resource, message) is None:
                findings.append({"rule": rule.name, "urn": urn, "message": message, "enforcement": rule.enforcement})
    return findings
