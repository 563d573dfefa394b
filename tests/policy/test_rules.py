"""Every rule: a compliant case passes, a violating case is caught; both stacks are clean."""

import json
import random
import string

import pytest

from policy.engine import evaluate as evaluate_run
from policy.rules import CACHING_DISABLED, RULES, SUPPRESSIONS, Resource, evaluate, suppression_reason
from tests.helpers import cached_stack

TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": "*",
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def res(type_, rname="r", deps=None, secret_outputs=(), **props):
    return Resource(
        type=type_,
        urn=f"urn:{type_}::{rname}",
        name=rname,
        props=props,
        property_dependencies=deps or {},
        additional_secret_outputs=tuple(secret_outputs),
    )


def bucket(name="b"):
    return res("aws:s3/bucket:Bucket", name)


def on_bucket(type_, target, **props):
    return res(type_, f"{target.name}-{type_.rsplit(':', 1)[-1]}", deps={"bucket": [target.urn]}, **props)


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource, sid="S"):
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}


B = bucket()
PAB_ON = dict.fromkeys(("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True)
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
S3_ORIGIN = {"originId": "s3-a", "domainName": "b.s3.us-east-1.amazonaws.com", "originAccessControlId": "oac"}
STAGE = res(
    "aws:apigateway/stage:Stage",
    "stage",
    stageName="v1",
    xrayTracingEnabled=True,
    accessLogSettings={"destinationArn": "arn:x", "format": "{}"},
)


def stage_settings(**settings):
    return res(
        "aws:apigateway/methodSettings:MethodSettings",
        "all",
        deps={"stageName": [STAGE.urn]},
        methodPath="*/*",
        settings=settings,
    )


QUEUE_OK = res(
    "aws:sqs/queue:Queue",
    "q",
    sqsManagedSseEnabled=True,
    visibilityTimeoutSeconds=180,
    redrivePolicy=json.dumps({"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 5}),
)
QUEUE_BAD = res(
    "aws:sqs/queue:Queue",
    "q",
    sqsManagedSseEnabled=True,
    visibilityTimeoutSeconds=30,
    redrivePolicy=json.dumps({"deadLetterTargetArn": "arn:dlq", "maxReceiveCount": 2}),
)
FN = res(
    "aws:lambda/function:Function",
    "fn",
    deps={"loggingConfig": ["urn:lg::logs"]},
    timeout=30,
    runtime="python3.13",
    tracingConfig={"mode": "Active"},
)
LOGS = Resource("aws:cloudwatch/logGroup:LogGroup", "urn:lg::logs", "logs", {"retentionInDays": 14})


def mapping(source, **props):
    return res(
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "m",
        deps={"eventSourceArn": [source.urn], "functionName": [FN.urn]},
        **props,
    )


STREAM = res("aws:kinesis/stream:Stream", "s", encryptionType="KMS", retentionPeriod=24)
STREAM_MAPPING_OK = dict(
    functionResponseTypes=["ReportBatchItemFailures"],
    bisectBatchOnFunctionError=True,
    maximumRetryAttempts=3,
    maximumRecordAgeInSeconds=3600,
    destinationConfig={"onFailure": {"destinationArn": "arn:dlq"}},
)
HEADERS_OK = res(
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    "h",
    securityHeadersConfig={
        "strictTransportSecurity": {"accessControlMaxAgeSec": 63072000},
        "contentTypeOptions": {"override": True},
    },
)
HEADERS_WEAK = res(
    "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
    "h",
    securityHeadersConfig={"strictTransportSecurity": {"accessControlMaxAgeSec": 300}},
)
KEYED_API = res(
    "aws:apigateway/restApi:RestApi",
    "api",
    body=json.dumps(
        {
            "components": {"securitySchemes": {"k": {"type": "apiKey", "name": "x-api-key", "in": "header"}}},
            "paths": {"/p": {"post": {"security": [{"k": []}], "requestBody": {}, "x-amazon-apigateway-request-validator": "v"}}},
        }
    ),
)
TABLE_OK = dict(
    pointInTimeRecovery={"enabled": True},
    serverSideEncryption={"enabled": False},
    deletionProtectionEnabled=True,
    replicas=[{"regionName": "us-west-2", "pointInTimeRecovery": True, "deletionProtectionEnabled": True}],
)

FIREHOSE = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
WORKGROUP = "aws:athena/workgroup:Workgroup"
ATHENA_OK = {
    "enforceWorkgroupConfiguration": True,
    "bytesScannedCutoffPerQuery": 1073741824,
    "resultConfiguration": {"outputLocation": "s3://r/", "encryptionConfiguration": {"encryptionOption": "SSE_S3"}},
}

LB = "aws:lb/loadBalancer:LoadBalancer"
RDS = "aws:rds/cluster:Cluster"
LISTENER = "aws:lb/listener:Listener"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SAFE_CONTAINER = {"name": "api", "image": "i", "user": "65534:65534", "readonlyRootFilesystem": True}


def premium_site(*, signed: bool, default_target: str = "s3", name: str = "site") -> Resource:
    premium = {"pathPattern": "/premium/*", "targetOriginId": "premium-failover", "viewerProtocolPolicy": "https-only"}
    if signed:
        premium["trustedKeyGroups"] = ["KG1"]
    return res(
        DISTRIBUTION,
        name,
        origins=[{"originId": "s3"}, {"originId": "premium-us-east-1"}, {"originId": "premium-us-west-2"}],
        originGroups=[
            {"originId": "premium-failover", "members": [{"originId": "premium-us-east-1"}, {"originId": "premium-us-west-2"}]}
        ],
        defaultCacheBehavior={"targetOriginId": default_target, "viewerProtocolPolicy": "redirect-to-https"},
        orderedCacheBehaviors=[premium],
    )


def premium_bucket() -> Resource:
    return res("aws:s3/bucket:Bucket", "premium", tags={"content": "premium"})


def oac_read(source_arn: str) -> dict:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::premium/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": source_arn}},
    }


CASES = {
    "s3-public-access-block": (
        [B, on_bucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", B, **PAB_ON)],
        [B, on_bucket("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", B, **{**PAB_ON, "restrictPublicBuckets": False})],
    ),
    "s3-acls-disabled": (
        [
            B,
            on_bucket(
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls", B, rule={"objectOwnership": "BucketOwnerEnforced"}
            ),
        ],
        [B, on_bucket("aws:s3/bucketOwnershipControls:BucketOwnershipControls", B, rule={"objectOwnership": "ObjectWriter"})],
    ),
    "s3-default-encryption": (
        [B, on_bucket("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", B)],
        [B],
    ),
    "s3-versioning": (
        [B, on_bucket("aws:s3/bucketVersioning:BucketVersioning", B, versioningConfiguration={"status": "Enabled"})],
        [B, on_bucket("aws:s3/bucketVersioning:BucketVersioning", B, versioningConfiguration={"status": "Suspended"})],
    ),
    "s3-tls-only": (
        [B, on_bucket("aws:s3/bucketPolicy:BucketPolicy", B, policy=doc(TLS_DENY))],
        [B, on_bucket("aws:s3/bucketPolicy:BucketPolicy", B, policy=doc(allow("s3:GetObject", "*")))],
    ),
    "no-public-access": (
        [
            res(
                "aws:s3/bucketPolicy:BucketPolicy",
                policy=doc(
                    {
                        **allow("s3:GetObject", "arn:o"),
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::111111111111:distribution/E1"}},
                    },
                    TLS_DENY,
                ),
            ),
            res(
                "aws:lambda/permission:Permission",
                principal="apigateway.amazonaws.com",
                sourceArn="arn:aws:execute-api:us-east-1:111111111111:api1/*",
            ),
        ],
        [res("aws:sqs/queue:Queue", policy=doc({**allow("sqs:SendMessage", "arn:q"), "Principal": "*"}))],
    ),
    "no-cross-account-access": (
        [
            res("aws:sns/topic:Topic", arn="arn:aws:sns:us-east-1:111111111111:t"),
            res(
                "aws:sns/topicPolicy:TopicPolicy",
                policy=doc(
                    {**allow("sns:Publish", "arn:aws:sns:us-east-1:111111111111:t"), "Principal": {"AWS": "111111111111"}}
                ),
            ),
        ],
        [
            res("aws:sns/topic:Topic", arn="arn:aws:sns:us-east-1:111111111111:t"),
            res(
                "aws:sns/topicPolicy:TopicPolicy",
                policy=doc(
                    {**allow("sns:Publish", "arn:aws:sns:us-east-1:111111111111:t"), "Principal": {"AWS": "222222222222"}}
                ),
            ),
        ],
    ),
    "service-grants-name-their-source": (
        [res("aws:lambda/permission:Permission", principal="s3.amazonaws.com", sourceAccount="111111111111")],
        [res("aws:lambda/permission:Permission", principal="s3.amazonaws.com")],
    ),
    "iam-trust-scoped": (
        [
            res(
                "aws:iam/role:Role",
                assumeRolePolicy=doc({**allow("sts:AssumeRole", "*"), "Principal": {"Service": "lambda.amazonaws.com"}}),
            )
        ],
        [res("aws:iam/role:Role", assumeRolePolicy=doc({**allow("sts:AssumeRole", "*"), "Principal": {"AWS": "*"}}))],
    ),
    "iam-no-admin-policies": (
        [
            res(
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                policyArn="arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
            )
        ],
        [res("aws:iam/role:Role", managedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"])],
    ),
    "lambda-url-iam-auth": (
        [res("aws:lambda/functionUrl:FunctionUrl", authorizationType="AWS_IAM")],
        [res("aws:lambda/functionUrl:FunctionUrl", authorizationType="NONE")],
    ),
    "apigw-admin-routes-keyed": (
        [
            KEYED_API,
            res(
                "aws:apigateway/restApi:RestApi",
                body=json.dumps({"paths": {"/s": {"post": {"x-public-write": "anyone may subscribe"}}}}),
            ),
            # The catch-all ANY answered by the gateway itself (405): no function runs.
            res(
                "aws:apigateway/restApi:RestApi",
                body=json.dumps(
                    {"paths": {"/p": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {"type": "mock"}}}}}
                ),
            ),
        ],
        [
            res("aws:apigateway/restApi:RestApi", body=json.dumps({"paths": {"/p": {"delete": {}}}})),
            # ANY sent to the function takes POST, PUT and DELETE without the key.
            res(
                "aws:apigateway/restApi:RestApi",
                body=json.dumps(
                    {
                        "paths": {
                            "/p": {"x-amazon-apigateway-any-method": {"x-amazon-apigateway-integration": {"type": "aws_proxy"}}}
                        }
                    }
                ),
            ),
        ],
    ),
    "s3-access-logging": (
        [
            B,
            bucket("logs"),
            res(
                "aws:s3/bucketLogging:BucketLogging", deps={"bucket": [B.urn], "targetBucket": ["urn:aws:s3/bucket:Bucket::logs"]}
            ),
        ],
        [B],
    ),
    "s3-replication-rtc": (
        [
            res(
                "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                rules=[{"id": "a", "destination": {"replicationTime": {"status": "Enabled"}, "metrics": {"status": "Enabled"}}}],
            )
        ],
        [
            res(
                "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
                rules=[{"id": "a", "destination": {"metrics": {"status": "Enabled"}}}],
            )
        ],
    ),
    "cloudfront-oac": (
        [res(DISTRIBUTION, origins=[S3_ORIGIN])],
        [res(DISTRIBUTION, origins=[{"originId": "w", "domainName": "b.s3-website-us-east-1.amazonaws.com"}])],
    ),
    "cloudfront-https-only": (
        [res(DISTRIBUTION, defaultCacheBehavior={"viewerProtocolPolicy": "redirect-to-https"})],
        [res(DISTRIBUTION, defaultCacheBehavior={"viewerProtocolPolicy": "allow-all"})],
    ),
    "cloudfront-tls": (
        [
            res(
                DISTRIBUTION,
                viewerCertificate={
                    "acmCertificateArn": "arn:c",
                    "minimumProtocolVersion": "TLSv1.2_2021",
                    "sslSupportMethod": "sni-only",
                },
            )
        ],
        [
            res(
                DISTRIBUTION,
                viewerCertificate={
                    "acmCertificateArn": "arn:c",
                    "minimumProtocolVersion": "TLSv1",
                    "sslSupportMethod": "sni-only",
                },
            )
        ],
    ),
    "cloudfront-security-headers": (
        [HEADERS_OK, res(DISTRIBUTION, deps={"defaultCacheBehavior": [HEADERS_OK.urn]})],
        [HEADERS_WEAK, res(DISTRIBUTION, deps={"defaultCacheBehavior": [HEADERS_WEAK.urn]})],
    ),
    "cloudfront-origin-failover": (
        [
            res(
                DISTRIBUTION,
                origins=[S3_ORIGIN, {**S3_ORIGIN, "originId": "s3-b"}],
                originGroups=[{"originId": "g", "failoverCriteria": {"statusCodes": [500, 502, 503, 504]}}],
            )
        ],
        [res(DISTRIBUTION, origins=[S3_ORIGIN, {**S3_ORIGIN, "originId": "s3-b"}])],
    ),
    "cloudfront-default-root-object": ([res(DISTRIBUTION, defaultRootObject="index.html")], [res(DISTRIBUTION)]),
    "cloudfront-cache-shared-safely": (
        [
            res(
                DISTRIBUTION,
                defaultCacheBehavior={"cachePolicyId": CACHING_DISABLED, "originRequestPolicyId": "cors"},
                orderedCacheBehaviors=[{"pathPattern": "/posts/*", "cachePolicyId": "reads"}],
            )
        ],
        [
            res(
                DISTRIBUTION,
                orderedCacheBehaviors=[{"pathPattern": "/posts/*", "cachePolicyId": "reads", "originRequestPolicyId": "all"}],
            )
        ],
    ),
    "apigw-access-logging": ([STAGE], [res("aws:apigateway/stage:Stage", stageName="v1")]),
    "apigw-execution-logging": (
        [STAGE, stage_settings(loggingLevel="ERROR", dataTraceEnabled=False)],
        [STAGE, stage_settings(loggingLevel="ERROR", dataTraceEnabled=True)],
    ),
    "apigw-xray": ([STAGE], [res("aws:apigateway/stage:Stage", stageName="v1", xrayTracingEnabled=False)]),
    "apigw-stage-throttling": (
        [STAGE, stage_settings(throttlingRateLimit=100, throttlingBurstLimit=200)],
        [STAGE, stage_settings(loggingLevel="ERROR")],
    ),
    "apigw-usage-plan": (
        [STAGE, res("aws:apigateway/usagePlan:UsagePlan", deps={"apiStages": [STAGE.urn]})],
        [STAGE],
    ),
    "apigw-request-validators": (
        [KEYED_API],
        [res("aws:apigateway/restApi:RestApi", body=json.dumps({"paths": {"/p": {"post": {"requestBody": {}}}}}))],
    ),
    "apigw-cache-encrypted": (
        [
            res(
                "aws:apigateway/methodSettings:MethodSettings",
                methodPath="p/GET",
                settings={"cachingEnabled": True, "cacheDataEncrypted": True},
            )
        ],
        [res("aws:apigateway/methodSettings:MethodSettings", methodPath="p/GET", settings={"cachingEnabled": True})],
    ),
    "apigw-domain-tls12-regional": (
        [res("aws:apigateway/domainName:DomainName", securityPolicy="TLS_1_2", endpointConfiguration={"types": "REGIONAL"})],
        [res("aws:apigateway/domainName:DomainName", securityPolicy="TLS_1_0", endpointConfiguration={"types": "EDGE"})],
    ),
    "lambda-tracing": ([FN], [res("aws:lambda/function:Function", tracingConfig={"mode": "PassThrough"})]),
    "lambda-current-runtime": ([FN], [res("aws:lambda/function:Function", runtime="python3.8")]),
    "lambda-event-failure-handling": (
        [STREAM, FN, mapping(STREAM, **STREAM_MAPPING_OK)],
        [STREAM, FN, mapping(STREAM, **{**STREAM_MAPPING_OK, "bisectBatchOnFunctionError": False})],
    ),
    "lambda-log-retention": ([FN, LOGS], [FN, Resource(LOGS.type, LOGS.urn, "logs", {})]),
    "lambda-reserved-concurrency": ([FN], [res("aws:lambda/function:Function", reservedConcurrentExecutions=0)]),
    "iam-no-wildcard-actions": (
        [res("aws:iam/rolePolicy:RolePolicy", policy=doc(allow(["s3:GetObject", "kms:GenerateDataKey*"], ["arn:b/*"])))],
        [res("aws:iam/role:Role", inlinePolicies=[{"name": "i", "policy": doc(allow(["s3:Get*"], ["arn:b/*"]))}])],
    ),
    "iam-no-wildcard-resource": (
        [
            res("aws:iam/rolePolicy:RolePolicy", policy=doc(allow(["xray:PutTraceSegments"], ["*"]))),
            res("aws:iam/rolePolicy:RolePolicy", policy=doc(allow(["s3:GetObject"], ["arn:aws:s3:::b/*"]))),
        ],
        [res("aws:iam/rolePolicy:RolePolicy", policy=doc(allow(["iam:PassRole"], ["arn:aws:iam::111111111111:role/*"])))],
    ),
    "dynamodb-pitr": (
        [res("aws:dynamodb/table:Table", **TABLE_OK)],
        [
            res(
                "aws:dynamodb/table:Table",
                **{**TABLE_OK, "replicas": [{"regionName": "us-west-2", "pointInTimeRecovery": False}]},
            )
        ],
    ),
    "dynamodb-encryption": (
        [res("aws:dynamodb/table:Table", **TABLE_OK)],
        [
            res(
                "aws:dynamodb/table:Table",
                serverSideEncryption={"enabled": True, "kmsKeyArn": "arn:k"},
                replicas=[{"regionName": "us-west-2"}],
            )
        ],
    ),
    "dynamodb-deletion-protection": (
        [res("aws:dynamodb/table:Table", **TABLE_OK)],
        [res("aws:dynamodb/table:Table", **{**TABLE_OK, "deletionProtectionEnabled": False})],
    ),
    "sns-encryption": ([res("aws:sns/topic:Topic", kmsMasterKeyId="alias/aws/sns")], [res("aws:sns/topic:Topic")]),
    "sqs-encryption": ([QUEUE_OK], [res("aws:sqs/queue:Queue")]),
    "messaging-policy-tls": (
        [res("aws:sqs/queuePolicy:QueuePolicy", policy=doc({**TLS_DENY, "Action": "sqs:*"}))],
        [res("aws:sns/topicPolicy:TopicPolicy", policy=doc(allow("sns:Publish", "arn:t")))],
    ),
    "sqs-consumer-settings": (
        [QUEUE_OK, FN, mapping(QUEUE_OK, functionResponseTypes=["ReportBatchItemFailures"])],
        [QUEUE_BAD, FN, mapping(QUEUE_BAD, functionResponseTypes=["ReportBatchItemFailures"])],
    ),
    "kinesis-encryption-retention": ([STREAM], [res("aws:kinesis/stream:Stream", encryptionType="NONE", retentionPeriod=24)]),
    "route53-routed-records-checked": (
        [
            res(
                "aws:route53/record:Record",
                name="api",
                setIdentifier="a",
                latencyRoutingPolicies=[{"region": "a"}],
                healthCheckId="hc",
            )
        ],
        [res("aws:route53/record:Record", name="api", setIdentifier="a", failoverRoutingPolicies=[{"type": "PRIMARY"}])],
    ),
    "route53-health-check-interval": (
        [res("aws:route53/healthCheck:HealthCheck", requestInterval=10)],
        [res("aws:route53/healthCheck:HealthCheck")],
    ),
    "acm-dns-validation": (
        [res("aws:acm/certificate:Certificate", validationMethod="DNS")],
        [res("aws:acm/certificate:Certificate", validationMethod="EMAIL")],
    ),
    "ses-tls-required": (
        [res("aws:sesv2/configurationSet:ConfigurationSet", deliveryOptions={"tlsPolicy": "REQUIRE"})],
        [res("aws:sesv2/configurationSet:ConfigurationSet", deliveryOptions={"tlsPolicy": "OPTIONAL"})],
    ),
    "no-plain-credential-outputs": (
        [res("aws:apigateway/usagePlanKey:UsagePlanKey", secret_outputs=("value",), keyType="API_KEY")],
        [res("aws:apigateway/usagePlanKey:UsagePlanKey", keyType="API_KEY")],
    ),
    "dynamodb-global-table-backed-up": (
        [
            res("aws:dynamodb/table:Table", "t", replicas=[{"regionName": "us-west-2"}]),
            res("aws:backup/selection:Selection", deps={"resources": ["urn:aws:dynamodb/table:Table::t"]}),
        ],
        [res("aws:dynamodb/table:Table", "t", replicas=[{"regionName": "us-west-2"}])],
    ),
    "backup-vault-cmk": (
        [res("aws:backup/vault:Vault", kmsKeyArn="arn:aws:kms:us-east-1:1:key/k")],
        [res("aws:backup/vault:Vault")],
    ),
    "backup-copy-cross-region": (
        [
            res("aws:backup/vault:Vault", "home", name="v-home", arn="arn:aws:backup:us-east-1:1:backup-vault:v-home"),
            res("aws:backup/vault:Vault", "away", name="v-away", arn="arn:aws:backup:us-west-2:1:backup-vault:v-away"),
            res(
                "aws:backup/plan:Plan",
                deps={"rules": ["urn:aws:backup/vault:Vault::home", "urn:aws:backup/vault:Vault::away"]},
                rules=[
                    {
                        "ruleName": "daily",
                        "targetVaultName": "v-home",
                        "copyActions": [{"destinationVaultArn": "arn:aws:backup:us-west-2:1:backup-vault:v-away"}],
                    }
                ],
            ),
        ],
        [
            res("aws:backup/vault:Vault", "home", name="v-home", arn="arn:aws:backup:us-east-1:1:backup-vault:v-home"),
            res("aws:backup/vault:Vault", "away", name="v-away", arn="arn:aws:backup:us-west-2:1:backup-vault:v-away"),
            res(
                "aws:backup/plan:Plan",
                deps={"rules": ["urn:aws:backup/vault:Vault::home"]},
                rules=[{"ruleName": "daily", "targetVaultName": "v-home"}],
            ),
        ],
    ),
    "kms-rotation": ([res("aws:kms/key:Key", enableKeyRotation=True)], [res("aws:kms/key:Key", enableKeyRotation=False)]),
    "firehose-encrypted": (
        [
            res(FIREHOSE, "put", serverSideEncryption={"enabled": True, "keyType": "AWS_OWNED_CMK"}),
            res(FIREHOSE, "from-stream", kinesisSourceConfiguration={"kinesisStreamArn": "arn:aws:kinesis:us-east-1:1:stream/s"}),
        ],
        [res(FIREHOSE, "put"), res(FIREHOSE, "off", serverSideEncryption={"enabled": False})],
    ),
    "athena-workgroup-encrypted": (
        [res(WORKGROUP, configuration=ATHENA_OK)],
        [
            res(WORKGROUP, "loose", configuration={**ATHENA_OK, "enforceWorkgroupConfiguration": False}),
            res(WORKGROUP, "plain", configuration={**ATHENA_OK, "resultConfiguration": {"outputLocation": "s3://r/"}}),
        ],
    ),
    "athena-scan-limit": (
        [res(WORKGROUP, configuration=ATHENA_OK)],
        [res(WORKGROUP, configuration={k: v for k, v in ATHENA_OK.items() if k != "bytesScannedCutoffPerQuery"})],
    ),
    "cloudfront-custom-certificate": (
        [
            res(DISTRIBUTION, viewerCertificate={"acmCertificateArn": "arn:c", "minimumProtocolVersion": "TLSv1.2_2021"}),
            res("aws:route53/record:Record", name="www.acme.io"),
            res(DISTRIBUTION, "no-domain-stack-would-be-fine-alone", viewerCertificate={"acmCertificateArn": "arn:c"}),
        ],
        # The default certificate without aliases, in a stack that has a domain (its DNS records).
        [res(DISTRIBUTION, viewerCertificate={"cloudfrontDefaultCertificate": True}), res("aws:route53/record:Record")],
    ),
    "s3-no-public-acls": (
        [B, res("aws:s3/bucketAclV2:BucketAclV2", acl="private"), res("aws:s3/bucketObject:BucketObject", acl="private")],
        [
            res("aws:s3/bucketV2:BucketV2", "media", acl="public-read"),
            res(
                "aws:s3/bucketAcl:BucketAcl",
                "grants",
                accessControlPolicy={
                    "grants": [
                        {
                            "permission": "READ",
                            "grantee": {"type": "Group", "uri": "http://acs.amazonaws.com/groups/global/AllUsers"},
                        }
                    ]
                },
            ),
        ],
    ),
    "lambda-no-plain-secrets": (
        [
            res(
                "aws:lambda/function:Function",
                environment={"variables": {"TABLE_NAME": "app-table-7d3f2a1", "SIGNING_KEY_PARAMETER": "/sdr/dr/signing-key"}},
            )
        ],
        [
            res(
                "aws:lambda/function:Function",
                "literal",
                environment={"variables": {"CONFIG": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
            ),
            res("random:index/randomPassword:RandomPassword", "pw"),
            res(
                "aws:lambda/function:Function",
                "generated",
                deps={"environment": ["urn:random:index/randomPassword:RandomPassword::pw"]},
                environment={"variables": {"K": "[secret]"}},
            ),
        ],
    ),
    "cloudfront-origin-https": (
        [
            res(
                DISTRIBUTION,
                origins=[
                    {
                        "originId": "c",
                        "customOriginConfig": {"originProtocolPolicy": "https-only", "originSslProtocols": ["TLSv1.2"]},
                    }
                ],
            )
        ],
        [
            res(
                DISTRIBUTION,
                origins=[
                    {
                        "originId": "c",
                        "customOriginConfig": {"originProtocolPolicy": "http-only", "originSslProtocols": ["TLSv1"]},
                    }
                ],
            )
        ],
    ),
    "cloudfront-waf": ([res(DISTRIBUTION, webAclId="arn:waf")], [res(DISTRIBUTION)]),
    "cloudfront-access-logs": ([res(DISTRIBUTION, loggingConfig={"bucket": "logs.s3.amazonaws.com"})], [res(DISTRIBUTION)]),
    "apigw-waf": (
        [STAGE, res("aws:wafv2/webAclAssociation:WebAclAssociation", deps={"resourceArn": [STAGE.urn]})],
        [STAGE],
    ),
    "log-group-retention": ([LOGS], [Resource(LOGS.type, LOGS.urn, "logs", {})]),
    "log-group-cmk": ([res("aws:cloudwatch/logGroup:LogGroup", kmsKeyId="arn:k")], [LOGS]),
    "lambda-environment-cmk": (
        [res("aws:lambda/function:Function", environment={"variables": {"A": "1"}}, kmsKeyArn="arn:k")],
        [res("aws:lambda/function:Function", environment={"variables": {"A": "1"}})],
    ),
    "lambda-concurrency-limit": ([res("aws:lambda/function:Function", reservedConcurrentExecutions=5)], [FN]),
    "acm-no-wildcard": (
        [res("aws:acm/certificate:Certificate", domainName="api.example.com")],
        [res("aws:acm/certificate:Certificate", domainName="*.example.com")],
    ),
    "lb-internal-only": (
        [res(LB, internal=True, dropInvalidHeaderFields=True), res(LB, "nlb", internal=True, loadBalancerType="network")],
        [
            res(LB, internal=False, dropInvalidHeaderFields=True),
            res(LB, "headers", internal=True),
            res("aws:alb/loadBalancer:LoadBalancer", "alias", dropInvalidHeaderFields=True),
        ],
    ),
    "lb-listener-tls": (
        [res(LISTENER, protocol="HTTPS", sslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06")],
        [
            res(LISTENER, protocol="HTTP"),
            res(LISTENER, "old", protocol="HTTPS", sslPolicy="ELBSecurityPolicy-2016-08"),
            res(LISTENER, "default", protocol="HTTPS"),
        ],
    ),
    "ecs-image-by-digest": (
        [res(TASK, containerDefinitions=json.dumps([{"name": "api", "image": f"r/api@sha256:{'0' * 64}"}]))],
        [res(TASK, containerDefinitions=json.dumps([{"name": "api", "image": "r/api:latest"}]))],
    ),
    "ecs-task-hardened": (
        [res(TASK, containerDefinitions=json.dumps([SAFE_CONTAINER]), executionRoleArn="arn:x", taskRoleArn="arn:t")],
        [
            res(TASK, "root", containerDefinitions=json.dumps([{**SAFE_CONTAINER, "user": "0"}])),
            res(TASK, "priv", containerDefinitions=json.dumps([{**SAFE_CONTAINER, "privileged": True}])),
            res(TASK, "rw", containerDefinitions=json.dumps([{**SAFE_CONTAINER, "readonlyRootFilesystem": False}])),
            res(TASK, "same", containerDefinitions=json.dumps([SAFE_CONTAINER]), executionRoleArn="arn:x", taskRoleArn="arn:x"),
        ],
    ),
    "ecs-circuit-breaker": (
        [res(SERVICE, deploymentCircuitBreaker={"enable": True, "rollback": True})],
        [res(SERVICE), res(SERVICE, "no-rollback", deploymentCircuitBreaker={"enable": True, "rollback": False})],
    ),
    "no-open-ingress": (
        [
            res(INGRESS, referencedSecurityGroupId="sg-1", fromPort=443, toPort=443),
            res("aws:ec2/securityGroupRule:SecurityGroupRule", type="egress", cidrBlocks=["0.0.0.0/0"]),
        ],
        [
            res(INGRESS, cidrIpv4="0.0.0.0/0", fromPort=443, toPort=443),
            res(INGRESS, "v6", cidrIpv6="::/0", fromPort=443, toPort=443),
            res("aws:ec2/securityGroup:SecurityGroup", ingress=[{"cidrBlocks": ["0.0.0.0/0"], "fromPort": 22, "toPort": 22}]),
        ],
    ),
    "rds-encrypted": (
        [res(RDS, storageEncrypted=True), res("aws:rds/globalCluster:GlobalCluster", storageEncrypted=True)],
        [res(RDS), res("aws:rds/globalCluster:GlobalCluster", "g", storageEncrypted=False)],
    ),
    "rds-private": (
        [res("aws:rds/clusterInstance:ClusterInstance", publiclyAccessible=False)],
        [
            res("aws:rds/clusterInstance:ClusterInstance", publiclyAccessible=True),
            res("aws:rds/instance:Instance", "i", publiclyAccessible=True),
        ],
    ),
    "rds-recoverable": (
        [res(RDS, backupRetentionPeriod=7, skipFinalSnapshot=False, copyTagsToSnapshot=True)],
        [
            res(RDS, backupRetentionPeriod=1, skipFinalSnapshot=False, copyTagsToSnapshot=True),
            res(RDS, "skip", backupRetentionPeriod=7, skipFinalSnapshot=True, copyTagsToSnapshot=True),
            res(RDS, "untagged", backupRetentionPeriod=7, skipFinalSnapshot=False),
        ],
    ),
    "subnet-no-auto-public-ip": (
        [res("aws:ec2/subnet:Subnet", mapPublicIpOnLaunch=False)],
        [res("aws:ec2/subnet:Subnet", mapPublicIpOnLaunch=True)],
    ),
    "premium-signed-only": (
        [
            premium_site(signed=True),
            premium_bucket(),
            res(
                "aws:s3/bucketPolicy:BucketPolicy",
                "premium-policy",
                deps={"bucket": ["urn:aws:s3/bucket:Bucket::premium"]},
                policy=json.dumps({"Statement": [oac_read("arn:aws:cloudfront::1:distribution/SITE")]}),
            ),
        ],
        [
            premium_site(signed=False),  # the premium path without a key group
            premium_site(signed=True, default_target="premium-failover", name="leaky"),  # its origins unsigned
            premium_bucket(),
            res(
                "aws:s3/bucketPolicy:BucketPolicy",
                "premium-policy",
                deps={"bucket": ["urn:aws:s3/bucket:Bucket::premium"]},
                policy=json.dumps(
                    {
                        "Statement": [
                            oac_read("arn:aws:cloudfront::1:distribution/SITE"),
                            oac_read("arn:aws:cloudfront::1:distribution/OTHER"),
                        ]
                    }
                ),
            ),
        ],
    ),
    "premium-key-group-not-empty": (
        [res("aws:cloudfront/keyGroup:KeyGroup", items=["K1"])],
        [res("aws:cloudfront/keyGroup:KeyGroup", items=[])],
    ),
    "premium-cookie-lifetime": (
        [
            res("aws:lambda/function:Function", environment={"variables": {"PREMIUM_COOKIE_SECONDS": "300"}}),
            res("aws:lambda/function:Function", "plain"),
        ],
        [
            res("aws:lambda/function:Function", environment={"variables": {"PREMIUM_COOKIE_SECONDS": "86400"}}),
            res("aws:lambda/function:Function", "garbage", environment={"variables": {"PREMIUM_COOKIE_SECONDS": "soon"}}),
        ],
    ),
}


def test_every_rule_has_cases_and_cites_ids():
    assert len(RULES) >= 30
    assert {r.name for r in RULES} == set(CASES)
    assert len({r.name for r in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.ids and all(rule.ids), rule.name
        assert (rule.check is None) != (rule.check_stack is None), rule.name


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_compliant_case_passes_and_violating_case_is_caught(rule):
    good, bad = CASES[rule.name]
    assert rule.evaluate(good) == []
    findings = rule.evaluate(bad)
    assert findings, f"{rule.name} missed its violation"
    assert all(urn.startswith("urn:") and message for urn, message in findings)


def test_suppressions_carry_a_written_reason_and_apply_only_to_their_resource():
    for suppression in SUPPRESSIONS:
        assert suppression.rule in CASES and suppression.pattern and len(suppression.reason) > 40
    assert suppression_reason("s3-acls-disabled", bucket("site-logs")) is not None
    assert suppression_reason("s3-acls-disabled", bucket("site-us-east-1")) is None
    # The default certificate is no longer a suppression: the rule itself asks whether the stack has a domain.
    assert suppression_reason("cloudfront-custom-certificate", res(DISTRIBUTION, "site-cdn")) is None
    logs = bucket("site-logs")
    assert evaluate([logs], [r for r in RULES if r.name == "s3-acls-disabled"]) == []
    assert evaluate([bucket("media")], [r for r in RULES if r.name == "s3-acls-disabled"]) != []


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_both_stacks_have_zero_violations(stack):
    report = evaluate_run(cached_stack(stack))
    assert len(report["rules"]) == len(RULES) + 1
    assert report["violations"] == []


def test_the_checks_see_the_real_stack_not_an_empty_one():
    """The stack rules follow property dependencies: remove them and the dr stack fails."""
    from policy.engine import resources_of

    resources = resources_of(cached_stack("dr"))
    stripped = [Resource(r.type, r.urn, r.name, r.props, {}) for r in resources]
    names = {f["rule"] for f in evaluate(stripped)}
    assert {
        "s3-public-access-block",
        "s3-tls-only",
        "lambda-log-retention",
        "apigw-execution-logging",
        "cloudfront-security-headers",
    } <= names


def test_plain_secret_looking_output_is_a_violation():
    run = cached_stack("dr")
    leaky = type(run)(**{**run.__dict__, "secret_outputs": set()})
    [finding] = evaluate_run(leaky)["violations"]
    assert finding["rule"] == "no-plain-secret-outputs" and "adminApiKey" in finding["message"]


def test_a_credential_exported_under_an_innocent_name_is_found_by_its_value():
    run = cached_stack("dr")
    rng = random.Random(7)
    key = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(40))
    outputs = {**run.outputs, "writeAccess": key, "regionsCopy": run.outputs["regions"]}
    leaky = type(run)(**{**run.__dict__, "outputs": outputs})
    [finding] = evaluate_run(leaky)["violations"]
    assert "writeAccess" in finding["message"] and "looks like a credential" in finding["message"]
    # Marked secret, the same value is fine.
    sealed = type(run)(**{**run.__dict__, "outputs": outputs, "secret_outputs": {*run.secret_outputs, "writeAccess"}})
    assert evaluate_run(sealed)["violations"] == []


def test_pack_wrappers_report_like_pulumi_policy():
    from types import SimpleNamespace

    from policy.pack import policies

    by_name = {p.name: p for p in policies()}
    assert set(by_name) == set(CASES)
    reported = []
    args = SimpleNamespace(resource_type="aws:kms/key:Key", urn="urn:k", name="k", props={"enableKeyRotation": False})
    by_name["kms-rotation"].validate(args, lambda message, urn=None: reported.append(message))
    assert reported == ["key rotation is off"]
    bucket_ = SimpleNamespace(resource_type="aws:s3/bucket:Bucket", urn="urn:b", name="b", props={}, property_dependencies={})
    reported.clear()
    by_name["s3-versioning"].validate(
        SimpleNamespace(resources=[bucket_]), lambda message, urn=None: reported.append((urn, message))
    )
    assert reported == [("urn:b", "bucket b has no versioning enabled")]


def test_the_logs_key_statement_names_its_source_by_encryption_context_and_without_it_is_a_deputy():
    from components._blocks.kms import _key_policy

    rule = next(r for r in RULES if r.name == "service-grants-name-their-source")
    policy = json.loads(_key_policy("123456789012", ["logs.eu-west-1.amazonaws.com"]))
    [logs] = [s for s in policy["Statement"] if s["Sid"] == "CloudWatchLogs"]
    assert logs["Condition"] == {
        "ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:eu-west-1:123456789012:log-group:*"}
    }
    assert evaluate([res("aws:kms/key:Key", "k", policy=json.dumps(policy))], [rule]) == []
    logs.pop("Condition")
    [finding] = evaluate([res("aws:kms/key:Key", "k", policy=json.dumps(policy))], [rule])
    assert "logs.eu-west-1.amazonaws.com act for any source" in finding["message"]
