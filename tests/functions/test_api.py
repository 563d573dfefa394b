"""The API handler under moto: every route, every error status, the 202 write-retry path."""

import base64
import json

import pytest

from verify.harness import call_api, read_stream, reset_handler_state

ORIGIN = "https://www.example.com"
JSON = {"Content-Type": "application/json"}


def create_post(title="Hello", body="World", **extra):
    status, post, headers = call_api("POST", "/posts", body={"title": title, "body": body, **extra})
    assert status == 201, post
    return post, headers


# --- health -----------------------------------------------------------------------------------


def test_health_is_ok_with_the_local_region(regional):
    status, body, headers = call_api("GET", "/health")
    assert (status, body) == (200, {"status": "ok", "region": "us-east-1"})
    assert headers["Cache-Control"] == "no-store"


def test_the_health_function_answers_the_sites_origin_cors_and_no_other(regional):
    """The page probes each region's /health from the browser (site/client.js); the deployed
    route is the health function's (api/health_app.py), not the router's."""
    from api.health_app import handler

    from verify.harness import FakeContext, api_event

    answer = handler(api_event("GET", "/health", headers={"Origin": ORIGIN}), FakeContext(function_name="health"))
    assert answer["statusCode"] == 200 and answer["headers"]["Access-Control-Allow-Origin"] == ORIGIN
    other = handler(api_event("GET", "/health", headers={"Origin": "https://evil.example"}), FakeContext())
    assert "Access-Control-Allow-Origin" not in other["headers"]


def test_health_answers_503_when_the_region_is_drained(regional):
    regional.ssm.put_parameter(Name="/serverless-dr/test/drain", Value="true", Type="String", Overwrite=True)
    status, body, _ = call_api("GET", "/health")
    assert status == 503
    assert body["status"] == "draining" and body["region"] == "us-east-1"
    assert "'true'" in body["reason"]


def test_health_answers_503_when_the_table_is_unreachable(regional):
    regional.table.delete()
    status, body, _ = call_api("GET", "/health")
    assert status == 503
    assert body == {"status": "unhealthy", "region": "us-east-1", "reason": "table unreachable: ResourceNotFoundException"}


def test_health_caches_the_drain_flag_for_a_few_seconds(regional):
    assert call_api("GET", "/health")[0] == 200
    regional.ssm.put_parameter(Name="/serverless-dr/test/drain", Value="true", Type="String", Overwrite=True)
    assert call_api("GET", "/health")[0] == 200  # cached
    reset_handler_state()  # as if the cache period passed
    assert call_api("GET", "/health")[0] == 503


# --- posts ------------------------------------------------------------------------------------


def test_create_post_stamps_region_time_and_version(regional):
    post, headers = create_post(tags=["dr"])
    assert post["version"] == 1 and post["origin_region"] == "us-east-1"
    assert post["updated_at"].endswith("Z") and post["tags"] == ["dr"]
    stored = regional.table.get_item(Key={"pk": f"POST#{post['id']}", "sk": "POST"})["Item"]
    assert stored["gsi1pk"] == "POSTS" and stored["gsi1sk"].endswith(post["id"])
    # The write's fate is recorded with it, under the id the answer carries.
    status, fate, _ = call_api("GET", f"/writes/{headers['X-Write-Id']}")
    assert status == 200 and fate["state"] == "applied" and fate["status"] == 201 and fate["result"]["id"] == post["id"]


def test_get_post_sums_view_counters_of_every_region(regional):
    post, _ = create_post()
    for region, count in (("us-east-1", 3), ("us-west-2", 4)):
        regional.table.put_item(Item={"pk": f"VIEWS#{post['id']}", "sk": f"REGION#{region}", "count": count})
    status, body, _ = call_api("GET", f"/posts/{post['id']}")
    assert status == 200 and body["views"] == 7 and body["title"] == "Hello"


def test_get_unknown_post_is_404(regional):
    assert call_api("GET", "/posts/" + "0" * 32)[:2] == (404, {"error": "not_found", "message": f"post {'0' * 32} not found"})
    assert call_api("GET", "/posts/not-an-id")[0] == 404


def test_list_posts_is_newest_first_and_paginates(regional):
    ids = [create_post(title=f"t{i}")[0]["id"] for i in range(3)]
    status, page, _ = call_api("GET", "/posts", query={"limit": "2"})
    assert status == 200 and [p["id"] for p in page["items"]] == ids[:0:-1]
    status, rest, _ = call_api("GET", "/posts", query={"limit": "2", "cursor": page["next_cursor"]})
    assert [p["id"] for p in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "51"}, {"limit": "two"}, {"cursor": "bm90LWEtY3Vyc29y"}, {"cursor": "%%%"}]
)
def test_bad_listing_parameters_are_400(regional, query):
    status, body, _ = call_api("GET", "/posts", query=query)
    assert status == 400 and body["error"] == "bad_request"


