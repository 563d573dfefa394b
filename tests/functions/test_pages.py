"""Post pages (functions/pages): each post rendered into this region's site bucket from its
replica's stream, as the post is now (never as a record says it was), escaped, cached at the
edge and revalidated by browsers; removed with the post; all rendered again on a deploy."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from verify.harness import FakeContext, call_api

SITE = "site-us-east-1"


@pytest.fixture
def site(regional, monkeypatch):
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=SITE)
    monkeypatch.setenv("SITE_BUCKET", SITE)
    monkeypatch.setenv("PAGE_EDGE_SECONDS", "45")
    return s3


def write_post(title: str, body: str) -> dict:
    status, post, _ = call_api("POST", "/posts", body={"title": title, "body": body})
    assert status == 201, post
    return post


def record(post_id: str, sequence: int, event: str = "MODIFY") -> dict:
    """A stream record of the post's item: only its keys matter to the renderer."""
    keys = {"pk": {"S": f"POST#{post_id}"}, "sk": {"S": "POST"}}
    return {"eventID": f"e{sequence}", "eventName": event, "dynamodb": {"Keys": keys, "SequenceNumber": str(sequence)}}


def page(s3, post_id: str) -> tuple[str, dict] | None:
    try:
        answer = s3.get_object(Bucket=SITE, Key=f"posts/{post_id}")
    except ClientError:
        return None
    return answer["Body"].read().decode(), answer


def render(*records: dict) -> dict:
    from pages.app import handler

    return handler({"Records": list(records)}, FakeContext(timeout_ms=30_000))


def test_a_post_becomes_its_page_escaped_with_the_edge_s_lifetime_and_browsers_revalidating(site):
    post = write_post("Fish & <chips>", 'A post may say <script>alert("x")</script>.\n\n**bold** stays markup.')
    assert render(record(post["id"], 1, "INSERT")) == {"batchItemFailures": []}
    html, answer = page(site, post["id"])
    assert answer["ContentType"] == "text/html; charset=utf-8"
    assert answer["CacheControl"] == "public, max-age=0, s-maxage=45"
    assert "<title>Fish &amp; &lt;chips&gt; — Field Notes</title>" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "**bold** stays markup." in html  # the text as it is: site/post.js shows its markup
    assert '<strong id="region">us-east-1</strong>' in html
    assert f'datetime="{post["created_at"]}"' in html


def test_a_page_follows_the_post_as_it_is_now_whatever_order_or_how_often_records_come(site):
    post = write_post("First title", "text")
    status, edited, _ = call_api("PUT", f"/posts/{post['id']}", body={"title": "Second title", "body": "text", "version": 1})
    assert status == 200, edited
    # The edit's record, then the creation's delivered late and twice: the page stays the edit.
    assert (
        render(record(post["id"], 7), record(post["id"], 3, "INSERT"), record(post["id"], 3, "INSERT"))["batchItemFailures"] == []
    )
    html, _ = page(site, post["id"])
    assert "Second title" in html and "First title" not in html and "(version 2)" in html
    status, _, _ = call_api("DELETE", f"/posts/{post['id']}", query={"version": "2"})
    assert status == 204
    assert render(record(post["id"], 9)) == {"batchItemFailures": []}
    assert page(site, post["id"]) is None
    # Delivered again after the delete: still no page.
    assert render(record(post["id"], 7)) == {"batchItemFailures": []}
    assert page(site, post["id"]) is None


