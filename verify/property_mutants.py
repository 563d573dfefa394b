"""Mutants written from a property, in every spelling the property can take.

verify.mutants makes one careless edit per protection. An outside check showed that is not enough:
a rule written against the one spelling it was tested with lets the others through (a wildcard in
the account of a source ARN instead of a missing condition, a TLS deny narrowed instead of removed,
a bucket declared under a type alias). Each generator here takes one property of the stack as it
is and produces every way of breaking it that AWS would accept:

- a source condition that no longer names one account's one resource;
- a TLS-only deny that no longer covers every principal, action and resource;
- a public ACL through every resource type (and type alias) that carries one;
- the TLS floor of a stack that has a domain;
- an S3 origin read without origin access control, however its endpoint is spelled;
- a cache behaviour without the security-headers policy;
- full request/response data tracing on any method;
- a credential-shaped value in a function's plain environment, under a name that says nothing.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from policy.access import SOURCE_KEYS
from policy.rules import BUCKET, DISTRIBUTION, DOMAIN_EVIDENCE, Resource, canonical_type
from verify.mutation import FOREIGN_ACCOUNT, Mutant, add, document, new_resource, of_type, statements_of, swap, with_props

POLICY_HOLDERS = (
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:sns/topicPolicy:TopicPolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:kms/key:Key",
)


def _with_statement(resource: Resource, index: int, statement: dict) -> Resource:
    statements = statements_of(resource.props.get("policy"))
    statements[index] = statement
    return with_props(resource, policy=document(*statements))


def _wildcard_account(arn: str) -> str:
    parts = arn.split(":", 5)
    return ":".join([*parts[:4], "*", parts[5]]) if len(parts) == 6 and parts[4] else arn


def _wildcard_resource(arn: str) -> str:
    parts = arn.split(":", 5)
    return ":".join([*parts[:5], "*"]) if len(parts) == 6 else arn


def _rule_for_grantee(statement: dict) -> str:
    principal = statement.get("Principal")
    return "service-grants-name-their-source" if isinstance(principal, dict) and "Service" in principal else "no-public-access"


def _widened_conditions(conditions: dict, widen_arn) -> dict | None:
    """`conditions` with every source key widened (accounts to `*`, ARNs by `widen_arn`), or None
    when one of them would still name its source: the statement would stay restricted by it."""
    out = {}
    for operator, entries in conditions.items():
        out[operator] = dict(entries)
        for key, value in entries.items():
            if key.lower() not in SOURCE_KEYS:
                continue
            is_account = "account" in key.lower() or "owner" in key.lower()
            widened = "*" if is_account else widen_arn(str(value))
            if widened == value:
                return None  # an S3 ARN names a globally unique bucket without an account
            out[operator][key] = widened
    return out


def _source_condition_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    """Every statement's source conditions (aws:SourceArn, SourceAccount, ...) widened together
    until none of them names one account's one resource."""
    for holder in (r for t in POLICY_HOLDERS for r in of_type(resources, t)):
        for index, statement in enumerate(statements_of(holder.props.get("policy"))):
            conditions = statement.get("Condition") or {}
            has_source = any(k.lower() in SOURCE_KEYS for entries in conditions.values() for k in entries)
            if statement.get("Effect") != "Allow" or not has_source:
                continue
            for label, widen_arn in (("any account", _wildcard_account), ("any resource", _wildcard_resource)):
                widened = _widened_conditions(conditions, widen_arn)
                if widened is None:
                    continue
                yield Mutant(
                    f"source conditions for {label}: {holder.name} {statement.get('Sid', index)}",
                    _rule_for_grantee(statement),
                    holder.urn,
                    swap(holder, _with_statement(holder, index, {**statement, "Condition": widened})),
                )
    for permission in of_type(resources, "aws:lambda/permission:Permission"):
        source = permission.props.get("sourceArn")
        if not isinstance(source, str):
            continue
        for label, widened in (("any account", _wildcard_account(source)), ("any resource", _wildcard_resource(source))):
            yield Mutant(
                f"invoke permission from {label}: {permission.name}",
                "service-grants-name-their-source",
                permission.urn,
                swap(permission, with_props(permission, sourceArn=widened, sourceAccount=None)),
            )


