"""What the deploying role needs, from the resource types a stack plans and its config choices.

    sdr deploy-role --stack dr            # the IAM policy document (JSON)
    sdr deploy-role --stack dr --format markdown

One entry per group of resource types: the actions the provider calls to create, read, update,
tag and delete them, and the roles it passes on (`iam:PassRole`, conditioned on the service the
role is passed to). Choices add what AWS documents for them: the vault keys of AWS Backup, the
grants DynamoDB and Lambda create as the caller under customer-managed keys. docs/prerequisites.md
holds the rendered table (rewritten by `python -m verify.readme deploy-role`), and
tests/repo/test_docs_prerequisites.py holds both to the plan: a planned type without a row, or a
table that is not the rendered one, fails `make test`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Permissions:
    types: tuple[str, ...]  # exact types, or `aws:<module>/*` for every type of a module
    actions: tuple[str, ...]
    passes_role_to: str | None = None  # the service principal a created resource is given a role for
    note: str = ""

    def covers(self, type_: str) -> bool:
        module = type_.split(":")[1].split("/")[0]
        return type_ in self.types or f"aws:{module}/*" in self.types


@dataclass(frozen=True)
class Choice:
    """Actions a config choice adds, and why (the AWS page that says so)."""

    attribute: str  # of StackConfig (its stack key is the same in camelCase)
    value: str  # the value that brings the actions
    actions: tuple[str, ...]
    why: str

    def holds(self, cfg) -> bool:
        return str(getattr(cfg, self.attribute)) == self.value


PERMISSIONS: tuple[Permissions, ...] = (
    Permissions(
        ("aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation"),
        (
            "acm:RequestCertificate",
            "acm:DescribeCertificate",
            "acm:DeleteCertificate",
            "acm:AddTagsToCertificate",
            "acm:ListTagsForCertificate",
        ),
    ),
    Permissions(
        ("aws:apigateway/*", "aws:apigatewayv2/*"),
        ("apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"),
        note="on `arn:aws:apigateway:<region>::/*`",
    ),
    Permissions(
        ("aws:athena/workgroup:Workgroup", "aws:athena/namedQuery:NamedQuery"),
        (
            "athena:CreateWorkGroup",
            "athena:GetWorkGroup",
            "athena:UpdateWorkGroup",
            "athena:DeleteWorkGroup",
            "athena:CreateNamedQuery",
            "athena:GetNamedQuery",
            "athena:DeleteNamedQuery",
            "athena:TagResource",
            "athena:ListTagsForResource",
        ),
    ),
    Permissions(
        (
            "aws:backup/vault:Vault",
            "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
            "aws:backup/plan:Plan",
            "aws:backup/selection:Selection",
        ),
        (
            "backup:CreateBackupVault",
            "backup:DescribeBackupVault",
            "backup:DeleteBackupVault",
            "backup:PutBackupVaultLockConfiguration",
            "backup:DeleteBackupVaultLockConfiguration",
            "backup:CreateBackupPlan",
            "backup:GetBackupPlan",
            "backup:UpdateBackupPlan",
            "backup:DeleteBackupPlan",
            "backup:CreateBackupSelection",
            "backup:GetBackupSelection",
            "backup:DeleteBackupSelection",
            "backup:TagResource",
            "backup:ListTags",
            "backup-storage:MountCapsule",
            # AWS Backup guide, "Backup vault creation and deletion": a vault under a customer key.
            "kms:CreateGrant",
            "kms:DescribeKey",
            "kms:RetireGrant",
            "kms:Decrypt",
            "kms:GenerateDataKey",
        ),
        passes_role_to="backup.amazonaws.com",
        note='the kms actions on the vault keys (AWS Backup guide, "Backup vault creation and deletion")',
    ),
    Permissions(
        (
            "aws:cloudfront/distribution:Distribution",
            "aws:cloudfront/originAccessControl:OriginAccessControl",
            "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
            "aws:cloudfront/cachePolicy:CachePolicy",
            "aws:cloudfront/publicKey:PublicKey",
            "aws:cloudfront/keyGroup:KeyGroup",
        ),
        (
            "cloudfront:*Distribution*",
            "cloudfront:*OriginAccessControl*",
            "cloudfront:*ResponseHeadersPolicy*",
            "cloudfront:*CachePolicy*",
            "cloudfront:*PublicKey*",
            "cloudfront:*KeyGroup*",
            "cloudfront:TagResource",
            "cloudfront:ListTagsForResource",
        ),
    ),
    Permissions(
        ("aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/logStream:LogStream"),
        (
            "logs:CreateLogGroup",
            "logs:DeleteLogGroup",
            "logs:PutRetentionPolicy",
            "logs:DescribeLogGroups",
            "logs:AssociateKmsKey",
            "logs:TagResource",
            "logs:ListTagsForResource",
            "logs:CreateLogStream",
            "logs:DescribeLogStreams",
            "logs:DeleteLogStream",
        ),
    ),
    Permissions(
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/dashboard:Dashboard"),
        (
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:DeleteAlarms",
            "cloudwatch:DescribeAlarms",
            "cloudwatch:PutDashboard",
            "cloudwatch:GetDashboard",
            "cloudwatch:DeleteDashboards",
            "cloudwatch:TagResource",
            "cloudwatch:ListTagsForResource",
        ),
    ),
    Permissions(
        ("aws:dynamodb/table:Table",),
        (
            "dynamodb:CreateTable",
            "dynamodb:UpdateTable",
            "dynamodb:DeleteTable",
            "dynamodb:DescribeTable",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:TagResource",
            "dynamodb:ListTagsOfResource",
            "dynamodb:CreateTableReplica",
            "dynamodb:DeleteTableReplica",
            "dynamodb:DescribeKinesisStreamingDestination",
        ),
        note="for replicas in other regions the same actions there",
    ),
    Permissions(
        ("aws:glue/catalogDatabase:CatalogDatabase", "aws:glue/catalogTable:CatalogTable"),
        (
            "glue:CreateDatabase",
            "glue:GetDatabase",
            "glue:UpdateDatabase",
            "glue:DeleteDatabase",
            "glue:CreateTable",
            "glue:GetTable",
            "glue:UpdateTable",
            "glue:DeleteTable",
            "glue:TagResource",
            "glue:GetTags",
        ),
        note="on the catalog, the `<project>_<stack>_analytics` database and its tables",
    ),
    Permissions(
        ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment"),
        (
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:GetRole",
            "iam:TagRole",
            "iam:PutRolePolicy",
            "iam:GetRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:ListRolePolicies",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
        ),
        note="on this project's roles only",
    ),
    Permissions(
        ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",),
        (
            "firehose:CreateDeliveryStream",
            "firehose:DescribeDeliveryStream",
            "firehose:UpdateDestination",
            "firehose:DeleteDeliveryStream",
            "firehose:StartDeliveryStreamEncryption",
            "firehose:TagDeliveryStream",
            "firehose:ListTagsForDeliveryStream",
        ),
        passes_role_to="firehose.amazonaws.com",
    ),
    Permissions(
        ("aws:kinesis/stream:Stream",),
        (
            "kinesis:CreateStream",
            "kinesis:DeleteStream",
            "kinesis:DescribeStream",
            "kinesis:DescribeStreamSummary",
            "kinesis:StartStreamEncryption",
            "kinesis:IncreaseStreamRetentionPeriod",
            "kinesis:DecreaseStreamRetentionPeriod",
            "kinesis:AddTagsToStream",
            "kinesis:ListTagsForStream",
        ),
    ),
    Permissions(
        ("aws:kms/key:Key",),
        (
            "kms:CreateKey",
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:PutKeyPolicy",
            "kms:EnableKeyRotation",
            "kms:GetKeyRotationStatus",
            "kms:ScheduleKeyDeletion",
            "kms:TagResource",
            "kms:ListResourceTags",
        ),
    ),
    Permissions(
        ("aws:lambda/*",),
        (
            "lambda:CreateFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "lambda:GetFunction",
            "lambda:DeleteFunction",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:PutFunctionEventInvokeConfig",
            "lambda:GetFunctionEventInvokeConfig",
            "lambda:DeleteFunctionEventInvokeConfig",
            "lambda:PublishLayerVersion",
            "lambda:GetLayerVersion",
            "lambda:DeleteLayerVersion",
            "lambda:AddPermission",
            "lambda:RemovePermission",
            "lambda:GetPolicy",
            "lambda:CreateEventSourceMapping",
            "lambda:UpdateEventSourceMapping",
            "lambda:GetEventSourceMapping",
            "lambda:DeleteEventSourceMapping",
            "lambda:TagResource",
            "lambda:ListTags",
        ),
        passes_role_to="lambda.amazonaws.com",
    ),
    Permissions(
        ("aws:route53/record:Record", "aws:route53/healthCheck:HealthCheck"),
        (
            "route53:ChangeResourceRecordSets",
            "route53:ListResourceRecordSets",
            "route53:GetChange",
            "route53:GetHostedZone",
            "route53:ListHostedZonesByName",
            "route53:CreateHealthCheck",
            "route53:UpdateHealthCheck",
            "route53:GetHealthCheck",
            "route53:DeleteHealthCheck",
            "route53:ChangeTagsForResource",
            "route53:ListTagsForResource",
        ),
    ),
    Permissions(
        ("aws:s3/*",),
        (
            "s3:CreateBucket",
            "s3:DeleteBucket",
            "s3:ListBucket",
            "s3:GetBucket*",
            "s3:PutBucket*",
            "s3:GetEncryptionConfiguration",
            "s3:PutEncryptionConfiguration",
            "s3:GetLifecycleConfiguration",
            "s3:PutLifecycleConfiguration",
            "s3:GetReplicationConfiguration",
            "s3:PutReplicationConfiguration",
            "s3:PutObject",
            "s3:GetObject",
            "s3:DeleteObject",
            "s3:GetObjectTagging",
            "s3:PutObjectTagging",
            "s3:GetObjectVersion",
            "s3:DeleteObjectVersion",
        ),
        passes_role_to="s3.amazonaws.com",
        note="the replication role is passed to S3",
    ),
    Permissions(
        ("aws:scheduler/schedule:Schedule",),
        (
            "scheduler:CreateSchedule",
            "scheduler:GetSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:TagResource",
            "scheduler:ListTagsForResource",
        ),
        passes_role_to="scheduler.amazonaws.com",
    ),
    Permissions(
        ("aws:sesv2/*",),
        (
            "ses:CreateEmailIdentity",
            "ses:GetEmailIdentity",
            "ses:DeleteEmailIdentity",
            "ses:PutEmailIdentity*",
            "ses:CreateConfigurationSet",
            "ses:GetConfigurationSet",
            "ses:DeleteConfigurationSet",
            "ses:PutConfigurationSet*",
            "ses:CreateConfigurationSetEventDestination",
            "ses:GetConfigurationSetEventDestinations",
            "ses:UpdateConfigurationSetEventDestination",
            "ses:DeleteConfigurationSetEventDestination",
            "ses:TagResource",
            "ses:ListTagsForResource",
        ),
    ),
    Permissions(
        ("aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy", "aws:sns/topicSubscription:TopicSubscription"),
        (
            "sns:CreateTopic",
            "sns:DeleteTopic",
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:Subscribe",
            "sns:Unsubscribe",
            "sns:GetSubscriptionAttributes",
            "sns:SetSubscriptionAttributes",
            "sns:TagResource",
            "sns:ListTagsForResource",
        ),
    ),
    Permissions(
        ("aws:sqs/queue:Queue", "aws:sqs/queuePolicy:QueuePolicy"),
        (
            "sqs:CreateQueue",
            "sqs:DeleteQueue",
            "sqs:GetQueueAttributes",
            "sqs:SetQueueAttributes",
            "sqs:GetQueueUrl",
            "sqs:TagQueue",
            "sqs:ListQueueTags",
        ),
    ),
    Permissions(
        ("aws:ssm/parameter:Parameter",),
        (
            "ssm:PutParameter",
            "ssm:GetParameter",
            "ssm:GetParameters",
            "ssm:DeleteParameter",
            "ssm:DescribeParameters",
            "ssm:AddTagsToResource",
            "ssm:ListTagsForResource",
        ),
        note="the signing key is a SecureString under the AWS managed `aws/ssm` key, which admits the account's principals through SSM: no KMS grant",
    ),
    Permissions(
        ("aws:wafv2/webAclAssociation:WebAclAssociation",),
        (
            "wafv2:AssociateWebACL",
            "wafv2:DisassociateWebACL",
            "wafv2:GetWebACLForResource",
            "apigateway:SetWebACL",
        ),
        note="the stage's web ACL (`apiWebAclArns`); the Service Authorization Reference lists `apigateway:SetWebACL` beside `wafv2:AssociateWebACL` for an API Gateway stage",
    ),
    # The container backend (containerBackend), when chosen.
    Permissions(
        ("aws:ec2/*", "aws:vpc/*"),
        (
            "ec2:CreateVpc",
            "ec2:DeleteVpc",
            "ec2:DescribeVpcs",
            "ec2:DescribeVpcAttribute",
            "ec2:ModifyVpcAttribute",
            "ec2:CreateSubnet",
            "ec2:DeleteSubnet",
            "ec2:DescribeSubnets",
            "ec2:ModifySubnetAttribute",
            "ec2:CreateInternetGateway",
            "ec2:AttachInternetGateway",
            "ec2:DetachInternetGateway",
            "ec2:DeleteInternetGateway",
            "ec2:DescribeInternetGateways",
            "ec2:CreateRouteTable",
            "ec2:DeleteRouteTable",
            "ec2:DescribeRouteTables",
            "ec2:CreateRoute",
            "ec2:ReplaceRoute",
            "ec2:DeleteRoute",
            "ec2:AssociateRouteTable",
            "ec2:DisassociateRouteTable",
            "ec2:CreateSecurityGroup",
            "ec2:DeleteSecurityGroup",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSecurityGroupRules",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:ModifySecurityGroupRules",
            "ec2:AllocateAddress",
            "ec2:ReleaseAddress",
            "ec2:DescribeAddresses",
            "ec2:DescribeAddressesAttribute",
            "ec2:CreateNatGateway",
            "ec2:DeleteNatGateway",
            "ec2:DescribeNatGateways",
            "ec2:CreateVpcEndpoint",
            "ec2:ModifyVpcEndpoint",
            "ec2:DeleteVpcEndpoints",
            "ec2:DescribeVpcEndpoints",
            "ec2:DescribePrefixLists",
            "ec2:DescribeAvailabilityZones",
            "ec2:DescribeNetworkInterfaces",
            "ec2:CreateTags",
            "ec2:DeleteTags",
        ),
        note="the container network; a VPC link and an interface endpoint each create network interfaces",
    ),
    Permissions(
        ("aws:lb/*",),
        (
            "elasticloadbalancing:CreateLoadBalancer",
            "elasticloadbalancing:DeleteLoadBalancer",
            "elasticloadbalancing:DescribeLoadBalancers",
            "elasticloadbalancing:DescribeLoadBalancerAttributes",
            "elasticloadbalancing:ModifyLoadBalancerAttributes",
            "elasticloadbalancing:SetSecurityGroups",
            "elasticloadbalancing:SetSubnets",
            "elasticloadbalancing:CreateTargetGroup",
            "elasticloadbalancing:DeleteTargetGroup",
            "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetGroupAttributes",
            "elasticloadbalancing:ModifyTargetGroup",
            "elasticloadbalancing:ModifyTargetGroupAttributes",
            "elasticloadbalancing:CreateListener",
            "elasticloadbalancing:DeleteListener",
            "elasticloadbalancing:DescribeListeners",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:AddTags",
            "elasticloadbalancing:RemoveTags",
            "elasticloadbalancing:DescribeTags",
        ),
    ),
    Permissions(
        ("aws:ecs/*",),
        (
            "ecs:CreateCluster",
            "ecs:DeleteCluster",
            "ecs:DescribeClusters",
            "ecs:UpdateCluster",
            "ecs:RegisterTaskDefinition",
            "ecs:DeregisterTaskDefinition",
            "ecs:DescribeTaskDefinition",
            "ecs:CreateService",
            "ecs:UpdateService",
            "ecs:DeleteService",
            "ecs:DescribeServices",
            "ecs:TagResource",
            "ecs:UntagResource",
            "ecs:ListTagsForResource",
        ),
        passes_role_to="ecs-tasks.amazonaws.com",
    ),
    Permissions(
        ("aws:appautoscaling/*",),
        (
            "application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:DeregisterScalableTarget",
            "application-autoscaling:DescribeScalableTargets",
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:DeleteScalingPolicy",
            "application-autoscaling:DescribeScalingPolicies",
            "application-autoscaling:TagResource",
            "application-autoscaling:ListTagsForResource",
            "iam:CreateServiceLinkedRole",
        ),
        note="the first scalable ECS service creates Application Auto Scaling's service-linked role; "
        "ECR replication and the VPC link create theirs likewise",
    ),
    Permissions(
        ("aws:ecr/replicationConfiguration:ReplicationConfiguration",),
        ("ecr:PutReplicationConfiguration", "ecr:DescribeRegistry"),
    ),
    # The relational store (relationalDb), when chosen.
    Permissions(
        ("aws:rds/*",),
        (
            "rds:CreateGlobalCluster",
            "rds:ModifyGlobalCluster",
            "rds:DeleteGlobalCluster",
            "rds:DescribeGlobalClusters",
            "rds:RemoveFromGlobalCluster",
            "rds:CreateDBCluster",
            "rds:ModifyDBCluster",
            "rds:DeleteDBCluster",
            "rds:DescribeDBClusters",
            "rds:EnableHttpEndpoint",
            "rds:CreateDBInstance",
            "rds:ModifyDBInstance",
            "rds:DeleteDBInstance",
            "rds:DescribeDBInstances",
            "rds:CreateDBSubnetGroup",
            "rds:ModifyDBSubnetGroup",
            "rds:DeleteDBSubnetGroup",
            "rds:DescribeDBSubnetGroups",
            "rds:AddTagsToResource",
            "rds:RemoveTagsFromResource",
            "rds:ListTagsForResource",
            "iam:CreateServiceLinkedRole",
        ),
        note="the first cluster in an account creates RDS's service-linked role",
    ),
    Permissions(
        ("aws:cognito/*",),
        (
            "cognito-idp:CreateUserPool",
            "cognito-idp:DescribeUserPool",
            "cognito-idp:UpdateUserPool",
            "cognito-idp:DeleteUserPool",
            "cognito-idp:GetUserPoolMfaConfig",
            "cognito-idp:SetUserPoolMfaConfig",
            "cognito-idp:CreateUserPoolClient",
            "cognito-idp:DescribeUserPoolClient",
            "cognito-idp:UpdateUserPoolClient",
            "cognito-idp:DeleteUserPoolClient",
            "cognito-idp:CreateGroup",
            "cognito-idp:GetGroup",
            "cognito-idp:UpdateGroup",
            "cognito-idp:DeleteGroup",
            "cognito-idp:TagResource",
            "cognito-idp:UntagResource",
            "cognito-idp:ListTagsForResource",
        ),
        note="paid content's user pool, its app client and the premium group (home region)",
    ),
    Permissions(
        ("aws:secretsmanager/*",),
        (
            "secretsmanager:CreateSecret",
            "secretsmanager:DescribeSecret",
            "secretsmanager:PutSecretValue",
            "secretsmanager:GetSecretValue",
            "secretsmanager:UpdateSecret",
            "secretsmanager:DeleteSecret",
            "secretsmanager:ReplicateSecretToRegions",
            "secretsmanager:RemoveRegionsFromReplication",
            "secretsmanager:GetResourcePolicy",
            "secretsmanager:TagResource",
            "secretsmanager:UntagResource",
        ),
        note="the master credentials, replicated to every region of the global database",
    ),
)

CHOICES: tuple[Choice, ...] = (
    Choice(
        "table_encryption",
        "customer-managed",
        ("kms:CreateGrant", "kms:DescribeKey"),
        "DynamoDB creates grants as the caller when a table or replica uses a customer managed key",
    ),
    Choice(
        "function_environment_encryption",
        "customer-managed",
        ("kms:CreateGrant", "kms:Encrypt", "kms:Decrypt"),
        "Lambda encrypts the environment as the caller and creates a grant for each execution role",
    ),
)


def config_of(run):
    from stack.config import parse_stack_config, project_values

    return parse_stack_config(project_values(run.config, run.project), stack=run.stack, allow_placeholder_domain=True)


def required(run) -> tuple[list[Permissions], list[Choice], list[str]]:
    """The rows a stack's plan needs, the choices that add to them, and planned types no row covers."""
    cfg = config_of(run)
    planned = {r.type for r in run.resources if r.is_aws}
    rows = [p for p in PERMISSIONS if any(p.covers(t) for t in planned)]
    uncovered = sorted(t for t in planned if not any(p.covers(t) for p in PERMISSIONS))
    return rows, [c for c in CHOICES if c.holds(cfg)], uncovered


