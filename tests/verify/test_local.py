"""The local run (`make local`, verify/local): its scripted outage passes from a fresh process and
leaves nothing running, and its HTTP fronts answer as the contract says, faults included."""

from __future__ import annotations

import json
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _running_in_group(group: int) -> list[int]:
    """Processes of process group `group` that are not finished (zombies are finished)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_smoke_run_passes_from_a_fresh_process_and_leaves_nothing_running():
    """`python -m verify.local --smoke`, started by tests/conftest.py when collection ends."""
    from tests.conftest import smoke_files

    report, pid_file, log = smoke_files()
    # Waits as long as the run lives (a slow machine is not a failure; its own figures below are
    # the timing claims), with a bound so a hung run cannot hang the suite.
    deadline = time.monotonic() + 600
    while not report.exists():
        assert time.monotonic() < deadline, "the smoke run wrote no report in 600 s"
        if pid_file.exists() and not _alive(int(pid_file.read_text())) and not report.exists():
            pytest.fail("the smoke run exited without a report:\n" + log.read_text()[-2000:])
        time.sleep(0.2)
    outcome = json.loads(report.read_text())
    assert outcome["passed"], outcome["error"]
    figures = outcome["figures"]
    assert figures["writes_lost"] == 0
    assert figures["primary_after_outage"] == "us-west-2"
    # The write taken during the outage lands once the surviving region holds the lease: within
    # the local lease's write RTO (shared/failover_timing.py), not never.
    from verify.harness import configure
    from verify.local.__main__ import LOCAL_LEASE_SECONDS

    configure()
    from shared.failover_timing import write_rto_seconds

    assert figures["write_applied_after_kill_s"] <= write_rto_seconds(LOCAL_LEASE_SECONDS) + 2
    exit_deadline = time.monotonic() + 30
    while _running_in_group(outcome["pid"]):  # it exits right after the report: nothing stays
        assert time.monotonic() < exit_deadline, f"left running: {_running_in_group(outcome['pid'])}"
        time.sleep(0.1)


def test_bad_arguments_are_one_line_errors(capsys):
    from verify.local.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["--lease-seconds", "3"])
    assert exited.value.code == 2 and "--lease-seconds: 3 is under 10" in capsys.readouterr().err


@pytest.fixture(scope="module")
def blog():
    from verify.local.__main__ import local_blog

    with local_blog(port=0, lag=0.05, lease_seconds=10) as (control, origin, key):
        yield control, origin, key


def _request(url: str, method: str = "GET", body=None, headers=None, timeout: float = 5, origin: str | None = None):
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **({"Origin": origin} if origin else {}), **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_fronts_answer_within_the_contract_faults_included(blog):
    from verify.api_contract import Contract, blog_document

    control, origin, key = blog
    regions = control.status()["regions"]
    first = next(iter(regions))
    url = regions[first]["url"]
    contract = Contract(blog_document())
    answers = [
        ("GET", "/posts", _request(url + "/posts", origin=origin)),
        ("POST", "/posts", _request(url + "/posts", "POST", {"title": "t"}, {"x-api-key": key}, origin=origin)),
        ("POST", "/posts", _request(url + "/posts", "POST", {"title": "t", "body": "b"}, origin=origin)),
        ("GET", "/posts/" + "0" * 32, _request(url + "/posts/" + "0" * 32, origin=origin)),
    ]
    control.act(first, "throttle")
    answers.append(("GET", "/posts", _request(url + "/posts", origin=origin)))
    control.act(first, "restore")
    statuses = [answer[0] for _, _, answer in answers]
    assert statuses == [200, 400, 403, 404, 429]
    for method, path, (status, headers, body) in answers:
        response = {"statusCode": status, "body": body.decode()}
        assert contract.problems(method, path, response) == [], (method, path, status, body)
        assert headers.get("Access-Control-Allow-Origin") == origin, (method, path, status)  # the page may read it
    # TRACE, and any method a path does not declare: the gateway's 405 with what it allows.
    status, headers, _ = _request(url + "/posts", "TRACE")
    assert status == 405 and set(headers["Allow"].split(",")) == {"GET", "POST", "OPTIONS"}


def test_reads_go_through_the_local_edge_which_caches_them_and_fails_over_as_the_deploys_does(blog):
    """The page's config names the edge (as the deploy's does); a read through it is answered by
    a region, again from its cache, and with that region killed by the other."""
    control, origin, _ = blog
    status, _, page = _request(origin + "/")
    config = json.loads(re.search(rb'id="site-config">(.*?)</script>', page, re.S).group(1))
    edge = control.status()["edge"]
    assert status == 200 and config["edge"] == edge and config["edgeCacheSeconds"] > 0
    path = f"/posts?v={uuid.uuid4().hex}"  # `v` is in the cache key: a fresh answer
    first = _request(edge + path, origin=origin)
    regions = list(control.status()["regions"])
    for name in regions:
        control.act(name, "kill")
    try:
        again = _request(edge + path, origin=origin)  # every region refuses: only the cache can answer
        assert first[0] == again[0] == 200 and again[2] == first[2]
        control.act(regions[1], "restore")  # the first still refuses: the edge asks the other
        assert _request(edge + f"/posts?v={uuid.uuid4().hex}", origin=origin)[0] == 200
    finally:
        for name in regions:
            control.act(name, "restore")


def test_a_killed_region_refuses_and_a_hung_one_never_answers(blog):
    control, _, _ = blog
    regions = control.status()["regions"]
    name = list(regions)[1]
    url = regions[name]["url"]
    port = int(url.rsplit(":", 1)[1])
    control.act(name, "hang")
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        _request(url + "/health", timeout=0.5)
    control.act(name, "kill")
    with pytest.raises(urllib.error.URLError) as refused:
        _request(url + "/health")
    assert isinstance(refused.value.reason, ConnectionRefusedError)
    control.act(name, "restore")
    assert int(control.status()["regions"][name]["url"].rsplit(":", 1)[1]) == port  # the same endpoint again
    assert _request(url + "/health")[0] == 200


def test_the_control_refuses_an_unknown_region_or_action_in_one_line(blog):
    control, origin, _ = blog
    status, _, body = _request(origin + "/control/regions/mars/kill", "POST")
    assert status == 400 and json.loads(body)["message"].startswith("region: 'mars' is not one of")
    status, _, body = _request(origin + f"/control/regions/{next(iter(control.status()['regions']))}/explode", "POST")
    assert status == 400 and "action: 'explode'" in json.loads(body)["message"]


def test_a_photo_uploads_with_its_grant_and_its_thumbnail_is_served_and_replicated(blog):
    import io
    import time

    from PIL import Image
    from urllib3 import encode_multipart_formdata

    control, origin, _ = blog
    regions = control.status()["regions"]
    first, second = list(regions)
    url = regions[first]["url"]
    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(picture, format="PNG")
    data = picture.getvalue()
    status, _, body = _request(url + "/uploads", "POST", {"content_type": "image/png", "size": len(data)}, origin=origin)
    grant = json.loads(body)
    assert status == 201 and grant["url"] == f"{url}/_s3/media-{first}/"  # where the browser can send it

    def post(fields, content=data):
        form, content_type = encode_multipart_formdata([*fields.items(), ("file", ("photo.png", content, "image/png"))])
        request = urllib.request.Request(grant["url"], data=form, method="POST", headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert post({**grant["fields"], "Content-Type": "image/gif"}) == 403  # the policy's conditions hold
    assert post(grant["fields"], content=data + b"x" * (grant["max_bytes"] + 1 - len(data))) == 403
    assert post(grant["fields"]) == 204
    status, _, body = _request(f"{url}/thumbnails/{grant['thumbnail']}", origin=origin)
    assert status == 200
    status, headers, thumbnail = _request(json.loads(body)["url"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumbnail)) as image:
        assert max(image.size) == 320
    other = regions[second]["url"]
    deadline = time.monotonic() + 10
    while _request(f"{other}/thumbnails/{grant['thumbnail']}")[0] != 200:  # replicated, as media are
        assert time.monotonic() < deadline, "the thumbnail never reached the other region"
        time.sleep(0.2)


def test_the_generated_client_fails_over_a_hung_throttled_or_write_losing_region_and_writes_once(blog):
    """The generated client over the regions' URLs (as a stack's apiDocument lists them), the
    first of them hung, throttled, or answering writes 202 and losing them; its write through a
    dead primary is the smoke run's (above)."""

    import httpx

    sys.path.insert(0, str(ROOT / "clients" / "python"))
    from serverless_dr_client.api.default import get_posts, post_posts
    from serverless_dr_client.models import PostCreate
    from serverless_dr_failover import failover_client

    control, _, key = blog
    regions = control.status()["regions"]
    first, second = list(regions)
    servers = [regions[first]["url"], regions[second]["url"]]
    timings = {}
    for fault in ("hang", "throttle", "lose-writes"):
        api = failover_client(
            servers,
            api_key=key,
            attempt_timeout=httpx.Timeout(1.0),
            hedge_seconds=0.2,
            unknown_write_seconds=0.5,
            poll_seconds=0.1,
        )
        control.act(first, fault)
        try:
            started = time.monotonic()
            assert get_posts.sync(client=api).items
            timings[f"{fault} read"] = time.monotonic() - started
            title = f"Written while {first} is told to {fault}"
            started = time.monotonic()
            answer = post_posts.sync_detailed(client=api, body=PostCreate(title=title, body="once"))
            timings[f"{fault} write"] = time.monotonic() - started
            assert answer.status_code == 201, (fault, answer.status_code, answer.content[:200])
        finally:
            control.act(first, "restore")
        titles = [p.title for p in get_posts.sync(client=failover_client([regions[second]["url"]])).items]
        assert titles.count(title) == 1, (fault, titles)  # applied, and once
    # A hung region costs the hedge's delay (0.2 s here); a throttling one, a round trip; a lost
    # 202, the client's patience with an unknown write id (0.5 s here) and a resend.
    assert timings["hang read"] < 0.8 and timings["throttle read"] < 1.0 and timings["throttle write"] < 2.0, timings
    assert timings["lose-writes write"] < 3.0, timings