def _denies_plain_http(statement: dict) -> bool:
    condition = (statement.get("Condition") or {}).get("Bool") or {}
    return statement.get("Effect") == "Deny" and condition.get("aws:SecureTransport") in ("false", False)


def _narrowings(statement: dict, service: str) -> Iterator[tuple[str, dict]]:
    """Every way to make a TLS-only deny cover less than everyone, everything, everywhere."""
    one_principal = {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"}
    yield "one principal", {**statement, "Principal": one_principal}
    rest = {k: v for k, v in statement.items() if k != "Principal"}
    yield "NotPrincipal", {**rest, "NotPrincipal": one_principal}
    without_action = {k: v for k, v in statement.items() if k != "Action"}
    yield "NotAction", {**without_action, "NotAction": f"{service}:GetObject" if service == "s3" else f"{service}:*"}
    without_resource = {k: v for k, v in statement.items() if k != "Resource"}
    yield "NotResource", {**without_resource, "NotResource": "arn:aws:s3:::mutant/*" if service == "s3" else "*"}
    if service == "s3":
        yield "reads only", {**statement, "Action": ["s3:GetObject"]}
        resources = [str(r) for r in statement.get("Resource") or []] if isinstance(statement.get("Resource"), list) else []
        if len(resources) > 1:
            yield "objects only", {**statement, "Resource": [r for r in resources if r.endswith("/*")]}
            yield "bucket only", {**statement, "Resource": [r for r in resources if not r.endswith("/*")]}


def _tls_deny_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for type_, service, rule in (
        ("aws:s3/bucketPolicy:BucketPolicy", "s3", "s3-tls-only"),
        ("aws:sns/topicPolicy:TopicPolicy", "sns", "messaging-policy-tls"),
        ("aws:sqs/queuePolicy:QueuePolicy", "sqs", "messaging-policy-tls"),
    ):
        for holder in of_type(resources, type_):
            # The bucket rule reports the bucket; the messaging rule the policy.
            target = (holder.depends_on("bucket") or [""])[0] if service == "s3" else holder.urn
            for index, statement in enumerate(statements_of(holder.props.get("policy"))):
                if not _denies_plain_http(statement):
                    continue
                for label, narrowed in _narrowings(statement, service):
                    yield Mutant(
                        f"TLS deny narrowed to {label}: {holder.name}",
                        rule,
                        target,
                        swap(holder, _with_statement(holder, index, narrowed)),
                    )


PUBLIC_GRANT = {
    "grants": [{"grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"}, "permission": "READ"}],
    "owner": {"id": "owner"},
}


def _aliases(type_: str) -> list[str]:
    """A type and every alias the provider accepts for it (`Bucket`, `BucketV2`)."""
    module, name = type_.rsplit(":", 1)
    return [type_, f"{module}V2:{name}V2", f"{module}v2:{name}v2"]


def _public_acl_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for bucket in of_type(resources, BUCKET):
        for type_ in _aliases(BUCKET):
            if canonical_type(type_) != BUCKET:
                continue
            changed = replace(with_props(bucket, acl="public-read"), type=type_)
            yield Mutant(
                f"{type_.rsplit(':', 1)[-1]} public-read: {bucket.name}", "s3-no-public-acls", bucket.urn, swap(bucket, changed)
            )
        for type_ in _aliases("aws:s3/bucketAcl:BucketAcl"):
            dependencies = {"bucket": [bucket.urn]}
            for label, props in (
                ("canned public-read", {"acl": "public-read"}),
                ("grant to AllUsers", {"accessControlPolicy": PUBLIC_GRANT}),
            ):
                added = replace(new_resource(type_, f"{bucket.name}-acl-mutant", **props), property_dependencies=dependencies)
                yield Mutant(f"{type_.rsplit(':', 1)[-1]} {label}: {bucket.name}", "s3-no-public-acls", "", add(added))
    for obj in (r for t in _aliases("aws:s3/bucketObject:BucketObject") for r in resources if r.type == t):
        yield Mutant(
            f"object public-read: {obj.name}", "s3-no-public-acls", obj.urn, swap(obj, with_props(obj, acl="public-read"))
        )


