"""Lambda entry point of the regional API: routing (Powertools), thin handlers, JSON errors.

Environment: TABLE_NAME, WRITE_RETRY_TOPIC_ARN, EVENTS_STREAM_NAME, MEDIA_BUCKET, DRAIN_PARAMETER,
ALLOWED_ORIGIN, MAX_UPLOAD_BYTES, SIGNING_KEY_PARAMETER, WRITE_MODE, HOME_REGION; AWS_REGION comes from
Lambda. Every invocation runs under a deadline taken from the Lambda context (shared/deadline.py),
so every request is answered before the function's timeout.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from api import cors, health, posts, premium, uploads, validation, writing
from api.errors import ApiError, bad_request, not_found
from api.validation import json_body
from api.writing import json_response
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from botocore.exceptions import ClientError
from shared import aws, data_api, deadline, ledger, page_view, signing, writes
from shared.intent import WriteIntent
from shared.items import local_region, now_iso, purchase_key, subscriber_key
from shared.reader_tokens import bearer_token

logger = Logger(service="api")
tracer = Tracer(service="api")
app = APIGatewayRestResolver(
    cors=CORSConfig(
        allow_origin=os.environ.get("ALLOWED_ORIGIN", ""),
        allow_headers=["Content-Type", "X-Api-Key", "Idempotency-Key", "Authorization"],
        # The premium session answers with cookies: the page calls it with credentials.
        allow_credentials=premium.enabled(),
        expose_headers=["Location", "X-Write-Id", "Retry-After"],
        max_age=600,
    ),
    strip_prefixes=None,
)

# Seconds kept back from the function's remaining time to build and return the answer.
ANSWER_RESERVE_SECONDS = 1.0
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
_POST_ID = re.compile(r"[0-9a-f]{32}")


def _table():
    return aws.table(os.environ["TABLE_NAME"])


def _body(schema: str) -> dict[str, Any]:
    event = app.current_event
    return json_body(event.headers, event.body, schema)


def _query() -> dict[str, str]:
    return app.current_event.query_string_parameters or {}


def _idempotency_key() -> str:
    """The caller's Idempotency-Key (a retried request keeps its identity), else API Gateway's id."""
    supplied = next((v for k, v in (app.current_event.headers or {}).items() if k.lower() == "idempotency-key"), None)
    if supplied is not None:
        if not _IDEMPOTENCY_KEY.fullmatch(supplied):
            raise bad_request("Idempotency-Key must be 8-64 letters, digits, '-' or '_'")
        return supplied
    return app.current_event.request_context.request_id


def _base_path() -> str:
    """The stage prefix callers use (/v1 on the execute-api host, empty on the custom domain)."""
    event = app.current_event
    full = event.request_context.path or event.path
    return full[: len(full) - len(event.path)] if full.endswith(event.path) else ""


def _write(route: str, request: dict[str, Any], make_intent) -> Response:
    base = writing.identity(route, _idempotency_key(), request)
    return writing.perform(make_intent(base), _base_path())


def _post_id(post_id: str) -> str:
    if not _POST_ID.fullmatch(post_id):
        raise not_found(f"post {post_id}")
    return post_id


@app.get("/health")
@tracer.capture_method
def get_health():
    status, body = health.check(_table(), os.environ["DRAIN_PARAMETER"], local_region())
    return json_response(status, body, {"Cache-Control": "no-store"})


@app.get("/posts")
def list_posts():
    params = _query()
    return json_response(200, posts.list_posts(_table(), posts.parse_limit(params.get("limit")), params.get("cursor")))


@app.get("/posts/<post_id>")
def get_post(post_id: str):
    return json_response(200, posts.get_post(_table(), _post_id(post_id)))


@app.post("/posts")
def create_post():
    body = _body("PostCreate")
    return _write("POST /posts", {"body": body}, lambda base: posts.create_intent(base, body))


@app.put("/posts/<post_id>")
def update_post(post_id: str):
    post_id, body = _post_id(post_id), _body("PostUpdate")  # the schema asks for a field to change
    return _write("PUT /posts/{id}", {"id": post_id, "body": body}, lambda base: posts.update_intent(base, post_id, body))


@app.delete("/posts/<post_id>")
def delete_post(post_id: str):
    version = posts.parse_version(_query().get("version"))
    post_id = _post_id(post_id)
    return _write(
        "DELETE /posts/{id}", {"id": post_id, "version": version}, lambda base: posts.delete_intent(base, post_id, version)
    )


@app.post("/subscribers")
def subscribe():
    email = _body("Subscriber")["email"].strip().lower()

    def intent(base: dict[str, Any]) -> WriteIntent:
        item = {**subscriber_key(email), "email": email, "subscribed_at": now_iso()}
        return WriteIntent(kind="subscribe", key=subscriber_key(email), item=item, **base)

    return _write("POST /subscribers", {"email": email}, intent)


@app.post("/purchases")
def create_purchase():
    """A grant (or a test purchase): the reader owns the item, which unlocks its premium media
    (POST /premium/session). Through the write path: once per Idempotency-Key, 202 when it cannot
    be written now (no primary, or the relational store resuming). In the table, or in the
    relational ledger when that store is on."""
    body = _body("PurchaseCreate")
    return _purchase(body["reader"].strip().lower(), body["item"])


@app.post("/premium/purchases")
def premium_purchase():
    """A test purchase (premiumTestPurchases): the signed-in reader unlocks a post for their own
    verified address, through the same write path as POST /purchases."""
    item = _body("PremiumSessionRequest")["item"]
    return _purchase(premium.test_buyer(bearer_token(app.current_event.headers), _table()), item)


def _purchase(reader: str, item: str) -> Response:
    """`reader` owns `item`, written once per Idempotency-Key under POST /purchases' scope."""

    def intent(base: dict[str, Any]) -> WriteIntent:
        key = purchase_key(reader, item)
        owned = {**key, "reader": reader, "item": item, "purchased_at": now_iso()}
        return WriteIntent(kind="purchase", key=key, item=owned, **base)

    return _write("POST /purchases", {"reader": reader, "item": item}, intent)


