"""A warm region's /health counts its containers (CONTAINER_TARGET_GROUP_ARN): with no healthy
target it answers 503 and leaves DNS like any other sick region; an unreadable answer is no outage."""

import boto3
import pytest
from botocore.stub import Stubber

from verify.harness import FakeContext, api_event, reset_handler_state

GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef"


@pytest.fixture
def targets(regional, monkeypatch):
    """The health function's ELB client, answering from a queue of target-health answers."""
    from shared import aws

    client = boto3.client("elbv2", region_name="us-east-1")
    stubber = Stubber(client)
    real = aws.client
    monkeypatch.setattr(aws, "client", lambda service, *a, **k: client if service == "elbv2" else real(service, *a, **k))
    monkeypatch.setenv("CONTAINER_TARGET_GROUP_ARN", GROUP)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def answer(states):
    return {
        "TargetHealthDescriptions": [
            {"Target": {"Id": f"10.80.0.{i}"}, "TargetHealth": {"State": s}} for i, s in enumerate(states)
        ]
    }


def health():
    import json

    from api.health_app import handler

    reply = handler(api_event("GET", "/health"), FakeContext(function_name="health"))
    return reply["statusCode"], json.loads(reply["body"])


def test_one_healthy_container_is_enough_and_none_takes_the_region_out(targets):
    targets.add_response("describe_target_health", answer(["healthy", "unhealthy"]), {"TargetGroupArn": GROUP})
    assert health() == (200, {"status": "ok", "region": "us-east-1"})
    reset_handler_state()  # the cache period passes
    targets.add_response("describe_target_health", answer(["unhealthy", "draining"]), {"TargetGroupArn": GROUP})
    assert health() == (503, {"status": "unhealthy", "region": "us-east-1", "reason": "0 healthy container(s)"})


def test_the_answer_is_cached_like_the_tables(targets):
    targets.add_response("describe_target_health", answer([]), {"TargetGroupArn": GROUP})
    assert health()[0] == 503
    assert health()[0] == 503  # no second call: the stubber would have no answer for it


def test_an_unreadable_answer_keeps_the_region_serving(targets):
    targets.add_client_error("describe_target_health", "ThrottlingException", http_status_code=400)
    status, body = health()
    assert status == 200 and body["status"] == "ok"


def test_without_warm_containers_the_health_check_never_asks(regional):
    assert health() == (200, {"status": "ok", "region": "us-east-1"})
