"""The generated client of the API and the transport that fails it over between regions.

Scripted regions (httpx.MockTransport) kill, hang, throttle and fail a region and lose a write
it accepted; the generated client must get the answer a healthy region gives, with one
Idempotency-Key on every attempt of a write and never a write applied twice. The generated code
must be what the current OpenAPI document generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "clients" / "python"))

from serverless_dr_client.api.default import get_posts_id, post_posts  # noqa: E402
from serverless_dr_client.models import Post, PostCreate  # noqa: E402
from serverless_dr_failover import FailoverTransport, failover_client  # noqa: E402

from verify.harness import FakeClock  # noqa: E402

A, B = "https://api.us-east-1.example.com/v1", "https://api.us-west-2.example.com/v1"
POST_ID = "a" * 32
POST = {"id": POST_ID, "title": "t", "body": "b", "tags": [], "created_at": "2026-12-05T00:00:00Z", "version": 1}


class Regions:
    """Each region's behaviour (a function of the request), and every request each one saw."""

    def __init__(self, **behaviour):
        self.behaviour = behaviour  # host -> callable(request) -> httpx.Response (or raises)
        self.seen: list[tuple[str, str, str, str | None]] = []  # (host, method, path, Idempotency-Key)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.split(".")[1]
        self.seen.append((host, request.method, request.url.path, request.headers.get("Idempotency-Key")))
        return self.behaviour[host.replace("-", "_")](request)


def client(regions: Regions, clock: FakeClock | None = None, **options):
    clock = clock or FakeClock()
    transport = httpx.MockTransport(regions)
    return failover_client([A, B], api_key="key", transport=transport, clock=clock, sleep=clock.sleep, **options)


def created(_request):
    return httpx.Response(201, json=POST, headers={"X-Write-Id": "w1"})


def accepted() -> httpx.Response:
    """A write deferred: 202 with where to read its fate."""
    return httpx.Response(
        202,
        json={"status": "accepted", "write_id": "w1", "location": "/v1/writes/w1"},
        headers={"Location": "/v1/writes/w1", "X-Write-Id": "w1"},
    )


def refused(request):
    raise httpx.ConnectError("connection refused", request=request)


def hangs(request):
    raise httpx.ReadTimeout("no answer within the attempt's timeout", request=request)


def test_a_killed_region_is_passed_over_and_the_write_keeps_its_key():
    regions = Regions(us_east_1=refused, us_west_2=created)
    post = post_posts.sync(client=client(regions), body=PostCreate(title="t", body="b"))
    assert isinstance(post, Post) and post.id == POST_ID
    keys = {key for *_, key in regions.seen}
    assert [host for host, *_ in regions.seen] == ["us-east-1", "us-west-2"] and len(keys) == 1 and None not in keys


@pytest.mark.parametrize(
    "failing",
    [
        hangs,
        lambda _r: httpx.Response(503, json={"error": "unavailable", "message": "m"}),
        lambda _r: httpx.Response(502, text="<html>bad gateway</html>"),
        lambda _r: httpx.Response(429, json={"error": "THROTTLED", "message": "Too Many Requests"}, headers={"Retry-After": "2"}),
    ],
    ids=["hung", "503", "502-html", "429"],
)
def test_a_failing_region_is_left_and_the_next_answers(failing):
    regions = Regions(us_east_1=failing, us_west_2=lambda _r: httpx.Response(200, json=POST))
    api = client(regions)
    assert get_posts_id.sync(POST_ID, client=api).id == POST_ID
    assert get_posts_id.sync(POST_ID, client=api).id == POST_ID  # the second goes straight to us-west-2
    assert [host for host, *_ in regions.seen] == ["us-east-1", "us-west-2", "us-west-2"]


def test_the_region_that_answered_stays_current_and_a_left_one_is_still_the_last_resort():
    clock = FakeClock()
    regions = Regions(us_east_1=refused, us_west_2=lambda _r: httpx.Response(200, json=POST))
    api = client(regions, clock, down_seconds=30)
    get_posts_id.sync(POST_ID, client=api)
    regions.behaviour["us_east_1"] = lambda _r: httpx.Response(200, json=POST)
    clock.now += 40  # us-east-1's time out is over: still, us-west-2 answers, so it stays
    get_posts_id.sync(POST_ID, client=api)
    regions.behaviour["us_west_2"] = refused
    get_posts_id.sync(POST_ID, client=api)  # and when it goes, us-east-1 is there
    assert [host for host, *_ in regions.seen] == ["us-east-1", "us-west-2", "us-west-2", "us-west-2", "us-east-1"]


