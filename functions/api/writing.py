"""How the API answers a write: at once when DynamoDB decides it, 202 when it cannot decide now.

1. Identity. The caller's Idempotency-Key (or, without one, API Gateway's request id) and the
   route give the write id; the canonical request gives its hash. Keys are scoped per route.
2. Apply within the request's budget, keeping back what publishing a deferral needs.
3. Decided: 201/200/204 or the rejection (404/409); a replay of an earlier request with the same
   key answers with the recorded outcome; the same key with another request is a 422.
4. Not decided (throttling, 5xx, a timeout, a deadline, a moved primary): publish the intent to
   the region's write-retry topic and answer 202 with a write id and a Location to poll
   (GET /writes/{id}). If even the publish fails the write was not accepted: 503 with
   Retry-After, and the caller retries with the same key.
"""

from __future__ import annotations

import json
import os
from typing import Any

from api.errors import ApiError
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from shared import aws, deadline, signing, writes
from shared.intent import WriteIntent
from shared.items import json_default, local_region, now_iso

logger = Logger(service="api", child=True)

# Seconds of the request's budget kept back for publishing a deferred write: one SNS attempt.
PUBLISH_RESERVE_SECONDS = aws.ATTEMPT_SECONDS + 0.5
RETRY_AFTER_SECONDS = 5


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=json_default),
        headers=headers or {},
    )


def identity(route: str, key: str, request: dict[str, Any]) -> dict[str, Any]:
    """The fields every intent of this request shares."""
    return {
        "write_id": signing.write_id(route, key),
        "route": route,
        "body_hash": writes.body_hash(request),
        "accepted_region": local_region(),
        "accepted_at": now_iso(),
    }


def _status_location(base_path: str, token: str) -> str:
    return f"{base_path}/writes/{token}"


def perform(intent: WriteIntent, base_path: str) -> Response:
    token = signing.status_token(intent.write_id, intent.body_hash)
    headers = {"X-Write-Id": token}
    try:
        with deadline.narrowed(PUBLISH_RESERVE_SECONDS):
            outcome = writes.apply(intent)
    except writes.KeyReuse as reuse:
        raise ApiError(422, "idempotency_key_reused", str(reuse), ["Idempotency-Key"]) from None
    except Exception as error:
        if not writes.should_defer(error):
            raise
        return _defer(intent, error, token, base_path)
    if outcome.http_status == 204:
        return Response(status_code=204, headers=headers)
    return json_response(outcome.http_status, outcome.body, headers)


def _defer(intent: WriteIntent, error: BaseException, token: str, base_path: str) -> Response:
    try:
        aws.client("sns").publish(
            TopicArn=os.environ["WRITE_RETRY_TOPIC_ARN"],
            Message=intent.to_json(),
            MessageAttributes={"kind": {"DataType": "String", "StringValue": intent.kind}},
        )
    except Exception as publish_error:
        logger.error(
            "write neither applied nor deferred: not accepted",
            extra={"write_id": intent.write_id, "write_error": repr(error), "publish_error": repr(publish_error)},
        )
        return json_response(
            503,
            {
                "error": "unavailable",
                "message": "the write was not accepted; retry with the same Idempotency-Key",
                "retry_after": RETRY_AFTER_SECONDS,
            },
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.warning("write deferred to the retry topic", extra={"write_id": intent.write_id, "write_error": repr(error)})
    location = _status_location(base_path, token)
    body = {"status": "accepted", "write_id": token, "location": location}
    if intent.kind == "create":
        body["id"] = intent.item["id"]
    return json_response(202, body, {"Location": location, "X-Write-Id": token})