def test_forged_cursor_with_other_keys_is_400(regional):
    forged = base64.urlsafe_b64encode(json.dumps({"pk": "SUB#a@b.co"}).encode()).decode()
    assert call_api("GET", "/posts", query={"cursor": forged})[0] == 400


def test_update_bumps_version_and_stale_update_is_409(regional):
    post, _ = create_post()
    status, updated, _ = call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "Hi"})
    assert status == 200 and updated["version"] == 2 and updated["title"] == "Hi" and updated["body"] == "World"
    status, body, _ = call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "Late"})
    assert status == 409 and body["error"] == "conflict" and body["version"] == 2


def test_update_validation_names_the_failing_fields(regional):
    post, _ = create_post()
    status, body, _ = call_api("PUT", f"/posts/{post['id']}", body={"title": "no version"})
    assert status == 422 and body["fields"] == ["version"] and "version" in body["message"]
    status, body, _ = call_api("PUT", f"/posts/{post['id']}", body={"version": 1, "title": "x" * 201})
    assert status == 422 and body["fields"] == ["title"]
    assert call_api("PUT", "/posts/" + "f" * 32, body={"version": 1, "title": "x"})[0] == 404


def test_delete_needs_the_current_version(regional):
    post, _ = create_post()
    status, body, _ = call_api("DELETE", f"/posts/{post['id']}")
    assert status == 422 and body["fields"] == ["version"]
    assert call_api("DELETE", f"/posts/{post['id']}", query={"version": "7"})[0] == 409
    assert call_api("DELETE", f"/posts/{post['id']}", query={"version": "1"})[0] == 204
    assert call_api("GET", f"/posts/{post['id']}")[0] == 404
    assert call_api("GET", "/posts")[1]["items"] == []
    assert call_api("DELETE", f"/posts/{post['id']}", query={"version": "2"})[0] == 404


# --- subscribers ------------------------------------------------------------------------------


def test_subscribe_stores_origin_region_and_is_idempotent(regional):
    status, body, _ = call_api("POST", "/subscribers", body={"email": "Reader@Example.com"})
    assert (status, body) == (201, {"email": "reader@example.com", "status": "subscribed"})
    item = regional.table.get_item(Key={"pk": "SUB#reader@example.com", "sk": "SUB"})["Item"]
    assert item["origin_region"] == "us-east-1" and item["version"] == 1 and "updated_at" in item
    assert call_api("POST", "/subscribers", body={"email": "reader@example.com"})[:2] == (
        200,
        {"email": "reader@example.com", "status": "already_subscribed"},
    )


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "", "x" * 250 + "@example.com"])
def test_bad_email_is_422_naming_the_field(regional, email):
    status, body, _ = call_api("POST", "/subscribers", body={"email": email})
    assert status == 422 and body["fields"] == ["email"]


# --- uploads and events -----------------------------------------------------------------------


