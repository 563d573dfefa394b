"""What each ID a rule cites means, in the words of the tool that defines it.

- Checkov: `checkov_catalog.json`, recorded from Checkov itself (verify/checkov_catalog.py) for
  every check on a Terraform type equivalent to a resource type this program creates.
- AWS Foundational Security Best Practices: the control titles of the AWS Security Hub user guide
  ("Security Hub controls reference"), for the services this program uses.
- cfn-nag: the rule text of the cfn-nag rule class.

A rule cites an ID only when that check passes whenever the rule passes (the rule checks the same
thing, possibly more strictly); tests/policy/test_citations.py holds every citation to this table.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

CATALOG = Path(__file__).with_name("checkov_catalog.json")

FSBP: dict[str, str] = {
    "ACM.1": "Imported and ACM-issued certificates should be renewed after a specified time period",
    "ACM.2": "RSA certificates managed by ACM should use a key length of at least 2,048 bits",
    "APIGateway.1": "API Gateway REST and WebSocket API execution logging should be enabled",
    "APIGateway.2": "API Gateway REST API stages should be configured to use SSL certificates for backend authentication",
    "APIGateway.3": "API Gateway REST API stages should have AWS X-Ray tracing enabled",
    "APIGateway.4": "API Gateway should be associated with a WAF Web ACL",
    "APIGateway.5": "API Gateway REST API cache data should be encrypted at rest",
    "APIGateway.8": "API Gateway routes should specify an authorization type",
    "APIGateway.9": "Access logging should be configured for API Gateway V2 Stages",
    "CloudFront.1": "CloudFront distributions should have a default root object configured",
    "CloudFront.3": "CloudFront distributions should require encryption in transit",
    "CloudFront.4": "CloudFront distributions should have origin failover configured",
    "CloudFront.5": "CloudFront distributions should have logging enabled",
    "CloudFront.6": "CloudFront distributions should have WAF enabled",
    "CloudFront.7": "CloudFront distributions should use custom SSL/TLS certificates",
    "CloudFront.8": "CloudFront distributions should use SNI to serve HTTPS requests",
    "CloudFront.9": "CloudFront distributions should encrypt traffic to custom origins",
    "CloudFront.10": "CloudFront distributions should not use deprecated SSL protocols between edge locations and custom origins",
    "CloudFront.12": "CloudFront distributions should not point to non-existent S3 origins",
    "CloudFront.13": "CloudFront distributions should use origin access control",
    "CloudFront.15": "CloudFront distributions should use the recommended TLS security policy",
    "CloudFront.16": "CloudFront distributions should use origin access control for Lambda function URL origins",
    "DynamoDB.1": "DynamoDB tables should automatically scale capacity with demand",
    "DynamoDB.2": "DynamoDB tables should have point-in-time recovery enabled",
    "DynamoDB.4": "DynamoDB tables should be present in a backup plan",
    "DynamoDB.6": "DynamoDB tables should have deletion protection enabled",
    "IAM.1": 'IAM policies should not allow full "*" administrative privileges',
    "IAM.21": "IAM customer managed policies that you create should not allow wildcard actions for services",
    "Kinesis.1": "Kinesis streams should be encrypted at rest",
    "KMS.3": "AWS KMS keys should not be deleted unintentionally",
    "KMS.4": "AWS KMS key rotation should be enabled",
    "KMS.5": "KMS keys should not be publicly accessible",
    "Lambda.1": "Lambda function policies should prohibit public access",
    "Lambda.2": "Lambda functions should use supported runtimes",
    "Lambda.3": "Lambda functions should be in a VPC",
    "Lambda.5": "VPC Lambda functions should operate in multiple Availability Zones",
    "S3.5": "S3 general purpose buckets should require requests to use SSL",
    "S3.6": "S3 general purpose bucket policies should restrict access to other AWS accounts",
    "S3.8": "S3 general purpose buckets should block public access",
    "S3.9": "S3 general purpose buckets should have server access logging enabled",
    "S3.12": "ACLs should not be used to manage user access to S3 general purpose buckets",
    "S3.13": "S3 general purpose buckets should have Lifecycle configurations",
    "S3.15": "S3 general purpose buckets should have Object Lock enabled",
    "S3.17": "S3 general purpose buckets should be encrypted at rest with AWS KMS keys",
    "SNS.1": "SNS topics should be encrypted at-rest using AWS KMS",
    "SNS.4": "SNS topic access policies should not allow public access",
    "SQS.1": "Amazon SQS queues should be encrypted at rest",
    "SQS.3": "SQS queue access policies should not allow public access",
}

CFN_NAG: dict[str, str] = {
    "W64": "AWS::ApiGateway::Stage resources should be associated with an AWS::ApiGateway::UsagePlan.",
    "W68": "AWS::ApiGateway::Deployment resources should be associated with an AWS::ApiGateway::UsagePlan.",
}


@cache
def checkov() -> dict[str, dict]:
    return json.loads(CATALOG.read_text())["checks"]


def checkov_version() -> str:
    return json.loads(CATALOG.read_text())["version"]


def describe(citation: str) -> str | None:
    """The defining tool's own words for a cited ID; None when the ID is unknown."""
    if citation.startswith("CKV"):
        entry = checkov().get(citation)
        return entry["name"] if entry else None
    if citation.startswith("FSBP "):
        return FSBP.get(citation.removeprefix("FSBP "))
    if citation.startswith("cfn-nag "):
        return CFN_NAG.get(citation.removeprefix("cfn-nag "))
    if citation.startswith("custom: ") and len(citation) > len("custom: "):
        return citation.removeprefix("custom: ")
    return None
