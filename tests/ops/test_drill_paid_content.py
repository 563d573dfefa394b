"""`sdr drill status` with paid content (moto): the pool in its region and each region's replica
of the signing key, and what the drill says when either is gone."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

from ops.drill import paid_content_status, render_status

HOME, OTHER, ADDED = "us-east-1", "us-west-2", "eu-west-1"


@pytest.fixture
def paid():
    from moto import mock_aws

    with mock_aws():
        pool = boto3.client("cognito-idp", region_name=HOME).create_user_pool(PoolName="paid")["UserPool"]["Id"]
        secret = boto3.client("secretsmanager", region_name=HOME).create_secret(
            Name="paid-signing-key", SecretString="{}", AddReplicaRegions=[{"Region": OTHER}]
        )["ARN"]
        yield {
            "userPoolId": pool,
            "poolRegion": HOME,
            "keyGroupId": "KG1",
            # A region added to the stack after the secret: its replica was never made.
            "signingKeySecrets": {r: secret.replace(f":{HOME}:", f":{r}:") for r in (HOME, OTHER, ADDED)},
        }


def clients(down: set[str] = frozenset()):
    def client(service: str, region: str):
        if region in down:
            return Unreachable(service, region)
        return boto3.client(service, region_name=region)

    return client


class Unreachable:
    def __init__(self, service: str, region: str):
        self.url = f"https://{service}.{region}.amazonaws.com"

    def __getattr__(self, _name):
        def refuse(**_kwargs):
            raise EndpointConnectionError(endpoint_url=self.url)

        return refuse


def test_every_region_with_its_replica_reads_the_key_and_the_pool_answers(paid):
    status = paid_content_status(paid, clients())
    assert status["sign_in"] == "available"
    assert status["signing_key"][HOME] == status["signing_key"][OTHER] == "readable"
    assert status["signing_key"][ADDED].startswith("missing (ResourceNotFoundException)")
    report = {"region": HOME, "drain_parameter": "false", "paid_content": status}
    assert "premium sign-in (us-east-1): available; signing key: us-east-1 readable" in render_status(report)


def test_with_the_pool_s_region_down_sign_in_is_reported_unavailable_and_the_other_region_still_signs(paid):
    status = paid_content_status(paid, clients(down={HOME}))
    assert status["sign_in"].startswith("unavailable (EndpointConnectionError)")
    assert status["signing_key"][OTHER] == "readable" and status["signing_key"][HOME].startswith("missing")