# --- paid content in the browser ----------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.skip("no Chromium here (CI installs Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def _reader_page(chromium, origin: str, email: str | None):
    """A fresh browser (its own cookies) on the blog, signed in as `email` unless None."""
    from verify.local.premium import PASSWORD

    context = chromium.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(origin + "/#/account")
    page.wait_for_selector("body[data-ready=true]")
    if email:
        page.fill("#reader-email", email)
        page.fill("#reader-password", PASSWORD)
        page.click("#sign-in-form button")
        page.wait_for_selector("#signed-in:not([hidden])")
    return context, page, errors


def _open_premium_post(page, origin: str) -> None:
    page.goto(origin + "/#/")
    page.click("text=Premium: the outage, filmed")
    page.wait_for_selector("#post-premium:not([hidden])")


def _media_shown(page) -> bool:
    page.wait_for_selector("#premium-media:not([hidden]) img")
    return page.eval_on_selector("#premium-media img", "img => img.complete && img.naturalWidth > 0")


def test_a_reader_unlocks_a_post_sees_its_media_and_keeps_them_with_the_home_region_killed(blog, chromium):
    """The page against the real handlers (moto's pool, the session, the write path) and the
    local CloudFront check of the cookies: one reader is refused, one unlocks and sees the
    media, then the home region (the pool's) is killed and the signed-in reader still gets
    them, from the other region's bucket and a session issued there; a new sign-in is told it
    must wait."""
    control, origin, _ = blog
    home = next(iter(control.status()["regions"]))
    other_context, other, other_errors = _reader_page(chromium, origin, "other@example.com")
    reader_context, reader, reader_errors = _reader_page(chromium, origin, "reader@example.com")
    try:
        _open_premium_post(other, origin)
        other.click("#premium-open")
        other.wait_for_selector("#premium-status.refused")
        assert other.inner_text("#premium-status") == "You have not unlocked this post."
        assert other.is_hidden("#premium-media")

        _open_premium_post(reader, origin)
        reader.click("#premium-open")
        reader.wait_for_selector("#premium-unlock:not([hidden])")
        reader.click("#premium-unlock")
        assert _media_shown(reader)
        assert reader.inner_text("#premium-status") == "Unlocked: the media below are yours."
        # The other reader's browser holds no cookie that opens them.
        assert (
            other.evaluate(
                "async () => (await fetch(location.origin + '/premium/' + location.hash.split('/')[2] + '/index.json')).status"
            )
            == 403
        )

        control.act(home, "kill")
        _open_premium_post(reader, origin)
        reader.click("#premium-open")  # a new session: the other region, the pool's keys kept in its table
        assert _media_shown(reader)
        assert reader.inner_text("#premium-status") == "Unlocked: the media below are yours."

        late_context, late, _ = _reader_page(chromium, origin, None)
        late.fill("#reader-email", "other@example.com")
        late.fill("#reader-password", "whatever-it-is-1A")
        late.click("#sign-in-form button")
        late.wait_for_selector("#sign-in-status.refused")
        assert late.inner_text("#sign-in-status").startswith("Sign-in is unavailable right now")
        late_context.close()
    finally:
        control.act(home, "restore")
        other_context.close()
        reader_context.close()
    assert other_errors == [] and reader_errors == []
