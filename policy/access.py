"""One model of access: every policy-bearing input of every resource type, as statements.

A bucket can be opened by its BucketPolicy, by the deprecated inline `policy` of the Bucket, a
queue by its own `policy` or a QueuePolicy, a function by a Permission or a function URL, a role
by its trust policy, its inline policies, its RolePolicy resources or an attached managed policy.
Rules that ask "is this public?" must see all of them, so `statements_of(resource)` normalises
each into `Statement`s (principal, action, resource, condition, effect, and the Not* forms), and
the questions are asked once, here: `public`, `other_accounts`, `unconditioned_service`,
`wildcard_actions`, `wildcard_resources`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

RESOURCE, IDENTITY, TRUST = "resource", "identity", "trust"

# Where each resource type keeps a policy document, and what kind of policy it is.
POLICY_INPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws:s3/bucketPolicy:BucketPolicy": (("policy", RESOURCE),),
    "aws:s3/bucket:Bucket": (("policy", RESOURCE),),  # deprecated inline policy
    "aws:sqs/queue:Queue": (("policy", RESOURCE),),
    "aws:sqs/queuePolicy:QueuePolicy": (("policy", RESOURCE),),
    "aws:sns/topic:Topic": (("policy", RESOURCE),),
    "aws:sns/topicPolicy:TopicPolicy": (("policy", RESOURCE),),
    "aws:kms/key:Key": (("policy", RESOURCE),),
    "aws:kms/keyPolicy:KeyPolicy": (("policy", RESOURCE),),
    "aws:apigateway/restApi:RestApi": (("policy", RESOURCE),),
    "aws:apigateway/restApiPolicy:RestApiPolicy": (("policy", RESOURCE),),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": (("policy", RESOURCE),),
    "aws:kinesis/resourcePolicy:ResourcePolicy": (("policy", RESOURCE),),
    "aws:sesv2/emailIdentityPolicy:EmailIdentityPolicy": (("policy", RESOURCE),),
    "aws:ses/identityPolicy:IdentityPolicy": (("policy", RESOURCE),),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": (("policyDocument", RESOURCE),),
    "aws:secretsmanager/secretPolicy:SecretPolicy": (("policy", RESOURCE),),
    "aws:iam/role:Role": (("assumeRolePolicy", TRUST),),
    "aws:iam/rolePolicy:RolePolicy": (("policy", IDENTITY),),
    "aws:iam/policy:Policy": (("policy", IDENTITY),),
    "aws:iam/userPolicy:UserPolicy": (("policy", IDENTITY),),
    "aws:iam/groupPolicy:GroupPolicy": (("policy", IDENTITY),),
}

# Condition keys that tie a grant to a caller or a source; with a concrete value they restrict.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:PrincipalOrgID",
        "aws:PrincipalAccount",
        "aws:PrincipalArn",
        "aws:ResourceAccount",
        "kms:CallerAccount",
        "kms:ViaService",
        "lambda:FunctionUrlAuthType",
        "sts:ExternalId",
        # CloudWatch Logs' documented key-policy condition: the log group ARN, which names the account.
        "kms:EncryptionContext:aws:logs:arn",
    )
)
RESTRICTING_OPERATORS = frozenset(
    {"StringEquals", "StringLike", "ArnEquals", "ArnLike", "StringEqualsIgnoreCase", "ForAnyValue:StringEquals"}
)
SOURCE_KEYS = frozenset(
    k.lower() for k in ("aws:SourceArn", "aws:SourceAccount", "aws:SourceOwner", "kms:EncryptionContext:aws:logs:arn")
)
# Wildcard actions AWS documents as the way to name a family of one operation.
ACCEPTED_ACTION_WILDCARDS = frozenset({"kms:GenerateDataKey*", "kms:ReEncrypt*"})
# AWS managed policies that hand out administration.
ADMIN_MANAGED_POLICIES = re.compile(
    r"arn:aws[\w-]*:iam::aws:policy/(AdministratorAccess|PowerUserAccess|IAMFullAccess|.*FullAccess)$"
)
_ACCOUNT = re.compile(r"^\d{12}$")
_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):")


@dataclass(frozen=True)
class Statement:
    source: str  # "<resource name>.<input>", for messages
    kind: str  # RESOURCE | IDENTITY | TRUST
    sid: str
    effect: str
    principals: tuple[str, ...] = ()  # "*", "AWS:<arn or account>", "Service:<name>", "Federated:<name>"
    not_principal: bool = False
    actions: tuple[str, ...] = ()
    not_action: bool = False
    resources: tuple[str, ...] = ()
    not_resource: bool = False
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def allows(self) -> bool:
        return self.effect == "Allow"

    def label(self) -> str:
        return f"{self.source} statement {self.sid or '?'}"

    def condition_values(self, keys: frozenset[str]) -> list[str]:
        """Concrete values of the restricting conditions on `keys`: an account is twelve digits, an
        ARN names its account (or has none, as S3's) and a resource before any wildcard, anything
        else has no wildcard. `arn:aws:cloudfront::*:distribution/*` or a bare `*` restrict nothing."""
        values = []
        for operator, entries in self.conditions.items():
            if operator not in RESTRICTING_OPERATORS or not isinstance(entries, Mapping):
                continue  # IfExists, Null, Not* operators leave requests without the key unrestricted
            for key, value in entries.items():
                if key.lower() in keys:
                    values += [v for v in as_list(value) if isinstance(v, str) and _concrete(key.lower(), v)]
        return values

    @property
    def restricted(self) -> bool:
        return bool(self.condition_values(RESTRICTING_KEYS))

    @property
    def everyone(self) -> bool:
        return self.not_principal or "*" in self.principals or "AWS:*" in self.principals

    @property
    def public(self) -> bool:
        """Anyone (any AWS account, or anonymous) may use the grant."""
        return self.allows and self.kind != IDENTITY and self.everyone and not self.restricted

    def accounts(self) -> set[str]:
        out = set()
        for principal in self.principals:
            if principal.startswith("AWS:"):
                value = principal[4:]
                if _ACCOUNT.match(value):
                    out.add(value)
                elif match := _ARN_ACCOUNT.match(value):
                    out.add(match.group(1))
        return out

    def services(self) -> list[str]:
        return [p[len("Service:") :] for p in self.principals if p.startswith("Service:")]

    def wildcard_actions(self) -> list[str]:
        if self.not_action:
            return [f"NotAction {', '.join(self.actions)} (everything else)"]
        return [a for a in self.actions if "*" in a and a not in ACCEPTED_ACTION_WILDCARDS]

    def wildcard_resources(self) -> list[str]:
        if self.not_resource:
            return [f"NotResource {', '.join(self.resources)} (everything else)"]
        return [r for r in self.resources if not _names_a_resource(r)]


ACCOUNT_KEYS = frozenset(
    k.lower()
    for k in ("aws:SourceAccount", "aws:SourceOwner", "aws:PrincipalAccount", "aws:ResourceAccount", "kms:CallerAccount")
)
ARN_KEYS = frozenset(k.lower() for k in ("aws:SourceArn", "aws:PrincipalArn", "kms:EncryptionContext:aws:logs:arn"))


def _concrete(key: str, value: str) -> bool:
    if key in ACCOUNT_KEYS:
        return bool(_ACCOUNT.match(value))
    if key in ARN_KEYS:
        return _names_its_source(value)
    return bool(value) and "*" not in value and "?" not in value


def _names_its_source(arn: str) -> bool:
    """A source ARN restricts when it names the account (S3's ARNs have none) and one resource
    (log groups: the account)."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return False
    account = parts[4]
    if account and not _ACCOUNT.match(account):
        return False  # a wildcard account admits anyone's resource of that kind
    if parts[2] == "logs":
        # AWS's documented key policy for log encryption names the account's groups,
        # `log-group:*`: the account is what stops a deputy, so it must be there.
        return bool(account)
    return _names_a_resource(arn)


def _names_a_resource(arn: str) -> bool:
    """A wildcard is fine only after the ARN has named one resource: `bucket/*` (its objects),
    `table/t/index/*`, `log-group:x:*`; not `*`, `arn:aws:s3:::*`, `role/*` or `b*`."""
    if "*" not in arn and "?" not in arn:
        return True
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or any(c in "".join(parts[1:5]) for c in "*?"):
        return False
    service, resource = parts[2], parts[5]
    segments = re.split(r"[/:]", resource)
    # s3, sns, sqs and execute-api name the resource first (bucket, topic, queue, API id); the
    # others say its type first (table/, function:, distribution/).
    concrete = 1 if service in ("s3", "sns", "sqs", "execute-api") else 2
    first_wild = next(i for i, s in enumerate(segments) if "*" in s or "?" in s)
    return first_wild >= concrete and all(segments[:concrete])


def as_list(value: Any) -> list:
    """A policy field that may be one value or a list of them (or absent), as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _document(value: Any) -> dict | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def _principals(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if value == "*":
        return ("*",)
    if isinstance(value, Mapping):
        return tuple(f"{kind}:{p}" for kind, items in value.items() for p in as_list(items))
    return tuple(f"AWS:{p}" for p in as_list(value))


def parse_document(document: Any, *, source: str, kind: str) -> list[Statement]:
    doc = _document(document)
    if doc is None:
        return []
    out = []
    for raw in as_list(doc.get("Statement")):
        if not isinstance(raw, Mapping):
            continue
        out.append(
            Statement(
                source=source,
                kind=kind,
                sid=str(raw.get("Sid", "")),
                effect=str(raw.get("Effect", "")),
                principals=_principals(raw.get("NotPrincipal", raw.get("Principal"))),
                not_principal="NotPrincipal" in raw,
                actions=tuple(str(a) for a in as_list(raw.get("NotAction", raw.get("Action")))),
                not_action="NotAction" in raw,
                resources=tuple(str(r) for r in as_list(raw.get("NotResource", raw.get("Resource")))),
                not_resource="NotResource" in raw,
                conditions=raw.get("Condition") or {},
            )
        )
    return out


def _lambda_permission(props: Mapping[str, Any], source: str) -> list[Statement]:
    principal = str(props.get("principal") or "*")
    conditions: dict[str, dict[str, Any]] = {}
    if props.get("sourceArn"):
        conditions.setdefault("ArnLike", {})["aws:SourceArn"] = props["sourceArn"]
    if props.get("sourceAccount"):
        conditions.setdefault("StringEquals", {})["aws:SourceAccount"] = props["sourceAccount"]
    if props.get("principalOrgId"):
        conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = props["principalOrgId"]
    if props.get("functionUrlAuthType") == "AWS_IAM":
        conditions.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = "AWS_IAM"
    if principal == "*":
        principals: tuple[str, ...] = ("*",)
    elif principal.endswith(".amazonaws.com"):
        principals = (f"Service:{principal}",)
    else:
        principals = (f"AWS:{principal}",)
    return [
        Statement(
            source=source,
            kind=RESOURCE,
            sid="permission",
            effect="Allow",
            principals=principals,
            actions=(str(props.get("action") or "lambda:InvokeFunction"),),
            conditions=conditions,
        )
    ]


def _layer_permission(props: Mapping[str, Any], source: str) -> list[Statement]:
    principal = str(props.get("principal") or "*")
    conditions = {"StringEquals": {"aws:PrincipalOrgID": props["organizationId"]}} if props.get("organizationId") else {}
    return [
        Statement(
            source=source,
            kind=RESOURCE,
            sid="layer-permission",
            effect="Allow",
            principals=("*",) if principal == "*" else (f"AWS:{principal}",),
            actions=(str(props.get("action") or "lambda:GetLayerVersion"),),
            conditions=conditions,
        )
    ]


def _function_url(props: Mapping[str, Any], source: str) -> list[Statement]:
    if props.get("authorizationType") != "NONE":
        return []
    return [
        Statement(
            source=source,
            kind=RESOURCE,
            sid="function-url",
            effect="Allow",
            principals=("*",),
            actions=("lambda:InvokeFunctionUrl",),
        )
    ]


SYNTHESISED: dict[str, Callable[[Mapping[str, Any], str], list[Statement]]] = {
    "aws:lambda/permission:Permission": _lambda_permission,
    "aws:lambda/layerVersionPermission:LayerVersionPermission": _layer_permission,
    "aws:lambda/functionUrl:FunctionUrl": _function_url,
}


def statements_of(resource_type: str, name: str, props: Mapping[str, Any]) -> list[Statement]:
    """Every statement a resource contributes to access, from every input that carries one."""
    out: list[Statement] = []
    for prop, kind in POLICY_INPUTS.get(resource_type, ()):
        out += parse_document(props.get(prop), source=f"{name}.{prop}", kind=kind)
    if resource_type == "aws:iam/role:Role":
        for index, inline in enumerate(props.get("inlinePolicies") or []):
            if isinstance(inline, Mapping):
                out += parse_document(inline.get("policy"), source=f"{name}.inlinePolicies[{index}]", kind=IDENTITY)
    synthesise = SYNTHESISED.get(resource_type)
    if synthesise is not None:
        out += synthesise(props, name)
    return out


def attached_managed_policies(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """AWS or customer managed policy ARNs a resource attaches to a principal."""
    if resource_type in (
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    ):
        return [str(props.get("policyArn") or "")]
    if resource_type == "aws:iam/role:Role":
        return [str(a) for a in props.get("managedPolicyArns") or []]
    return []


PRINCIPAL_KEYS = frozenset({"Principal", "NotPrincipal", "principal"})


def own_accounts(all_props: Iterable[Mapping[str, Any]]) -> set[str]:
    """Accounts the stack's own ARNs name (the deploying account): every ARN in its inputs except
    in principal positions, where a grant to another account would otherwise count as its own."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        decoded = _document(value) if isinstance(value, str) and value[:1] == "{" else None
        if decoded is not None:
            walk(decoded)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if key not in PRINCIPAL_KEYS:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.update(re.findall(r"arn:aws[\w-]*:[\w-]+:[\w-]*:(\d{12}):", value))

    for props in all_props:
        walk(props)
    return found