def test_a_page_that_cannot_be_written_now_is_reported_from_its_earliest_record_and_lands_on_redelivery(site, monkeypatch):
    from pages import app

    first, second = write_post("One", "a"), write_post("Two", "b")
    real_client = app.aws.client

    class Refusing:
        def __init__(self, s3):
            self.s3 = s3

        def put_object(self, **kwargs):
            if kwargs["Key"].endswith(second["id"]):
                raise ClientError({"Error": {"Code": "SlowDown"}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject")
            return self.s3.put_object(**kwargs)

        def __getattr__(self, name):
            return getattr(self.s3, name)

    monkeypatch.setattr(app.aws, "client", lambda service, *a, **k: Refusing(real_client(service, *a, **k)))
    records = [record(first["id"], 11, "INSERT"), record(second["id"], 12, "INSERT"), {"eventID": "x", "dynamodb": {"Keys": {}}}]
    assert render(*records) == {"batchItemFailures": [{"itemIdentifier": "12"}]}
    assert page(site, first["id"]) is not None and page(site, second["id"]) is None
    monkeypatch.setattr(app.aws, "client", real_client)
    assert render(*records[1:]) == {"batchItemFailures": []}
    assert "Two" in page(site, second["id"])[0]


def test_rendering_everything_again_renders_each_live_post_and_removes_pages_of_posts_gone(site):
    from pages.app import handler

    kept = [write_post(f"Post {i}", "text") for i in range(3)]
    site.put_object(Bucket=SITE, Key="posts/" + "d" * 32, Body=b"a page of a post deleted while pages were off")
    site.put_object(Bucket=SITE, Key="index.html", Body=b"<!doctype html>")
    assert handler({"render": "all"}, FakeContext(timeout_ms=30_000)) == {"rendered": 3, "removed": 1}
    keys = sorted(o["Key"] for o in site.list_objects_v2(Bucket=SITE)["Contents"])
    assert keys == sorted(["index.html", *(f"posts/{p['id']}" for p in kept)])


# --- stored answers (postPages with the API's read edge) ----------------------------------------

EDGE = "E2STOREDANSWERS"


@pytest.fixture
def stored(site, monkeypatch):
    """The renderer of the region the API edge reads: answers stored, the edge invalidated."""
    from verify.harness import cloudfront_distribution

    monkeypatch.setenv("STORED_ANSWERS", "true")
    monkeypatch.setenv("ANSWER_EDGE_SECONDS", "1800")
    monkeypatch.setenv("EDGE_DISTRIBUTION_ID", cloudfront_distribution(EDGE))
    return site


def stored_answer(s3, post_id: str) -> tuple[dict, dict] | None:
    import json

    try:
        answer = s3.get_object(Bucket=SITE, Key=f"api/posts/{post_id}")
    except ClientError:
        return None
    return json.loads(answer["Body"].read()), answer


def views_record(post_id: str, region: str, sequence: int) -> dict:
    keys = {"pk": {"S": f"VIEWS#{post_id}"}, "sk": {"S": f"REGION#{region}"}}
    return {"eventID": f"v{sequence}", "eventName": "MODIFY", "dynamodb": {"Keys": keys, "SequenceNumber": str(sequence)}}


def publish_views(post_id: str, region: str, count: int) -> None:
    import boto3

    table = boto3.resource("dynamodb", region_name="us-east-1").Table("app-table")
    table.put_item(Item={"pk": f"VIEWS#{post_id}", "sk": f"REGION#{region}", "count": count})


def test_the_stored_answer_is_the_api_s_answer_and_an_edit_invalidates_the_edge_s_copy(stored):
    from verify.harness import invalidated_paths

    post = write_post("Stored", "the body")
    publish_views(post["id"], "us-east-1", 4)
    publish_views(post["id"], "us-west-2", 3)
    assert render(record(post["id"], 1, "INSERT")) == {"batchItemFailures": []}
    answer, headers = stored_answer(stored, post["id"])
    status, api_answer, _ = call_api("GET", f"/posts/{post['id']}")
    assert status == 200 and answer == api_answer and answer["views"] == 7
    assert headers["ContentType"] == "application/json"
    assert headers["CacheControl"] == "public, max-age=0, s-maxage=1800"
    assert invalidated_paths(EDGE) == [[f"/posts/{post['id']}"]]


def test_a_view_count_change_rewrites_the_answer_only_and_invalidates_nothing(stored):
    from verify.harness import invalidated_paths

    post = write_post("Counted", "text")
    assert render(record(post["id"], 1, "INSERT")) == {"batchItemFailures": []}
    stored.delete_object(Bucket=SITE, Key=f"posts/{post['id']}")  # to see whether the page is written again
    publish_views(post["id"], "us-west-2", 11)
    # A counter's record, twice and from two regions' counters: one answer, the sum.
    assert render(views_record(post["id"], "us-west-2", 5), views_record(post["id"], "us-east-1", 6)) == {"batchItemFailures": []}
    assert stored_answer(stored, post["id"])[0]["views"] == 11
    assert page(stored, post["id"]) is None
    assert invalidated_paths(EDGE) == [[f"/posts/{post['id']}"]]  # the creation's, no other


def test_a_deleted_post_loses_its_answer_and_an_edge_failure_is_reported_and_redone(stored, monkeypatch):
    from pages import app

    from verify.harness import invalidated_paths

    post = write_post("Gone soon", "text")
    assert render(record(post["id"], 1, "INSERT")) == {"batchItemFailures": []}
    status, _, _ = call_api("DELETE", f"/posts/{post['id']}", query={"version": "1"})
    assert status == 204
    real_client = app.aws.client

    class Throttled:
        def create_invalidation(self, **kwargs):
            raise ClientError(
                {"Error": {"Code": "Throttling"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "CreateInvalidation"
            )

    monkeypatch.setattr(
        app.aws, "client", lambda service, *a, **k: Throttled() if service == "cloudfront" else real_client(service, *a, **k)
    )
    # The answer is gone, but the edge still holds it: the record is delivered again.
    assert render(record(post["id"], 9)) == {"batchItemFailures": [{"itemIdentifier": "9"}]}
    assert stored_answer(stored, post["id"]) is None
    monkeypatch.setattr(app.aws, "client", real_client)
    assert render(record(post["id"], 9)) == {"batchItemFailures": []}
    assert invalidated_paths(EDGE)[-1] == [f"/posts/{post['id']}"]


def test_rendering_everything_again_stores_every_answer_removes_the_gone_and_invalidates_once(stored):
    from pages.app import handler

    from verify.harness import invalidated_paths

    kept = [write_post(f"Post {i}", "text") for i in range(2)]
    stored.put_object(Bucket=SITE, Key="api/posts/" + "d" * 32, Body=b"{}")
    assert handler({"render": "all"}, FakeContext(timeout_ms=30_000)) == {"rendered": 2, "removed": 0}
    answers = sorted(o["Key"] for o in stored.list_objects_v2(Bucket=SITE, Prefix="api/")["Contents"])
    assert answers == sorted(f"api/posts/{p['id']}" for p in kept)
    assert invalidated_paths(EDGE) == [["/posts/*"]]


def test_without_stored_answers_a_view_change_writes_nothing(site):
    post = write_post("Plain", "text")
    assert render(views_record(post["id"], "us-east-1", 3)) == {"batchItemFailures": []}
    assert stored_answer(site, post["id"]) is None and page(site, post["id"]) is None


def test_a_failed_invalidation_reports_the_numerically_earliest_record(stored, monkeypatch):
    """Sequence numbers are decimal strings of any length: "9" comes before "10"."""
    from pages import app

    one, two = write_post("Nine", "a"), write_post("Ten", "b")
    real_client = app.aws.client

    class Throttled:
        def create_invalidation(self, **kwargs):
            raise ClientError(
                {"Error": {"Code": "Throttling"}, "ResponseMetadata": {"HTTPStatusCode": 400}}, "CreateInvalidation"
            )

    monkeypatch.setattr(
        app.aws, "client", lambda service, *a, **k: Throttled() if service == "cloudfront" else real_client(service, *a, **k)
    )
    assert render(record(two["id"], 10), record(one["id"], 9)) == {"batchItemFailures": [{"itemIdentifier": "9"}]}