def test_upload_returns_a_presigned_post_limited_in_size_and_type(regional):
    status, body, _ = call_api("POST", "/uploads", body={"content_type": "image/png", "size": 1000})
    assert status == 201
    assert body["key"].startswith("uploads/") and body["key"].endswith(".png")
    assert body["fields"]["Content-Type"] == "image/png" and body["fields"]["key"] == body["key"]
    policy = json.loads(base64.b64decode(body["fields"]["policy"]))
    assert ["content-length-range", 1, 5 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    assert "media-us-east-1" in body["url"]


def test_upload_too_large_is_413_and_a_type_not_in_the_schema_is_422_naming_it(regional):
    status, body, _ = call_api("POST", "/uploads", body={"content_type": "image/png", "size": 5 * 1024 * 1024 + 1})
    assert status == 413 and body["error"] == "payload_too_large"
    for content_type in ("application/x-msdownload", "IMAGE/PNG"):
        status, body, _ = call_api("POST", "/uploads", body={"content_type": content_type, "size": 10})
        assert status == 422 and body["fields"] == ["content_type"], content_type


def test_page_view_goes_to_the_stream_as_a_record_of_the_analytics_schema(regional):
    import fastjsonschema
    from shared.page_view import record_schema

    post_id, reader = "a" * 32, "b" * 32
    assert call_api("POST", "/events", body={"post_id": post_id})[:2] == (202, {"status": "accepted"})
    assert call_api("POST", "/events", body={"post_id": post_id, "reader": reader})[0] == 202
    bare, with_reader = [json.loads(r["Data"]) for r in read_stream(regional.kinesis, "events")]
    assert bare["post_id"] == post_id and bare["region"] == "us-east-1" and bare["type"] == "view"
    assert bare["reader"] is None and with_reader["reader"] == reader
    assert bare["view_id"] != with_reader["view_id"]  # each request its own view
    # Every field the record schema (and so the Glue table) declares, and nothing else.
    schema = record_schema()
    assert set(bare) == set(schema["properties"])
    fastjsonschema.compile({**schema, "properties": {**schema["properties"], "reader": {"type": ["string", "null"]}}})(bare)
    fastjsonschema.compile(schema)(with_reader)


# --- request-level errors ---------------------------------------------------------------------


def test_wrong_content_type_is_415(regional):
    status, body, _ = call_api("POST", "/posts", body='{"title": "a", "body": "b"}', headers={"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in body["message"]


def test_malformed_json_is_400(regional):
    status, body, _ = call_api("POST", "/posts", body="{not json", headers=JSON)
    assert status == 400 and body["message"].startswith("body is not valid JSON")


def test_unknown_property_is_422_naming_it(regional):
    status, body, _ = call_api("POST", "/posts", body={"title": "a", "body": "b", "admin": True})
    assert status == 422 and body["fields"] == ["admin"]


def test_unknown_route_is_404(regional):
    status, body, _ = call_api("GET", "/admin")
    assert status == 404 and body["message"] == "no route GET /admin"


def test_bad_idempotency_key_is_400(regional):
    status, body, _ = call_api("POST", "/subscribers", body={"email": "a@example.com"}, headers={"Idempotency-Key": "x"})
    assert status == 400 and "Idempotency-Key" in body["message"]


def test_cors_admits_only_the_site_origin(regional):
    _, _, headers = call_api("GET", "/posts", headers={"Origin": ORIGIN})
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    _, _, headers = call_api("GET", "/posts", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in headers


def test_update_without_any_change_is_422_naming_the_changeable_fields(regional):
    post, _ = create_post()
    status, body, _ = call_api("PUT", f"/posts/{post['id']}", body={"version": 1})
    assert status == 422 and body["fields"] == ["title", "body", "tags", "premium"]
    assert body["message"] == "at least one of title, body, tags, premium must be given"


def test_thumbnail_is_404_until_made_then_a_presigned_url(regional):
    status, upload, _ = call_api("POST", "/uploads", body={"content_type": "image/jpeg", "size": 2000})
    assert status == 201 and upload["thumbnail"] == upload["key"].removeprefix("uploads/").replace(".jpg", "") + ".jpg"
    status, body, _ = call_api("GET", f"/thumbnails/{upload['thumbnail']}")
    assert status == 404 and body["error"] == "not_found"
    regional.s3.put_object(Bucket="media-us-east-1", Key=f"thumbnails/{upload['thumbnail']}", Body=b"jpeg")
    status, body, headers = call_api("GET", f"/thumbnails/{upload['thumbnail']}")
    assert status == 200 and body["key"] == f"thumbnails/{upload['thumbnail']}" and "X-Amz-Signature=" in body["url"]
    assert headers["Cache-Control"] == "no-store"
    assert call_api("GET", "/thumbnails/..%2Fsecrets.jpg")[0] == 404


# --- the contract -------------------------------------------------------------------------------


@pytest.mark.breaks_the_api
def test_an_answer_the_document_does_not_declare_is_caught_by_the_contract_check(regional):
    """tests/functions/conftest.py holds every answer to the OpenAPI document; here a handler made
    to answer what it never declared (418, and a post without its title) is named."""
    from unittest import mock

    from api import posts
    from api.errors import ApiError

    from verify import harness

    post, _ = create_post()
    with mock.patch.object(posts, "get_post", side_effect=ApiError(418, "teapot", "short and stout")):
        assert call_api("GET", f"/posts/{post['id']}")[0] == 418
    with mock.patch.object(posts, "get_post", return_value={k: v for k, v in post.items() if k != "title"}):
        assert call_api("GET", f"/posts/{post['id']}")[0] == 200
    assert harness.contract_problems == [
        "GET /posts/{id}: 418 is not declared (declared: 200, 404, 429, 503)",
        "GET /posts/{id}: 200 body at (root): 'title' is a required property",
    ]


def test_a_path_with_an_empty_segment_or_a_control_character_is_no_route_not_the_list(regional):
    """Found by the parameter fuzz: the router read these as /posts and answered the list."""
    for path in ("/posts//", "/posts/\n", "/posts\n", "/posts/\r"):
        status, body, _ = call_api("GET", path)
        assert (status, body["error"]) == (404, "not_found"), path
    assert call_api("GET", "/posts")[0] == 200
