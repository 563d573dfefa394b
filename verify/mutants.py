"""Insecure mutants of a real stack, each expected to be caught by a named rule of the pack.

    python -m verify.mutants [dev|dr ...]      # kill ratio per rule; exit 1 below 100 %

Every mutant starts from the resources the offline run of a stack recorded and changes one thing
the way a careless edit would: a policy that opens a bucket, a queue, a key or a function to
anyone (through each input that can carry one), a grant to another account, a trust policy anyone
may assume, an administrator policy attached, a wildcard action or resource, a condition that does
not restrict, a service grant without its source, a write route without its key, a weaker TLS
setting, a protection switched off. A mutant is killed when its rule reports the resource it
changed (or, for an added resource, any finding) that the unmutated stack did not have.
"""

from __future__ import annotations

import copy
import json
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from policy.rules import CACHING_DISABLED, RULES, Resource, evaluate
from verify.mutation import (
    FOREIGN_ACCOUNT,
    Mutant,
    add,
    adding,
    arn_or,
    document,
    foreign,
    new_resource,
    of_type,
    public,
    statements_of,
    swap,
    with_props,
)
from verify.property_mutants import PROPERTY_GENERATORS


def _access_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for bucket in of_type(resources, "aws:s3/bucket:Bucket"):
        arn = f"arn:aws:s3:::{bucket.name}/*"
        yield Mutant(
            f"inline bucket policy public: {bucket.name}",
            "no-public-access",
            bucket.urn,
            swap(bucket, with_props(bucket, policy=document(public("s3:GetObject", arn)))),
        )
    for policy in of_type(resources, "aws:s3/bucketPolicy:BucketPolicy"):
        yield Mutant(
            f"bucket policy public: {policy.name}",
            "no-public-access",
            policy.urn,
            adding(policy, public("s3:GetObject")),
        )
        yield Mutant(
            f"bucket policy public behind a wildcard condition: {policy.name}",
            "no-public-access",
            policy.urn,
            adding(
                policy,
                public("s3:GetObject", Condition={"StringLike": {"aws:SourceArn": "*"}}),
            ),
        )
        yield Mutant(
            f"bucket policy to another account: {policy.name}",
            "no-cross-account-access",
            policy.urn,
            adding(policy, foreign("s3:PutBucketPolicy")),
        )
        statements = statements_of(policy.props.get("policy"))
        for index, statement in enumerate(statements):
            principal = statement.get("Principal")
            if statement.get("Effect") == "Allow" and isinstance(principal, dict) and "Service" in principal:
                unconditioned = [
                    {k: v for k, v in s.items() if k != "Condition"} if i == index else s for i, s in enumerate(statements)
                ]
                yield Mutant(
                    f"service grant without its source: {policy.name} {statement.get('Sid', index)}",
                    "service-grants-name-their-source",
                    policy.urn,
                    swap(policy, with_props(policy, policy=document(*unconditioned))),
                )
    for queue in of_type(resources, "aws:sqs/queue:Queue"):
        yield Mutant(
            f"queue's own policy public: {queue.name}",
            "no-public-access",
            queue.urn,
            swap(queue, with_props(queue, policy=document({**public("sqs:SendMessage"), "Principal": {"AWS": "*"}}))),
        )
    for policy in of_type(resources, "aws:sqs/queuePolicy:QueuePolicy"):
        yield Mutant(
            f"queue policy with NotPrincipal: {policy.name}",
            "no-public-access",
            policy.urn,
            adding(
                policy,
                {
                    "Sid": "Mutant",
                    "Effect": "Allow",
                    "NotPrincipal": {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"},
                    "Action": "sqs:SendMessage",
                    "Resource": "*",
                },
            ),
        )
    for topic in of_type(resources, "aws:sns/topic:Topic"):
        yield Mutant(
            f"topic's own policy public: {topic.name}",
            "no-public-access",
            topic.urn,
            swap(topic, with_props(topic, policy=document(public("sns:Subscribe")))),
        )
    for policy in of_type(resources, "aws:sns/topicPolicy:TopicPolicy"):
        yield Mutant(
            f"topic policy public with an IfExists condition: {policy.name}",
            "no-public-access",
            policy.urn,
            adding(
                policy,
                public("sns:Publish", Condition={"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}),
            ),
        )
        yield Mutant(
            f"topic policy to another account: {policy.name}",
            "no-cross-account-access",
            policy.urn,
            adding(policy, foreign("sns:Publish")),
        )
    for key in of_type(resources, "aws:kms/key:Key"):
        yield Mutant(
            f"key policy public: {key.name}",
            "no-public-access",
            key.urn,
            adding(key, public("kms:Decrypt")),
        )
        yield Mutant(
            f"key policy to another account: {key.name}",
            "no-cross-account-access",
            key.urn,
            adding(key, foreign("kms:Decrypt")),
        )
    for api in of_type(resources, "aws:apigateway/restApi:RestApi"):
        yield Mutant(
            f"REST API policy to another account: {api.name}",
            "no-cross-account-access",
            api.urn,
            swap(api, with_props(api, policy=document(foreign("execute-api:Invoke")))),
        )
    for table in of_type(resources, "aws:dynamodb/table:Table"):
        yield Mutant(
            f"table resource policy public: {table.name}",
            "no-public-access",
            "",
            add(
                new_resource(
                    "aws:dynamodb/resourcePolicy:ResourcePolicy",
                    f"{table.name}-mutant",
                    policy=document(public("dynamodb:GetItem", arn_or(table, "arn:t"))),
                )
            ),
        )
    for identity in of_type(resources, "aws:sesv2/emailIdentity:EmailIdentity"):
        yield Mutant(
            f"email identity policy public: {identity.name}",
            "no-public-access",
            "",
            add(
                new_resource(
                    "aws:sesv2/emailIdentityPolicy:EmailIdentityPolicy",
                    f"{identity.name}-mutant",
                    policy=document(public("ses:SendEmail")),
                )
            ),
        )
    for layer in of_type(resources, "aws:lambda/layerVersion:LayerVersion"):
        yield Mutant(
            f"layer shared with everyone: {layer.name}",
            "no-public-access",
            "",
            add(
                new_resource(
                    "aws:lambda/layerVersionPermission:LayerVersionPermission",
                    f"{layer.name}-mutant",
                    principal="*",
                    action="lambda:GetLayerVersion",
                    statementId="all",
                )
            ),
        )
    for permission in of_type(resources, "aws:lambda/permission:Permission"):
        yield Mutant(
            f"invoke permission without its source: {permission.name}",
            "service-grants-name-their-source",
            permission.urn,
            swap(permission, with_props(permission, sourceArn=None, sourceAccount=None)),
        )
        yield Mutant(
            f"invoke permission for anyone: {permission.name}",
            "no-public-access",
            permission.urn,
            swap(permission, with_props(permission, principal="*", sourceArn=None)),
        )
    for function in of_type(resources, "aws:lambda/function:Function")[:4]:
        yield Mutant(
            f"function URL without auth: {function.name}",
            "lambda-url-iam-auth",
            "",
            add(new_resource("aws:lambda/functionUrl:FunctionUrl", f"{function.name}-mutant", authorizationType="NONE")),
        )


def _iam_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    roles = of_type(resources, "aws:iam/role:Role")
    for role in roles:
        yield Mutant(
            f"trust anyone: {role.name}",
            "iam-trust-scoped",
            role.urn,
            swap(role, with_props(role, assumeRolePolicy=document({**public("sts:AssumeRole"), "Principal": {"AWS": "*"}}))),
        )
        yield Mutant(
            f"trust another account without a condition: {role.name}",
            "iam-trust-scoped",
            role.urn,
            adding(role, foreign("sts:AssumeRole"), "assumeRolePolicy"),
        )
    for role in roles[:6]:
        yield Mutant(
            f"AdministratorAccess attached: {role.name}",
            "iam-no-admin-policies",
            role.urn,
            swap(role, with_props(role, managedPolicyArns=["arn:aws:iam::aws:policy/AdministratorAccess"])),
        )
        yield Mutant(
            f"inline '*' action: {role.name}",
            "iam-no-wildcard-actions",
            role.urn,
            swap(
                role,
                with_props(
                    role, inlinePolicies=[{"name": "m", "policy": document({"Effect": "Allow", "Action": "*", "Resource": "*"})}]
                ),
            ),
        )
    for attachment in of_type(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        yield Mutant(
            f"IAMFullAccess attached: {attachment.name}",
            "iam-no-admin-policies",
            attachment.urn,
            swap(attachment, with_props(attachment, policyArn="arn:aws:iam::aws:policy/IAMFullAccess")),
        )
    for policy in of_type(resources, "aws:iam/rolePolicy:RolePolicy"):
        for name, rule, statement in (
            (
                "prefix-wildcard action",
                "iam-no-wildcard-actions",
                {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::b/*"},
            ),
            ("NotAction", "iam-no-wildcard-actions", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::b/*"}),
            (
                "PassRole on role/*",
                "iam-no-wildcard-resource",
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/*"},
            ),
            (
                "every bucket",
                "iam-no-wildcard-resource",
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"},
            ),
        ):
            yield Mutant(
                f"{name}: {policy.name}",
                rule,
                policy.urn,
                adding(policy, statement),
            )


def _api_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for api in of_type(resources, "aws:apigateway/restApi:RestApi"):
        body = json.loads(api.props.get("body") or "{}")
        for path, methods in (body.get("paths") or {}).items():
            for method, operation in methods.items():
                if isinstance(operation, dict) and operation.get("security"):
                    open_body = copy.deepcopy(body)
                    del open_body["paths"][path][method]["security"]
                    yield Mutant(
                        f"{method.upper()} {path} without its key: {api.name}",
                        "apigw-admin-routes-keyed",
                        api.urn,
                        swap(api, with_props(api, body=json.dumps(open_body))),
                    )
        yield from _catch_all_to_function(api, body)

    for domain in of_type(resources, "aws:apigateway/domainName:DomainName"):
        yield Mutant(
            f"domain allows TLS 1.0: {domain.name}",
            "apigw-domain-tls12-regional",
            domain.urn,
            swap(domain, with_props(domain, securityPolicy="TLS_1_0")),
        )
    for stage in of_type(resources, "aws:apigateway/stage:Stage"):
        yield Mutant(
            f"stage without X-Ray: {stage.name}",
            "apigw-xray",
            stage.urn,
            swap(stage, with_props(stage, xrayTracingEnabled=False)),
        )
        yield Mutant(
            f"stage without access logs: {stage.name}",
            "apigw-access-logging",
            stage.urn,
            swap(stage, with_props(stage, accessLogSettings=None)),
        )


def _catch_all_to_function(api: Resource, body: dict) -> Iterator[Mutant]:
    """The catch-all ANY of one path sent to the function instead of the gateway's 405: POST,
    PUT and DELETE then reach the function without the API key."""
    for path, methods in (body.get("paths") or {}).items():
        catch_all = methods.get("x-amazon-apigateway-any-method")
        proxied = next(
            (
                op
                for method, op in methods.items()
                if method in ("get", "post", "put", "patch", "delete")
                and op.get("x-amazon-apigateway-integration", {}).get("type") == "aws_proxy"
            ),
            None,
        )
        if catch_all and proxied:
            open_body = copy.deepcopy(body)
            open_body["paths"][path]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"] = dict(
                proxied["x-amazon-apigateway-integration"]
            )
            yield Mutant(
                f"ANY {path} sent to the function: {api.name}",
                "apigw-admin-routes-keyed",
                api.urn,
                swap(api, with_props(api, body=json.dumps(open_body))),
            )
            return


ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"  # AWS managed origin request policy "AllViewer"


def _cloudfront_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for distribution in of_type(resources, "aws:cloudfront/distribution:Distribution"):
        viewer = dict(distribution.props.get("viewerCertificate") or {})
        yield Mutant(
            f"IAM certificate with TLSv1: {distribution.name}",
            "cloudfront-tls",
            distribution.urn,
            swap(
                distribution,
                with_props(
                    distribution,
                    viewerCertificate={
                        "iamCertificateId": "ASCAEXAMPLE",
                        "minimumProtocolVersion": "TLSv1",
                        "sslSupportMethod": "sni-only",
                    },
                ),
            ),
        )
        if distribution.props.get("aliases"):
            yield Mutant(
                f"default certificate on a named site: {distribution.name}",
                "cloudfront-custom-certificate",
                distribution.urn,
                swap(distribution, with_props(distribution, viewerCertificate={"cloudfrontDefaultCertificate": True})),
            )
        origins = list(distribution.props.get("origins") or [])
        yield Mutant(
            f"custom origin over HTTP: {distribution.name}",
            "cloudfront-origin-https",
            distribution.urn,
            swap(
                distribution,
                with_props(
                    distribution,
                    origins=[
                        *origins,
                        {
                            "originId": "mutant",
                            "domainName": "origin.example.net",
                            "customOriginConfig": {
                                "originProtocolPolicy": "http-only",
                                "originSslProtocols": ["TLSv1.2"],
                                "httpPort": 80,
                                "httpsPort": 443,
                            },
                        },
                    ],
                ),
            ),
        )
        # Each bucket origin read without its origin access control (the site's buckets, the
        # API edge's stored answers): the bucket would have to be public to serve it.
        for index, origin in enumerate(origins):
            if origin.get("originAccessControlId"):
                unsigned = [
                    {k: v for k, v in o.items() if k != "originAccessControlId"} if i == index else o
                    for i, o in enumerate(origins)
                ]
                yield Mutant(
                    f"S3 origin {origin.get('originId')} without origin access control: {distribution.name}",
                    "cloudfront-oac",
                    distribution.urn,
                    swap(distribution, with_props(distribution, origins=unsigned)),
                )
        behavior = dict(distribution.props.get("defaultCacheBehavior") or {})
        yield Mutant(
            f"viewers over HTTP: {distribution.name}",
            "cloudfront-https-only",
            distribution.urn,
            swap(distribution, with_props(distribution, defaultCacheBehavior={**behavior, "viewerProtocolPolicy": "allow-all"})),
        )
        cached = [b for b in distribution.props.get("orderedCacheBehaviors") or [] if b.get("cachePolicyId") != CACHING_DISABLED]
        if cached:
            forwarding = [
                {**b, "originRequestPolicyId": ALL_VIEWER} if b is cached[0] else b
                for b in distribution.props["orderedCacheBehaviors"]
            ]
            yield Mutant(
                f"a cached behaviour forwards every viewer header: {distribution.name}",
                "cloudfront-cache-shared-safely",
                distribution.urn,
                swap(distribution, with_props(distribution, orderedCacheBehaviors=forwarding)),
            )
        yield Mutant(
            f"no default root object: {distribution.name}",
            "cloudfront-default-root-object",
            distribution.urn,
            swap(distribution, with_props(distribution, defaultRootObject=None)),
        )
        del viewer


def _protection_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    for block in of_type(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        yield Mutant(
            f"public policies allowed: {block.name}",
            "s3-public-access-block",
            "",
            swap(block, with_props(block, restrictPublicBuckets=False)),
        )
    for table in of_type(resources, "aws:dynamodb/table:Table"):
        yield Mutant(
            f"PITR off: {table.name}",
            "dynamodb-pitr",
            table.urn,
            swap(table, with_props(table, pointInTimeRecovery={"enabled": False})),
        )
    for topic in of_type(resources, "aws:sns/topic:Topic"):
        yield Mutant(
            f"topic unencrypted: {topic.name}", "sns-encryption", topic.urn, swap(topic, with_props(topic, kmsMasterKeyId=None))
        )
    for queue in of_type(resources, "aws:sqs/queue:Queue"):
        yield Mutant(
            f"queue unencrypted: {queue.name}",
            "sqs-encryption",
            queue.urn,
            swap(queue, with_props(queue, sqsManagedSseEnabled=False, kmsMasterKeyId=None)),
        )
    for key in of_type(resources, "aws:kms/key:Key"):
        yield Mutant(
            f"key rotation off: {key.name}", "kms-rotation", key.urn, swap(key, with_props(key, enableKeyRotation=False))
        )
    for group in of_type(resources, "aws:cloudwatch/logGroup:LogGroup"):
        yield Mutant(
            f"logs kept forever: {group.name}",
            "log-group-retention",
            group.urn,
            swap(group, with_props(group, retentionInDays=None)),
        )
    for function in of_type(resources, "aws:lambda/function:Function"):
        yield Mutant(
            f"tracing off: {function.name}",
            "lambda-tracing",
            function.urn,
            swap(function, with_props(function, tracingConfig={"mode": "PassThrough"})),
        )
        yield Mutant(
            f"old runtime: {function.name}",
            "lambda-current-runtime",
            function.urn,
            swap(function, with_props(function, runtime="python3.8")),
        )
    for stream in of_type(resources, "aws:kinesis/stream:Stream"):
        yield Mutant(
            f"stream unencrypted: {stream.name}",
            "kinesis-encryption-retention",
            stream.urn,
            swap(stream, with_props(stream, encryptionType="NONE")),
        )
    for certificate in of_type(resources, "aws:acm/certificate:Certificate"):
        yield Mutant(
            f"wildcard certificate: {certificate.name}",
            "acm-no-wildcard",
            certificate.urn,
            swap(certificate, with_props(certificate, domainName="*." + str(certificate.props.get("domainName")))),
        )
    for selection in of_type(resources, "aws:backup/selection:Selection"):
        if any(t.props.get("replicas") for t in of_type(resources, "aws:dynamodb/table:Table")):
            yield Mutant(
                f"backup selection removed: {selection.name}",
                "dynamodb-global-table-backed-up",
                "",
                lambda rs, urn=selection.urn: [r for r in rs if r.urn != urn],
            )
    for vault in of_type(resources, "aws:backup/vault:Vault"):
        yield Mutant(
            f"vault under the AWS managed key: {vault.name}",
            "backup-vault-cmk",
            vault.urn,
            swap(vault, with_props(vault, kmsKeyArn=None)),
        )
    if len(of_type(resources, "aws:backup/vault:Vault")) > 1:
        for plan in of_type(resources, "aws:backup/plan:Plan"):
            rules = [{k: v for k, v in rule.items() if k != "copyActions"} for rule in plan.props.get("rules") or []]
            yield Mutant(
                f"backups kept in one region: {plan.name}",
                "backup-copy-cross-region",
                plan.urn,
                swap(plan, with_props(plan, rules=rules)),
            )
    for stream in of_type(resources, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        if not stream.props.get("kinesisSourceConfiguration"):
            yield Mutant(
                f"delivery stream unencrypted: {stream.name}",
                "firehose-encrypted",
                stream.urn,
                swap(stream, with_props(stream, serverSideEncryption={"enabled": False})),
            )
    for workgroup in of_type(resources, "aws:athena/workgroup:Workgroup"):
        configuration = dict(workgroup.props.get("configuration") or {})
        plain_results = {**(configuration.get("resultConfiguration") or {}), "encryptionConfiguration": None}
        for label, rule, changed in (
            ("not enforced", "athena-workgroup-encrypted", {**configuration, "enforceWorkgroupConfiguration": False}),
            ("results unencrypted", "athena-workgroup-encrypted", {**configuration, "resultConfiguration": plain_results}),
            ("no scan limit", "athena-scan-limit", {k: v for k, v in configuration.items() if k != "bytesScannedCutoffPerQuery"}),
        ):
            yield Mutant(
                f"workgroup {label}: {workgroup.name}",
                rule,
                workgroup.urn,
                swap(workgroup, with_props(workgroup, configuration=changed)),
            )
    for config_set in of_type(resources, "aws:sesv2/configurationSet:ConfigurationSet"):
        yield Mutant(
            f"mail without TLS: {config_set.name}",
            "ses-tls-required",
            config_set.urn,
            swap(config_set, with_props(config_set, deliveryOptions={"tlsPolicy": "OPTIONAL"})),
        )


def _with_container(task: Resource, **changes) -> Resource:
    definitions = json.loads(task.props["containerDefinitions"])
    definitions[0] = {k: v for k, v in {**definitions[0], **changes}.items() if v is not None}
    return with_props(task, containerDefinitions=json.dumps(definitions))


def _container_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    """ContainerService: each protection of its balancer, listener, tasks, service and groups undone."""
    for balancer in of_type(resources, "aws:lb/loadBalancer:LoadBalancer"):
        yield Mutant(
            f"internet-facing load balancer: {balancer.name}",
            "lb-internal-only",
            balancer.urn,
            swap(balancer, with_props(balancer, internal=False)),
        )
        yield Mutant(
            f"invalid headers passed: {balancer.name}",
            "lb-internal-only",
            balancer.urn,
            swap(balancer, with_props(balancer, dropInvalidHeaderFields=False)),
        )
    for listener in of_type(resources, "aws:lb/listener:Listener"):
        yield Mutant(
            f"plain HTTP listener: {listener.name}",
            "lb-listener-tls",
            listener.urn,
            swap(listener, with_props(listener, protocol="HTTP", sslPolicy=None, certificateArn=None)),
        )
        yield Mutant(
            f"listener admitting TLS 1.0: {listener.name}",
            "lb-listener-tls",
            listener.urn,
            swap(listener, with_props(listener, sslPolicy="ELBSecurityPolicy-2016-08")),
        )
    for task in of_type(resources, "aws:ecs/taskDefinition:TaskDefinition"):
        image = json.loads(task.props["containerDefinitions"])[0]["image"]
        yield Mutant(
            f"image by tag: {task.name}",
            "ecs-image-by-digest",
            task.urn,
            swap(task, _with_container(task, image=image.split("@")[0] + ":latest")),
        )
        for label, change in (
            ("privileged container", {"privileged": True}),
            ("writable root file system", {"readonlyRootFilesystem": False}),
            ("container as root", {"user": None}),
        ):
            yield Mutant(f"{label}: {task.name}", "ecs-task-hardened", task.urn, swap(task, _with_container(task, **change)))
        yield Mutant(
            f"task role is the execution role: {task.name}",
            "ecs-task-hardened",
            task.urn,
            swap(task, with_props(task, taskRoleArn=task.props.get("executionRoleArn"))),
        )
    for service in of_type(resources, "aws:ecs/service:Service"):
        yield Mutant(
            f"deployment without circuit breaker: {service.name}",
            "ecs-circuit-breaker",
            service.urn,
            swap(service, with_props(service, deploymentCircuitBreaker={"enable": True, "rollback": False})),
        )
    for rule in of_type(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"):
        for source, key in (("0.0.0.0/0", "cidrIpv4"), ("::/0", "cidrIpv6")):
            yield Mutant(
                f"ingress from {source}: {rule.name}",
                "no-open-ingress",
                rule.urn,
                swap(rule, with_props(rule, referencedSecurityGroupId=None, **{key: source})),
            )
    for group in of_type(resources, "aws:ec2/securityGroup:SecurityGroup")[:1]:
        yield Mutant(
            f"inline ingress from anywhere: {group.name}",
            "no-open-ingress",
            group.urn,
            swap(
                group, with_props(group, ingress=[{"protocol": "tcp", "fromPort": 80, "toPort": 80, "cidrBlocks": ["0.0.0.0/0"]}])
            ),
        )
    for subnet in of_type(resources, "aws:ec2/subnet:Subnet")[:1]:
        yield Mutant(
            f"subnet with public IPs by default: {subnet.name}",
            "subnet-no-auto-public-ip",
            subnet.urn,
            swap(subnet, with_props(subnet, mapPublicIpOnLaunch=True)),
        )
    for group in of_type(resources, "aws:ec2/securityGroup:SecurityGroup")[:1]:
        rule = new_resource(
            "aws:ec2/securityGroupRule:SecurityGroupRule",
            "open-rule",
            type="ingress",
            securityGroupId=group.name,
            protocol="tcp",
            fromPort=22,
            toPort=22,
            cidrBlocks=["0.0.0.0/0"],
        )
        yield Mutant(f"legacy rule from anywhere: {group.name}", "no-open-ingress", "", add(rule))


def _relational_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    """AuroraGlobal: encryption, privacy and recoverability undone."""
    for cluster in [*of_type(resources, "aws:rds/cluster:Cluster"), *of_type(resources, "aws:rds/globalCluster:GlobalCluster")]:
        yield Mutant(
            f"unencrypted storage: {cluster.name}",
            "rds-encrypted",
            cluster.urn,
            swap(cluster, with_props(cluster, storageEncrypted=False)),
        )
    for instance in of_type(resources, "aws:rds/clusterInstance:ClusterInstance"):
        yield Mutant(
            f"public database instance: {instance.name}",
            "rds-private",
            instance.urn,
            swap(instance, with_props(instance, publiclyAccessible=True)),
        )
    for cluster in of_type(resources, "aws:rds/cluster:Cluster"):
        for label, change in (
            ("one day of backups", {"backupRetentionPeriod": 1}),
            ("no final snapshot", {"skipFinalSnapshot": True}),
            ("untagged snapshots", {"copyTagsToSnapshot": False}),
        ):
            yield Mutant(f"{label}: {cluster.name}", "rds-recoverable", cluster.urn, swap(cluster, with_props(cluster, **change)))


def _premium_mutants(resources: list[Resource]) -> Iterator[Mutant]:
    """Paid content's signatures undone: the premium path unsigned, its buckets reached another
    way, an empty key group, cookies that live a day."""
    for distribution in of_type(resources, "aws:cloudfront/distribution:Distribution"):
        ordered = [dict(b) for b in distribution.props.get("orderedCacheBehaviors") or []]
        for index, behavior in enumerate(ordered):
            if not behavior.get("trustedKeyGroups"):
                continue
            unsigned = [dict(b) for b in ordered]
            unsigned[index].pop("trustedKeyGroups")
            yield Mutant(
                f"premium path without its key group: {distribution.name}",
                "premium-signed-only",
                distribution.urn,
                swap(distribution, with_props(distribution, orderedCacheBehaviors=unsigned)),
            )
            default = dict(distribution.props.get("defaultCacheBehavior") or {})
            yield Mutant(
                f"premium buckets behind the unsigned default behaviour: {distribution.name}",
                "premium-signed-only",
                distribution.urn,
                swap(
                    distribution,
                    with_props(distribution, defaultCacheBehavior={**default, "targetOriginId": behavior["targetOriginId"]}),
                ),
            )
    buckets = {
        b.urn: b for b in of_type(resources, "aws:s3/bucket:Bucket") if (b.props.get("tags") or {}).get("content") == "premium"
    }
    for policy in of_type(resources, "aws:s3/bucketPolicy:BucketPolicy"):
        for urn in [u for u in policy.depends_on("bucket") if u in buckets]:
            reader = {
                "Sid": "AnotherDistribution",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{buckets[urn].name}/*",
                "Condition": {"StringEquals": {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EUNSIGNED"}},
            }
            yield Mutant(
                f"premium bucket read by another distribution: {policy.name}", "premium-signed-only", urn, adding(policy, reader)
            )
    for group in of_type(resources, "aws:cloudfront/keyGroup:KeyGroup"):
        yield Mutant(
            f"empty key group: {group.name}", "premium-key-group-not-empty", group.urn, swap(group, with_props(group, items=[]))
        )
    for function in of_type(resources, "aws:lambda/function:Function"):
        variables = dict(((function.props.get("environment") or {}).get("variables")) or {})
        if "PREMIUM_COOKIE_SECONDS" in variables:
            long_lived = {"variables": {**variables, "PREMIUM_COOKIE_SECONDS": "86400"}}
            yield Mutant(
                f"premium cookies for a day: {function.name}",
                "premium-cookie-lifetime",
                function.urn,
                swap(function, with_props(function, environment=long_lived)),
            )


GENERATORS = (
    _access_mutants,
    _iam_mutants,
    _api_mutants,
    _cloudfront_mutants,
    _protection_mutants,
    _container_mutants,
    _relational_mutants,
    _premium_mutants,
    *PROPERTY_GENERATORS,
)


def mutants_of(resources: list[Resource]) -> list[Mutant]:
    return [m for generate in GENERATORS for m in generate(resources)]


def _key(finding: dict[str, str]) -> tuple[str, str, str]:
    return finding["rule"], finding["urn"], finding["message"]


def killed(mutant: Mutant, resources: list[Resource]) -> bool:
    rule = [r for r in RULES if r.name == mutant.rule]
    before = {_key(f) for f in evaluate(resources, rule)}
    after = [f for f in evaluate(mutant.mutate(resources), rule) if _key(f) not in before]
    return any(not mutant.target or f["urn"] == mutant.target for f in after)


@dataclass(frozen=True)
class Report:
    total: int
    survivors: list[str]
    by_rule: dict[str, tuple[int, int]]  # rule -> (killed, total)

    @property
    def kill_ratio(self) -> float:
        return (self.total - len(self.survivors)) / self.total if self.total else 0.0


def run_suite(resources_by_stack: dict[str, list[Resource]]) -> Report:
    totals: Counter = Counter()
    kills: Counter = Counter()
    survivors = []
    for stack, resources in resources_by_stack.items():
        for mutant in mutants_of(resources):
            totals[mutant.rule] += 1
            if killed(mutant, resources):
                kills[mutant.rule] += 1
            else:
                survivors.append(f"{stack}: {mutant.name} (expected {mutant.rule})")
    return Report(
        total=sum(totals.values()),
        survivors=survivors,
        by_rule={rule: (kills[rule], totals[rule]) for rule in sorted(totals)},
    )


def main(argv: list[str] | None = None) -> int:
    from ops.offline_run import run_stack
    from policy.engine import resources_of

    stacks = argv if argv else ["dev", "dr"]
    report = run_suite({stack: resources_of(run_stack(stack)) for stack in stacks})
    for rule, (k, t) in report.by_rule.items():
        print(f"{rule:<36} {k:>4} / {t:<4}")
    print(f"{report.total} mutants, kill ratio {report.kill_ratio:.1%}")
    for survivor in report.survivors:
        print(f"survived: {survivor}")
    return 0 if not report.survivors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
