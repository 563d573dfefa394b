"""Lambda entry point of the regional API: routing (Powertools), thin handlers, JSON errors.

Environment: TABLE_NAME, WRITE_RETRY_TOPIC_ARN, EVENTS_STREAM_NAME, MEDIA_BUCKET, DRAIN_PARAMETER,
ALLOWED_ORIGIN, MAX_UPLOAD_BYTES; AWS_REGION comes from Lambda.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from api import health, posts, uploads
from api.errors import ApiError, bad_request
from api.validation import json_body
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from shared import aws
from shared.items import json_default, local_region, now_iso, stamp, subscriber_key
from shared.write_intents import ConflictError, WriteIntent, apply, is_transient

logger = Logger(service="api")
tracer = Tracer(service="api")
app = APIGatewayRestResolver(
    cors=CORSConfig(
        allow_origin=os.environ.get("ALLOWED_ORIGIN", ""),
        allow_headers=["Content-Type", "X-Api-Key", "Idempotency-Key"],
        max_age=600,
    ),
    strip_prefixes=None,
)

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=json_default),
        headers=headers or {},
    )


def _table():
    return aws.table(os.environ["TABLE_NAME"])


def _body(schema: str) -> dict[str, Any]:
    event = app.current_event
    return json_body(event.headers, event.body, schema)


def _request_id() -> str:
    """The client's Idempotency-Key when given (a retried request keeps its identity), else API Gateway's id."""
    supplied = next((v for k, v in (app.current_event.headers or {}).items() if k.lower() == "idempotency-key"), None)
    if supplied is not None:
        if not _IDEMPOTENCY_KEY.match(supplied):
            raise bad_request("Idempotency-Key must be 8-64 letters, digits, '-' or '_'")
        return supplied
    return app.current_event.request_context.request_id


def _perform(intent: WriteIntent) -> Response | None:
    """Apply the write; on a transient failure hand it to the write-retry topic and answer 202."""
    try:
        apply(_table(), intent)
        return None
    except Exception as error:
        if not is_transient(error):
            raise  # ConflictError included: the 409 handler below answers it
        logger.warning("write deferred to retry topic", extra={"request_id": intent.request_id, "error": str(error)})
        aws.client("sns").publish(
            TopicArn=os.environ["WRITE_RETRY_TOPIC_ARN"],
            Message=intent.to_json(),
            MessageAttributes={"op": {"DataType": "String", "StringValue": intent.op}},
        )
        return _json(202, {"status": "accepted", "request_id": intent.request_id})


@app.get("/health")
@tracer.capture_method
def get_health():
    status, body = health.check(_table(), os.environ["DRAIN_PARAMETER"], local_region())
    return _json(status, body, {"Cache-Control": "no-store"})


@app.get("/posts")
def list_posts():
    params = app.current_event.query_string_parameters or {}
    return _json(200, posts.list_posts(_table(), posts.parse_limit(params.get("limit")), params.get("cursor")))


@app.get("/posts/<post_id>")
def get_post(post_id: str):
    if not re.fullmatch(r"[0-9a-f]{32}", post_id):
        raise ApiError(404, "not_found", f"post {post_id} not found")
    return _json(200, posts.get_post(_table(), post_id))


@app.post("/posts")
def create_post():
    intent = posts.create_intent(_request_id(), _body("PostCreate"))
    return _perform(intent) or _json(201, posts.public(intent.item), {"Location": f"/posts/{intent.item['id']}"})


@app.put("/posts/<post_id>")
def update_post(post_id: str):
    body = _body("PostUpdate")
    intent = posts.update_intent(_table(), _request_id(), post_id, body)
    return _perform(intent) or _json(200, posts.public(intent.item))


@app.delete("/posts/<post_id>")
def delete_post(post_id: str):
    params = app.current_event.query_string_parameters or {}
    intent = posts.delete_intent(_table(), _request_id(), post_id, params.get("version"))
    return _perform(intent) or Response(status_code=204)


@app.post("/subscribers")
def subscribe():
    email = _body("Subscriber")["email"].strip().lower()
    item = stamp({**subscriber_key(email), "email": email, "subscribed_at": now_iso()}, version=1)
    intent = WriteIntent(request_id=_request_id(), op="create", key=subscriber_key(email), item=item)
    try:
        deferred = _perform(intent)
    except ConflictError:
        return _json(200, {"email": email, "status": "already_subscribed"})
    return deferred or _json(201, {"email": email, "status": "subscribed"})


@app.post("/uploads")
def create_upload():
    body = _body("UploadRequest")
    s3 = aws.client("s3", signature_version="s3v4")
    max_bytes = int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
    return _json(201, uploads.presigned_upload(s3, os.environ["MEDIA_BUCKET"], body["content_type"], body["size"], max_bytes))


@app.get("/thumbnails/<name>")
def get_thumbnail(name: str):
    s3 = aws.client("s3", signature_version="s3v4")
    return _json(200, uploads.thumbnail_url(s3, os.environ["MEDIA_BUCKET"], name), {"Cache-Control": "no-store"})


@app.post("/events")
def record_event():
    body = _body("PageView")
    record = {"post_id": body["post_id"], "type": body.get("type", "view"), "region": local_region(), "at": now_iso()}
    aws.client("kinesis").put_record(
        StreamName=os.environ["EVENTS_STREAM_NAME"], Data=json.dumps(record).encode(), PartitionKey=body["post_id"]
    )
    return _json(202, {"status": "accepted"})


@app.exception_handler(ApiError)
def api_error(error: ApiError):
    return _json(error.status, error.body())


@app.exception_handler(ConflictError)
def write_conflict(error: ConflictError):
    return _json(409, {"error": "conflict", "message": f"{error} changed since the version given; read it again"})


@app.not_found
def route_not_found(_: NotFoundError):
    event = app.current_event
    return _json(404, {"error": "not_found", "message": f"no route {event.http_method} {event.path}"})


@app.exception_handler(Exception)
def unexpected(error: Exception):
    # A bug or an outage, never the caller's fault: log it whole, answer without internals.
    logger.exception("unhandled error")
    return _json(
        500, {"error": "internal", "message": "internal error", "request_id": app.current_event.request_context.request_id}
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