def _tls_floor_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    has_domain = any(r for t in DOMAIN_EVIDENCE for r in of_type(resources, t))
    for distribution in of_type(resources, DISTRIBUTION):
        if has_domain:
            for label, aliases in (("and its aliases", None), ("keeping its aliases", distribution.props.get("aliases"))):
                changed = with_props(distribution, viewerCertificate={"cloudfrontDefaultCertificate": True}, aliases=aliases)
                yield Mutant(
                    f"default certificate {label} on a stack with a domain: {distribution.name}",
                    "cloudfront-custom-certificate",
                    distribution.urn,
                    swap(distribution, changed),
                )
        viewer = distribution.props.get("viewerCertificate") or {}
        if viewer.get("acmCertificateArn"):
            for floor in ("TLSv1", "TLSv1_2016", "TLSv1.1_2016", "TLSv1.2_2018", "TLSv1.2_2019"):
                yield Mutant(
                    f"certificate floor {floor}: {distribution.name}",
                    "cloudfront-tls",
                    distribution.urn,
                    swap(distribution, with_props(distribution, viewerCertificate={**viewer, "minimumProtocolVersion": floor})),
                )


def _endpoint_spellings(domain: str) -> Iterator[tuple[str, str]]:
    """The same bucket reached by every endpoint form S3 answers on."""
    bucket, _, rest = domain.partition(".s3.")
    region = rest.split(".amazonaws.com")[0] if rest else ""
    if not bucket or not region:
        return
    yield "regional endpoint", domain
    yield "global endpoint", f"{bucket}.s3.amazonaws.com"
    yield "legacy dash endpoint", f"{bucket}.s3-{region}.amazonaws.com"
    yield "dual-stack endpoint", f"{bucket}.s3.dualstack.{region}.amazonaws.com"


