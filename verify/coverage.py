"""Coverage of the scanners' checks by the pack: for every Checkov check on a Terraform type this
program's resources correspond to, and every FSBP control of its services, the rule that covers
it, or why none does.

    python -m verify.coverage                     # the table (docs/policy-coverage.md)
    python -m verify.coverage --write             # rewrite docs/policy-coverage.md
    python -m verify.coverage --terraform-types   # the Terraform types, for verify/checkov_catalog.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from policy.access import POLICY_INPUTS, SYNTHESISED
from policy.citations import FSBP, checkov, checkov_version
from policy.rules import RULES
from verify.variants import VARIANTS

DOC = Path(__file__).resolve().parent.parent / "docs" / "policy-coverage.md"

# Pulumi modules whose Terraform name differs, and types Terraform names differently.
_MODULES = {"apigateway": "api_gateway", "ec2": ""}  # aws:ec2/vpc:Vpc is aws_vpc
_TYPES = {
    "aws:s3/bucketObjectv2:BucketObjectv2": "aws_s3_object",
    "aws:s3/bucketReplicationConfig:BucketReplicationConfig": "aws_s3_bucket_replication_configuration",
    "aws:lb/loadBalancer:LoadBalancer": "aws_lb",
    "aws:rds/subnetGroup:SubnetGroup": "aws_db_subnet_group",
}
# The same AWS object under an older Terraform resource: its checks apply too.
_EQUIVALENT = {
    "aws_sesv2_configuration_set": "aws_ses_configuration_set",
    # The REST API's OpenAPI body defines its methods: what Terraform would declare one by one.
    "aws_api_gateway_rest_api": "aws_api_gateway_method",
    "aws_lb": "aws_alb",
    "aws_lb_listener": "aws_alb_listener",
    "aws_lb_target_group": "aws_alb_target_group",
}
# Types the program does not create today but a rule examines (a mutant or a user's change adds them).
EXAMINED_TYPES = (
    *POLICY_INPUTS,
    *SYNTHESISED,
    "aws:wafv2/webAclAssociation:WebAclAssociation",
    "aws:s3/bucketLogging:BucketLogging",
)


def terraform_types(pulumi_type: str) -> list[str]:
    if pulumi_type in _TYPES:
        name = _TYPES[pulumi_type]
    else:
        module, kind = pulumi_type.split(":")[1].split("/")
        prefix = _MODULES.get(module, module)
        name = "_".join(filter(None, ("aws", prefix, re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower())))
    return [name, *([_EQUIVALENT[name]] if name in _EQUIVALENT else [])]


# The stacks whose resource types the table covers: the shipped two and the options they leave off.
# The shipped stacks and the variants that add resource types (keys, access logs, WAF, a
# stream, strong consistency's witness, a vault lock): the stack tests run the same ones.
COVERAGE_STACKS = (
    ("dev", None),
    ("dr", None),
    *(
        VARIANTS[name]
        for name in (
            "real-domain-hardened-functions-standing-charges-no-backups",
            "strong-with-witness-private-containers",
            "failover-routing-locked-hourly-backups-pilot-light-headless-database",
        )
    ),
)


def program_types(runs=None) -> list[str]:
    """Every AWS type the program creates in `runs` (default: COVERAGE_STACKS), and the ones rules examine."""
    if runs is None:
        from ops.offline_run import run_stack

        runs = [run_stack(stack, overrides=overrides) for stack, overrides in COVERAGE_STACKS]
    types = set(EXAMINED_TYPES)
    for run in runs:
        types |= {r.type for r in run.resources if r.is_aws}
    return sorted(types)


# Checks no rule covers, and why. Every Checkov check on the program's Terraform types and every FSBP
# control of its services is either cited by a rule or listed here (tests/policy/test_citations.py).
NOT_COVERED: dict[str, str] = {
    # The relational store (relationalDb), when chosen.
    "CKV2_AWS_27": "PostgreSQL query logging: every statement is the Data API's, whose calls CloudTrail can record; "
    "statement logs would hold the ledger's values",
    "CKV2_AWS_57": "secret rotation: the Data API reads the master secret on every call; rotating it needs a "
    "rotation function in the VPC the store deliberately lacks (a later step, docs/relational.md)",
    "CKV2_AWS_8": "AWS Backup for the cluster: with relationalDbDr backup-copy the stack's backup plan selects it "
    "(the backups invariant checks it); a global database relies on its replicas and 7 days of PITR",
    "CKV_AWS_118": "enhanced monitoring: a per-instance charge and a monitoring role; Performance Insights (free tier) is on",
    "CKV_AWS_139": "cluster deletion protection: follows the deletionProtection config like the table's",
    "CKV_AWS_149": "the secret under a customer managed key: the AWS managed key keeps the replicas readable in "
    "every region without a key per region",
    "CKV_AWS_162": "IAM database authentication: the functions use the Data API with the secret, never a connection",
    "CKV_AWS_226": "automatic minor upgrades: AuroraGlobal sets them on every instance; not a rule, a global "
    "database upgrades its secondaries first whatever the flag",
    "CKV_AWS_250": "log_fdw vulnerability: only versions released after the bulletin are accepted (relationalDbEngineVersion)",
    "CKV_AWS_324": "log exports to CloudWatch: they create log groups without the stack's retention; a later choice",
    "CKV_AWS_325": "MySQL audit logging: the engine is PostgreSQL",
    "CKV_AWS_326": "backtracking: Aurora MySQL only",
    "CKV_AWS_327": "a customer managed key for the cluster: the aws/rds key of each region encrypts it; a CMK per region is a later choice",
    "CKV_AWS_353": "Performance Insights: on for every instance (7 days, the free tier); not a rule, a cost choice",
    "CKV_AWS_354": "Performance Insights under a customer managed key: the aws/rds key encrypts it",
    # The container backend (containerBackend), when chosen.
    "CKV2_AWS_1": "network ACLs: the container subnets keep their VPC's default ACL; security groups chained link -> "
    "balancer -> tasks are the control (no-open-ingress)",
    "CKV2_AWS_11": "VPC flow logs: a per-GB charge; the VPC carries only the balancer's and the tasks' traffic, each "
    "request of which API Gateway's access log already records",
    "CKV2_AWS_12": "every VPC the program creates takes over its default security group with no rule "
    "(components/_blocks/small_vpc.py); not a rule: the policy inputs do not link a group to its VPC offline",
    "CKV2_AWS_15": "Auto Scaling groups: the targets are Fargate tasks, scaled by Application Auto Scaling",
    "CKV2_AWS_19": "the one Elastic IP is the NAT gateway's (containerNetwork private-nat), which has no EC2 instance",
    "CKV2_AWS_28": "WAF on internet-facing balancers: lb-internal-only refuses any; the regional WAF sits on the API stage in front",
    "CKV2_AWS_35": "NAT for the default route: the public subnets route to the internet gateway by design; only "
    "private-nat's private subnets use the NAT",
    "CKV2_AWS_44": "VPC peering routes: the program peers no VPC",
    "CKV2_AWS_5": "security groups attached: each the program creates is attached (VPC link, balancer, tasks, endpoints)",
    "CKV2_AWS_7": "EMR security groups: the program runs no EMR cluster",
    "CKV2_AWS_74": "strong ciphers: the listener uses ELBSecurityPolicy-TLS13-1-2-2021-06 (TLS 1.3, and 1.2 with AEAD ciphers); "
    "lb-listener-tls enforces the TLS floor, not the cipher list",
    "CKV2_AWS_76": "WAF Log4j rules on a balancer: the balancer is internal and has no web ACL of its own",
    "CKV_AWS_150": "balancer deletion protection: follows the deletionProtection config like the table's",
    "CKV_AWS_152": "cross-zone balancing of network/gateway balancers: the program's balancer is an ALB, always cross-zone",
    "CKV_AWS_223": "ECS Exec logging: ECS Exec is off (enable_execute_command false)",
    "CKV_AWS_224": "ECS Exec logging with a CMK: ECS Exec is off",
    "CKV_AWS_23": "descriptions: every group and rule the program creates carries one; documentation, not exposure",
    "CKV_AWS_261": "target group health checks: ContainerService always sets the container's health path, interval and thresholds",
    "CKV_AWS_297": "the failover schedule with a CMK: its payload is empty and its target an ARN, nothing to protect",
    "CKV_AWS_328": "desync mitigation: the balancer keeps AWS's default (defensive); the program never sets it",
    "CKV_AWS_332": "the LATEST platform alias: the service pins 1.4.0 so a deploy never changes the platform under the tasks unseen",
    "CKV_AWS_333": "public IPs on tasks: containerNetwork public-subnets gives each task one instead of a NAT ($3.65 vs "
    "$32.85 a month), admitting only the balancer's group; private-endpoints and private-nat give none",
    "CKV_AWS_335": "host PID namespace: Fargate does not offer it",
    "CKV_AWS_378": "HTTP to the targets: TLS ends at the internal balancer (lb-listener-tls); the hop to a task stays in "
    "the VPC and the task's group admits only the balancer",
    "CKV_AWS_382": "egress to anywhere on every port: the tasks may open HTTPS (443) only; link and balancer egress names one group",
    "CKV_AWS_65": "Container Insights: a per-metric charge; the balancer's and the service's free metrics feed the alarms",
    "CKV_AWS_91": "balancer access logs: API Gateway's access log records every request before it reaches the balancer",
    "CKV_AWS_97": "EFS transit encryption: the tasks mount no EFS volume",
    "CKV_AWS_40": "policies attached only to groups or roles: the program creates no IAM users",
    "CKV_AWS_59": "methods without authorization: a public blog's reads are public by design; every write route "
    "requires the API key or states why it is public (apigw-admin-routes-keyed)",
    "CKV_AWS_72": "queue policies here only deny (TLS); grants are judged by principal (no-public-access, no-cross-account-access)",
    "CKV_AWS_93": "root-only lockout of a bucket policy: the program's bucket policies deny only non-TLS requests",
    "CKV_AWS_116": "a DLQ for asynchronous invocations: every function here is invoked synchronously (API Gateway) or by "
    "an event source mapping, whose failures go to the mapping's queue DLQ or on-failure destination (lambda-event-failure-handling)",
    "CKV_AWS_117": "Lambda in a VPC: nothing the functions reach is private; a VPC would add NAT cost and cold-start time",
    "CKV_AWS_119": "DynamoDB with a customer managed key: offered as tableEncryption=customer-managed, not the default "
    "(AWS-owned keys cost nothing and need no grants)",
    "CKV_AWS_120": "stage-wide caching: caching is per method (the public GETs, apiCacheEnabled); writes must not be cached",
    "CKV_AWS_143": "Object Lock: site and media objects are replaced and deleted by design; backups are the recovery path",
    "CKV_AWS_144": "cross-region replication on every bucket: the multi-region buckets replicate (s3-replication-rtc checks RTC); "
    "single-region stacks and log buckets have nowhere to replicate to",
    "CKV_AWS_145": "S3 default encryption with KMS: SSE-S3 is used so CloudFront OAC and replication read without key grants",
    "CKV_AWS_185": "Kinesis with a customer managed key: the stream uses the AWS managed key (kinesis-encryption-retention)",
    "CKV_AWS_241": "Firehose with a customer managed key: direct-put streams use an AWS owned key (firehose-encrypted), "
    "Kinesis-sourced ones the stream's AWS managed key; a CMK would be a standing charge per region for page views",
    "CKV_AWS_216": "distribution enabled: a disabled distribution is an operator's action, not a misconfiguration",
    "CKV_AWS_217": "create-before-destroy for deployments: Pulumi replaces API deployments before deleting the old one by default",
    "CKV_AWS_225": "method caching everywhere: see CKV_AWS_120",
    "CKV_AWS_227": "KMS key enabled: keys are created enabled; disabling one is an operator's action",
    "CKV_AWS_233": "create-before-destroy for certificates: Pulumi's default replacement order",
    "CKV_AWS_234": "certificate transparency logging preference: ACM's default (enabled) is kept; the program never sets it",
    "CKV_AWS_237": "create-before-destroy for REST APIs: Pulumi's default replacement order",
    "CKV_AWS_272": "Lambda code signing: the code is built and deployed by the same pipeline; signing needs AWS Signer profiles",
    "CKV_AWS_286": "privilege-escalation action sets: covered more strictly by iam-no-wildcard-actions/resource "
    "(every action named, every resource named); no role is granted iam:* or sts:AssumeRole",
    "CKV_AWS_287": "credentials-exposure action sets: see CKV_AWS_286",
    "CKV_AWS_288": "data-exfiltration action sets: see CKV_AWS_286; reads are granted on named tables and buckets only",
    "CKV_AWS_289": "permissions-management action sets: see CKV_AWS_286",
    "CKV_AWS_290": "write access without constraints: see CKV_AWS_286; writes are granted on named resources only",
    "CKV_AWS_300": "abort of failed multipart uploads: every bucket's lifecycle aborts them after 7 days (private_bucket); "
    "not a rule because log buckets use an expiry-only lifecycle",
    "CKV_AWS_319": "alarm actions enabled: every alarm notifies the region's alert topic (components/_blocks/alarms.py)",
    "CKV_AWS_337": "SSM parameters with a CMK: the drain flag holds true/false, nothing secret",
    "CKV_AWS_338": "log retention of a year or more: retention is the logRetentionDays config (dev 7, dr 90), a cost choice",
    "CKV_AWS_374": "geo restriction: a public blog serves every country",
    "CKV_AWS_393": "GitHub OIDC claims on a role: the program creates no OIDC role (the deploy role is set up outside it)",
    "CKV2_AWS_9": "EBS volumes in a backup plan: the program has no EBS volumes",
    "CKV2_AWS_18": "EFS file systems in a backup plan: the program has no EFS file systems",
    "CKV2_AWS_16": "DynamoDB auto scaling: the tables are on-demand (PAY_PER_REQUEST)",
    "CKV2_AWS_23": "Route 53 A record attached to a resource: the records are aliases to API Gateway and CloudFront",
    "CKV2_AWS_34": "SSM parameter encryption: see CKV_AWS_337",
    "CKV2_AWS_36": "SSM secrets over HTTP to untrusted domains: no such data source in the program",
    "CKV2_AWS_47": "Log4j managed rule on a CloudFront WAF: applies to a web ACL the user brings (siteWebAclArn)",
    "CKV2_AWS_51": "client certificates towards the backend: the backend is Lambda (proxy integration), not HTTP",
    "CKV2_AWS_61": "lifecycle configuration on every bucket: every bucket has one (private_bucket); not a separate rule",
    "CKV2_AWS_62": "event notifications on every bucket: only the media buckets need them (thumbnails)",
    "CKV2_AWS_64": "a KMS key policy defined: keys without one get AWS's default (account root), which is the intent",
    "CKV2_AWS_68": "SageMaker notebook role: no SageMaker",
    "CKV2_AWS_70": "see CKV_AWS_59",
    "CKV2_AWS_73": "SQS with a CMK: queues use SQS-managed SSE (sqs-encryption)",
    "CKV2_AWS_77": "Log4j managed rule on an API WAF: applies to a web ACL the user brings (apiWebAclArns)",
    "CKV2_AWS_54": "secure protocols between viewers and CloudFront: cloudfront-tls requires TLSv1.2_2021+ on custom "
    "certificates; the check's default-certificate case is cloudfront-custom-certificate",
    "ACM.1": "certificate renewal: ACM renews DNS-validated certificates itself (acm-dns-validation)",
    "ACM.2": "RSA key length: API certificates are RSA_2048; CloudFront's are ACM's default RSA_2048",
    "APIGateway.2": "backend client certificates: see CKV2_AWS_51",
    "APIGateway.8": "route authorization types of HTTP APIs (API Gateway v2): the program uses REST APIs",
    "APIGateway.9": "access logging of API Gateway v2 stages: the program uses REST APIs (apigw-access-logging covers them)",
    "CloudFront.12": "non-existent S3 origins: origins are the program's own buckets, created in the same stack",
    "CloudFront.16": "OAC for Lambda function URL origins: no function URL origins",
    "DynamoDB.1": "see CKV2_AWS_16",
    "DynamoDB.4": "global tables must be in a backup plan (dynamodb-global-table-backed-up); the idempotency tables are not "
    "backed up (their records expire within hours) and a single-region stack may turn backups off",
    "KMS.3": "keys scheduled for deletion: an operator's action; keys are deleted only with the stack",
    "Lambda.3": "see CKV_AWS_117",
    "Lambda.5": "multi-AZ VPC functions: no VPC functions",
    "S3.13": "see CKV2_AWS_61",
    "S3.15": "see CKV_AWS_143",
    "S3.17": "see CKV_AWS_145",
}


def _cited() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for rule in RULES:
        for citation in rule.ids:
            out.setdefault(citation.removeprefix("FSBP "), []).append(rule.name)
    return out


def rows(types: list[str]) -> list[tuple[str, str, str, str]]:
    """(ID, the tool's description, covered by, or the reason it is not)."""
    wanted = {t for p in types for t in terraform_types(p)}
    cited = _cited()
    out = []
    for check_id, entry in sorted(checkov().items(), key=lambda kv: (kv[0].split("_")[0], int(kv[0].rsplit("_", 1)[1]))):
        if set(entry["resources"]) & wanted:
            out.append((check_id, entry["name"], ", ".join(cited.get(check_id, [])), NOT_COVERED.get(check_id, "")))
    for control, title in sorted(FSBP.items(), key=lambda kv: (kv[0].split(".")[0], int(kv[0].split(".")[1]))):
        out.append((f"FSBP {control}", title, ", ".join(cited.get(control, [])), NOT_COVERED.get(control, "")))
    return out


def render(types: list[str]) -> str:
    lines = [
        "# Policy pack coverage",
        "",
        f"Every Checkov {checkov_version()} check on a Terraform type equivalent to a resource type this program",
        "creates (or that a rule examines), and every AWS Foundational Security Best Practices control of",
        "its services: the rule that covers it, or why none does. Descriptions are the tools' own words.",
        "Generated by `python -m verify.coverage --write`; `tests/policy/test_citations.py` keeps it current.",
        "",
        "| ID | the tool's description | rule | or why not |",
        "|---|---|---|---|",
    ]
    for check_id, description, rule, reason in rows(types):
        lines.append(f"| {check_id} | {description.replace('|', '/')} | {rule} | {reason if not rule else ''} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if "--terraform-types" in argv:
        print(json.dumps(sorted({t for p in program_types() for t in terraform_types(p)}), indent=1))
        return 0
    text = render(program_types())
    if "--write" in argv:
        DOC.write_text(text)
        print(DOC)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