@app.get("/purchases")
def list_purchases():
    reader = validation.query_email(_query(), "reader")
    if not data_api.enabled():
        owned = premium.purchases_in_table(_table(), reader)
        return json_response(200, {"reader": reader, "purchases": owned}, {"Cache-Control": "no-store"})
    try:
        owned = ledger.purchases_of(reader)
    except Exception as error:
        if isinstance(error, data_api.DatabaseBusy):
            logger.warning("ledger busy on a read", extra={"cause": str(error)[:300]})
        elif isinstance(error, ClientError):  # a misconfiguration (access, secret, endpoint): alarm-worthy
            logger.error("ledger refused a read", extra={"cause": repr(error)[:300]})
        else:
            raise
        seconds = data_api.RETRY_AFTER_SECONDS
        body = {"error": "unavailable", "message": "the database is resuming or moving; retry", "retry_after": seconds}
        return json_response(503, body, {"Retry-After": str(seconds), "Cache-Control": "no-store"})
    return json_response(200, {"reader": reader, "purchases": owned}, {"Cache-Control": "no-store"})


@app.post("/premium/session")
def premium_session():
    """Cookies for a post's premium media, for a signed-in reader who owns it (api/premium.py)."""
    item = _body("PremiumSessionRequest")["item"]
    token = bearer_token(app.current_event.headers)
    try:
        answer = premium.session(token, item, _table())
    except premium.Unavailable as unavailable:
        body = {"error": "unavailable", "message": str(unavailable), "retry_after": premium.RETRY_AFTER_SECONDS}
        return json_response(503, body, {"Retry-After": str(premium.RETRY_AFTER_SECONDS), "Cache-Control": "no-store"})
    headers: dict[str, Any] = {"Cache-Control": "no-store"}
    if answer.set_cookies:
        headers["Set-Cookie"] = answer.set_cookies
    return json_response(answer.status, answer.body, headers)


