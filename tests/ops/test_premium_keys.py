"""`sdr premium rotate` / `retire` (moto): a rotation puts a new key first; the old one is dropped
only once no cookie it signed can be alive, counted from the signing-key secret's last change."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
import yaml

from ops.premium_keys import CLOCK_MARGIN_SECONDS
from tests.helpers import fixture_file, sdr

COOKIE_SECONDS = 600


@pytest.fixture
def stack(tmp_path):
    """A dr stack file selling premium media, and its deployed secret's outputs."""
    from moto import mock_aws

    path = tmp_path / "Pulumi.dr.yaml"
    text = fixture_file("dr").read_text()
    path.write_text(
        text + f"  serverless-dr:paidContent: signed-cookies\n  serverless-dr:premiumCookieSeconds: {COOKIE_SECONDS}\n"
    )
    with mock_aws():
        secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(Name="paid-signing-key", SecretString="{}")
        outputs = tmp_path / "outputs.json"
        outputs.write_text(
            json.dumps({"paidContent": {"poolRegion": "us-east-1", "signingKeySecrets": {"us-east-1": secret["ARN"]}}})
        )
        yield path, outputs


def keys(path) -> list[str]:
    return yaml.safe_load(path.read_text())["config"]["serverless-dr:premiumSigningKeys"]


def changed_at() -> datetime.datetime:
    arn = boto3.client("secretsmanager", region_name="us-east-1").list_secrets()["SecretList"][0]["ARN"]
    described = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId=arn)
    return described.get("LastChangedDate") or described["CreatedDate"]


def run(*args, at: datetime.datetime):
    return sdr("premium", *args, session_factory=boto3.session.Session, wall_clock=at.timestamp)


def test_a_rotation_puts_a_new_key_first_and_retires_the_old_one_only_after_the_cookie_life(stack):
    path, outputs = stack
    rotated_at = datetime.datetime(2026, 12, 6, 3, 30, tzinfo=datetime.UTC)
    result = run("rotate", "--stack", "dr", "--file", str(path), at=rotated_at)
    assert result.exit_code == 0, result.stderr
    assert keys(path) == ["k202612060330", "k1"]
    again = run("rotate", "--stack", "dr", "--file", str(path), at=rotated_at)
    assert again.exit_code == 3 and "a rotation is under way" in again.stderr

    deployed = changed_at()  # the deploy that made the new key sign changed the secret
    early = deployed + datetime.timedelta(seconds=COOKIE_SECONDS)
    refused = run("retire", "--stack", "dr", "--file", str(path), "--outputs", str(outputs), at=early)
    assert refused.exit_code == 3 and "cookies signed by k1 may live until" in refused.stderr
    assert refused.stderr.count("\n") == 1 and keys(path) == ["k202612060330", "k1"]

    late = deployed + datetime.timedelta(seconds=COOKIE_SECONDS + CLOCK_MARGIN_SECONDS + 1)
    done = run("retire", "--stack", "dr", "--file", str(path), "--outputs", str(outputs), at=late)
    assert done.exit_code == 0, done.stderr
    assert keys(path) == ["k202612060330"]
    nothing = run("retire", "--stack", "dr", "--file", str(path), "--outputs", str(outputs), at=late)
    assert nothing.exit_code == 3 and "no rotation under way" in nothing.stderr


def test_a_stack_without_paid_content_has_no_key_to_rotate(tmp_path):
    path = tmp_path / "Pulumi.dr.yaml"
    path.write_text(fixture_file("dr").read_text())
    result = sdr("premium", "rotate", "--stack", "dr", "--file", str(path))
    assert result.exit_code == 2 and "paidContent is off" in result.stderr
    assert path.read_text() == fixture_file("dr").read_text()
