"""IAM and resource-policy statements that several components need, written once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi


def deny_insecure_transport(actions: str | Sequence[str], resources: str | Sequence[str]) -> dict[str, Any]:
    """Deny any request not made over TLS (S3.5 / SNS.4 / SQS.3 style)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": resources,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def assume_role_policy(service: str, source_account: pulumi.Input[str] | None = None) -> pulumi.Input[str]:
    """A trust policy for `service`; with `source_account`, only on behalf of that account (a
    service that acts for many customers must not be steered into this role: confused deputy)."""
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if source_account is None:
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    return policy_document([{**statement, "Condition": {"StringEquals": {"aws:SourceAccount": source_account}}}])


def policy_document(statements: Sequence[dict[str, Any]]) -> pulumi.Output[str]:
    """A policy JSON from statements whose values may be Outputs."""
    return pulumi.Output.from_input(list(statements)).apply(
        lambda resolved: json.dumps({"Version": "2012-10-17", "Statement": resolved})
    )


def allow(actions: Sequence[str], resources: Sequence[Any], sid: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)}
    if sid:
        statement["Sid"] = sid
    return statement