def policy_document(rows: Iterable[Permissions], choices: Iterable[Choice]) -> dict:
    """The deploying role's identity policy. Resources are `*`: the names are the engine's to
    choose; scope them to this project's name prefix and tags where the service allows."""
    rows, choices = list(rows), list(choices)
    statements = [{"Sid": _sid(p), "Effect": "Allow", "Action": sorted(set(p.actions)), "Resource": "*"} for p in rows]
    for choice in choices:
        sid = _sid_of(f"{choice.attribute} {choice.value}")
        statements.append({"Sid": sid, "Effect": "Allow", "Action": sorted(choice.actions), "Resource": "*"})
    services = sorted({p.passes_role_to for p in rows if p.passes_role_to})
    if services:
        statements.append(
            {
                "Sid": "PassProjectRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "*",
                "Condition": {"StringEquals": {"iam:PassedToService": services}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _sid(p: Permissions) -> str:
    return _sid_of(p.types[0].split(":")[1].replace("/*", "").replace("/", " "))


def _sid_of(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in text.replace("=", " ").replace("-", " ").replace("_", " ").split())


def markdown_table() -> str:
    lines = [
        "| Resource types | IAM actions |",
        "|---|---|",
    ]
    for p in PERMISSIONS:
        types = ", ".join(f"`{t}`" for t in p.types)
        actions = ", ".join(f"`{a}`" for a in p.actions)
        passes = f"; `iam:PassRole` with `iam:PassedToService` `{p.passes_role_to}`" if p.passes_role_to else ""
        note = f"; {p.note}" if p.note else ""
        lines.append(f"| {types} | {actions}{passes}{note} |")
    for c in CHOICES:
        lines.append(f"| with `{_camel(c.attribute)}: {c.value}` | {', '.join(f'`{a}`' for a in c.actions)}: {c.why} |")
    return "\n".join(lines) + "\n"


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w.title() for w in rest)


def report(stack: str, fmt: str = "json") -> str:
    """The policy for `stack` (json), or the whole table (markdown)."""
    from ops.errors import Refused
    from ops.offline_run import run_stack

    rows, choices, uncovered = required(run_stack(stack))
    if uncovered:
        raise Refused(f"no deploy permissions known for {', '.join(uncovered)}: add them to ops/deploy_role.py")
    if fmt == "markdown":
        return markdown_table()
    return json.dumps(policy_document(rows, choices), indent=2) + "\n"