@app.get("/writes/<token>")
def get_write(token: str):
    parsed = signing.parse_status_token(token)
    if parsed is None:
        raise not_found(f"write {token[:80]}")
    return json_response(200, {"write_id": token, **writes.status(*parsed)}, {"Cache-Control": "no-store"})


@app.post("/uploads")
def create_upload():
    body = _body("UploadRequest")
    s3 = aws.client("s3", signature_version="s3v4")
    max_bytes = int(os.environ.get("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
    return json_response(
        201, uploads.presigned_upload(s3, os.environ["MEDIA_BUCKET"], body["content_type"], body["size"], max_bytes)
    )


@app.get("/thumbnails/<name>")
def get_thumbnail(name: str):
    s3 = aws.client("s3", signature_version="s3v4")
    return json_response(200, uploads.thumbnail_url(s3, os.environ["MEDIA_BUCKET"], name), {"Cache-Control": "no-store"})


@app.post("/events")
def record_event():
    body = _body("PageView")
    request_id = app.current_event.request_context.request_id
    record = page_view.record(body, validation.schema("PageView"), view_id=request_id, region=local_region(), at=now_iso())
    # One post's views in order: the post is the FIFO message group, or the stream's partition key.
    if os.environ.get("EVENTS_QUEUE_URL"):
        aws.client("sqs").send_message(
            QueueUrl=os.environ["EVENTS_QUEUE_URL"],
            MessageBody=json.dumps(record),
            MessageGroupId=body["post_id"],
            # An SDK retry of this send after a lost answer stays one view (SQS drops duplicates for 5 minutes).
            MessageDeduplicationId=request_id,
        )
    else:
        aws.client("kinesis").put_record(
            StreamName=os.environ["EVENTS_STREAM_NAME"], Data=json.dumps(record).encode(), PartitionKey=body["post_id"]
        )
    return json_response(202, {"status": "accepted"})


@app.exception_handler(ApiError)
def api_error(error: ApiError):
    return json_response(error.status, error.body())


@app.not_found
def route_not_found(_: NotFoundError):
    event = app.current_event
    return json_response(404, {"error": "not_found", "message": f"no route {event.http_method} {event.path[:200]}"})


@app.exception_handler(Exception)
def unexpected(error: Exception):
    request_id = app.current_event.request_context.request_id
    if aws.is_transient(error):
        # An outage or overload on a read: not the caller's fault, and worth retrying elsewhere.
        logger.warning("dependency unavailable", extra={"error": repr(error)})
        return json_response(
            503,
            {"error": "unavailable", "message": "temporarily unavailable; retry", "request_id": request_id},
            {"Retry-After": str(writing.RETRY_AFTER_SECONDS)},
        )
    # A bug or a misconfiguration, never the caller's fault: log it whole, answer without internals.
    logger.exception("unhandled error")
    return json_response(500, {"error": "internal", "message": "internal error", "request_id": request_id})


# A path every route could match: non-empty segments of printable characters. The router would
# read "/posts//" and "/posts/\n" as "/posts" (it strips a trailing slash and its `$` matches
# before a newline), answering a list where the caller named a post.
_ROUTABLE_PATH = re.compile(r"/|(/[^/\x00-\x1f\x7f]+)+")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict, context: Any) -> dict:
    with deadline.within(context, ANSWER_RESERVE_SECONDS):
        path = event.get("path") or "/"
        if not _ROUTABLE_PATH.fullmatch(path):
            body = {"error": "not_found", "message": f"no route {event.get('httpMethod')} {path[:200]}"}
            headers = {"Content-Type": "application/json", **cors.headers_for(event)}
            return {"statusCode": 404, "headers": headers, "body": json.dumps(body)}
        return app.resolve(event, context)