def test_a_deferred_write_is_followed_to_its_own_answer():
    fates = iter(["pending", "pending", "applied"])

    def region(request):
        if request.method == "POST":
            return accepted()
        state = next(fates)
        return httpx.Response(
            200, json={"write_id": "w1", "state": state, **({"status": 201, "result": POST} if state == "applied" else {})}
        )

    regions = Regions(us_east_1=region, us_west_2=refused)
    response = post_posts.sync_detailed(client=client(regions), body=PostCreate(title="t", body="b"))
    assert response.status_code == 201 and response.parsed.id == POST_ID and response.headers["X-Write-Id"] == "w1"
    assert [path for _, _, path, _ in regions.seen] == ["/v1/posts", *["/v1/writes/w1"] * 3]


def test_a_write_the_accepting_region_lost_is_sent_again_elsewhere_with_the_same_key():
    def loses(request):
        if request.method == "POST":
            return accepted()
        return httpx.Response(404, json={"error": "not_found", "message": "no such write"})

    regions = Regions(us_east_1=loses, us_west_2=created)
    response = post_posts.sync_detailed(client=client(regions), body=PostCreate(title="t", body="b"))
    assert response.status_code == 201
    writes = [(host, key) for host, method, _, key in regions.seen if method == "POST"]
    assert [host for host, _ in writes] == ["us-east-1", "us-west-2"] and writes[0][1] == writes[1][1]


def test_a_rejected_deferred_write_is_the_callers_error_not_a_202():
    def region(request):
        if request.method == "POST":
            return accepted()
        return httpx.Response(
            200, json={"write_id": "w1", "state": "rejected", "status": 409, "reason": "a post with this id exists"}
        )

    response = post_posts.sync_detailed(
        client=client(Regions(us_east_1=region, us_west_2=refused)), body=PostCreate(title="t", body="b")
    )
    assert response.status_code == 409 and json.loads(response.content)["message"] == "a post with this id exists"


def test_with_every_region_down_the_caller_gets_the_failure():
    with pytest.raises(httpx.ConnectError):
        get_posts_id.sync(POST_ID, client=client(Regions(us_east_1=refused, us_west_2=refused)))
    answer = get_posts_id.sync_detailed(
        POST_ID,
        client=client(Regions(us_east_1=refused, us_west_2=lambda _r: httpx.Response(503, json={"error": "u", "message": "m"}))),
    )
    assert answer.status_code == 503


E = "https://read.edge.example.com"


def test_reads_go_to_the_edge_writes_never_and_the_writer_reads_past_it_for_its_ttl():
    clock = FakeClock()
    regions = Regions(edge=lambda _r: httpx.Response(200, json=POST), us_east_1=created, us_west_2=created)
    api = client(regions, clock, edge=E, edge_cache_seconds=240)
    assert get_posts_id.sync(POST_ID, client=api).id == POST_ID
    assert regions.seen[-1][:2] == ("edge", "GET")
    post_posts.sync(client=api, body=PostCreate(title="t", body="b"))
    assert regions.seen[-1][:2] == ("us-east-1", "POST")  # a write never goes to the edge
    regions.behaviour["us_east_1"] = lambda _r: httpx.Response(200, json=POST)
    get_posts_id.sync(POST_ID, client=api)
    assert regions.seen[-1][:2] == ("us-east-1", "GET")  # the writer reads past the cache...
    clock.sleep(240)
    get_posts_id.sync(POST_ID, client=api)
    assert regions.seen[-1][:2] == ("edge", "GET")  # ...until the edge's copy is fresh


@pytest.mark.parametrize("edge_fails", [refused, lambda _r: httpx.Response(502), lambda _r: httpx.Response(403)])
def test_an_edge_that_fails_is_passed_over_to_the_regions(edge_fails):
    regions = Regions(edge=edge_fails, us_east_1=lambda _r: httpx.Response(200, json=POST), us_west_2=created)
    assert get_posts_id.sync(POST_ID, client=client(regions, edge=E)).id == POST_ID
    assert [host for host, *_ in regions.seen] == ["edge", "us-east-1"]


def test_no_servers_is_a_one_line_error():
    with pytest.raises(ValueError, match="servers: at least one URL"):
        FailoverTransport([])


def test_the_committed_client_is_what_the_document_generates(tmp_path):
    from ops import client_sdk

    generated = client_sdk.generate(tmp_path / client_sdk.PACKAGE)
    assert client_sdk.files(generated) == client_sdk.files(client_sdk.OUTPUT), "run: sdr client"


def test_a_slow_region_is_hedged_the_first_good_answer_wins_and_a_write_keeps_one_key():
    import threading
    import time

    release = threading.Event()

    def slow(request):
        release.wait(2)  # hangs until the test is done with it
        return created(request)

    regions = Regions(us_east_1=slow, us_west_2=created)
    api = client(regions, hedge_seconds=0.1)
    started = time.monotonic()
    response = post_posts.sync_detailed(client=api, body=PostCreate(title="t", body="b"))
    elapsed = time.monotonic() - started
    release.set()
    assert response.status_code == 201 and elapsed < 1.0, elapsed
    writes = [(host, key) for host, method, _, key in regions.seen if method == "POST"]
    assert [host for host, _ in writes] == ["us-east-1", "us-west-2"] and writes[0][1] == writes[1][1]