def _origin_access_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for distribution in of_type(resources, DISTRIBUTION):
        origins = list(distribution.props.get("origins") or [])
        for index, origin in enumerate(origins):
            if not origin.get("originAccessControlId"):
                continue
            bare = {k: v for k, v in origin.items() if k != "originAccessControlId"}
            bucket = str(origin.get("domainName", "")).partition(".s3.")[0]
            variants = [
                (label, {**bare, "domainName": domain}) for label, domain in _endpoint_spellings(str(origin.get("domainName")))
            ]
            variants.append(
                (
                    "an origin access identity",
                    {**bare, "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E2MUTANT"}},
                )
            )
            region = str(origin.get("domainName", "")).split(".s3.")[-1].split(".amazonaws.com")[0]
            website = f"{bucket}.s3-website-{region}.amazonaws.com"
            custom = {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"], "httpPort": 80, "httpsPort": 443}
            variants.append(("the website endpoint", {**bare, "domainName": website, "customOriginConfig": custom}))
            for label, changed in variants:
                replaced = [changed if i == index else o for i, o in enumerate(origins)]
                yield Mutant(
                    f"S3 origin {origin.get('originId')} without OAC, {label}: {distribution.name}",
                    "cloudfront-oac",
                    distribution.urn,
                    swap(distribution, with_props(distribution, origins=replaced)),
                )


def _without(resource: Resource, prop: str, **changes: Any) -> Resource:
    """`resource` with `changes` and no recorded dependency through `prop` (as a preview records it)."""
    dependencies = {k: v for k, v in resource.property_dependencies.items() if k != prop}
    return replace(with_props(resource, **changes), property_dependencies=dependencies)


def _headers_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for distribution in of_type(resources, DISTRIBUTION):
        default = dict(distribution.props.get("defaultCacheBehavior") or {})
        if not default.get("responseHeadersPolicyId"):
            continue
        bare = {k: v for k, v in default.items() if k != "responseHeadersPolicyId"}
        yield Mutant(
            f"default behaviour without headers policy: {distribution.name}",
            "cloudfront-security-headers",
            distribution.urn,
            swap(distribution, _without(distribution, "defaultCacheBehavior", defaultCacheBehavior=bare)),
        )
        ordered = list(distribution.props.get("orderedCacheBehaviors") or [])
        for pattern in ("/media/*", "/api/*"):
            added = [*ordered, {**bare, "pathPattern": pattern}]
            yield Mutant(
                f"behaviour {pattern} without headers policy: {distribution.name}",
                "cloudfront-security-headers",
                distribution.urn,
                swap(distribution, with_props(distribution, orderedCacheBehaviors=added)),
            )


def _method_paths(api: Resource) -> list[str]:
    body = json.loads(api.props.get("body") or "{}")
    return [
        f"{path.strip('/')}/{method.upper()}"
        for path, methods in (body.get("paths") or {}).items()
        for method in methods
        if method.lower() in ("get", "put", "post", "delete", "patch")
    ]


def _data_trace_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for settings in of_type(resources, "aws:apigateway/methodSettings:MethodSettings"):
        changed = {**(settings.props.get("settings") or {}), "dataTraceEnabled": True}
        yield Mutant(
            f"data tracing on {settings.props.get('methodPath')}: {settings.name}",
            "apigw-execution-logging",
            settings.urn,
            swap(settings, with_props(settings, settings=changed)),
        )
    for api in of_type(resources, "aws:apigateway/restApi:RestApi"):
        for path in _method_paths(api):
            added = new_resource(
                "aws:apigateway/methodSettings:MethodSettings",
                f"{api.name}-{path}-mutant",
                methodPath=path,
                stageName="v1",
                settings={"dataTraceEnabled": True, "loggingLevel": "INFO"},
            )
            yield Mutant(f"data tracing on {path}: {api.name}", "apigw-execution-logging", "", add(added))


def _credentials(seed: str) -> list[tuple[str, str]]:
    """Credential-shaped values in the formats a careless edit pastes, drawn from a seeded RNG."""
    rng = random.Random(seed)

    def draw(alphabet: str, n: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    alnum = string.ascii_letters + string.digits
    return [
        ("an AWS access key id", "AKIA" + draw(string.ascii_uppercase + string.digits, 16)),
        ("an AWS secret access key", draw(alnum + "+/", 40)),
        ("a 256-bit hex key", draw("0123456789abcdef", 64)),
        ("a GitHub token", "ghp_" + draw(alnum, 36)),
        ("a Stripe key", "sk_live_" + draw(alnum, 24)),
        ("a generated password", draw(alnum + "!#$%&*-_", 24)),
        ("a private key", "-----BEGIN RSA PRIVATE KEY-----\n" + draw(alnum, 64)),
    ]


def _plain_secret_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for function in of_type(resources, "aws:lambda/function:Function"):
        environment = dict(function.props.get("environment") or {})
        variables = environment.get("variables")
        if not isinstance(variables, dict):
            continue
        for label, value in _credentials(function.name):
            changed = {**environment, "variables": {**variables, "UPSTREAM_SETTING": value}}
            yield Mutant(
                f"{label} in the plain environment: {function.name}",
                "lambda-no-plain-secrets",
                function.urn,
                swap(function, with_props(function, environment=changed)),
            )


PROPERTY_GENERATORS = (
    _source_condition_mutants,
    _tls_deny_mutants,
    _public_acl_mutants,
    _tls_floor_mutants,
    _origin_access_mutants,
    _headers_mutants,
    _data_trace_mutants,
    _plain_secret_mutants,
)
