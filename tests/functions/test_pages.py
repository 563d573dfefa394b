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
