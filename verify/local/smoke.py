"""The local run's scripted outage, over HTTP as any client sees it: publish in the first region,
read it from the second once replicated, kill the first, read through the second and write
through the generated client over both (it meets the dead region, sends to the survivor, whose
202 it follows until the survivor holds the write lease and applies it),
restore the first, and find the outage's write in both. Prints the figures; 1 on any failure.
"""

from __future__ import annotations

import collections
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

WAIT_SECONDS = 60.0  # for any one step; far above what each should take (replication lag, one lease)
CLIENTS = Path(__file__).resolve().parents[2] / "clients" / "python"


class SmokeFailure(Exception):
    pass


def call(base: str, method: str, path: str, body: Any = None, *, key: str | None = None) -> tuple[int, Any, dict]:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["x-api-key"] = key
    if method in ("POST", "PUT", "DELETE") and key:
        headers["Idempotency-Key"] = uuid.uuid4().hex
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None, dict(error.headers)


def seed(base: str, key: str, posts) -> list[dict[str, Any]]:
    """A few posts, so the page is not empty: (title, body[, premium]) each; the posts made."""
    made = []
    for title, body, *premium in posts:
        post = {"title": title, "body": body, **({"premium": True} if premium and premium[0] else {})}
        status, answer, _ = call(base, "POST", "/posts", post, key=key)
        if status not in (201, 202):
            raise SmokeFailure(f"seeding: POST /posts answered {status} {answer}")
        made.append({**post, "id": answer["id"]})  # a 202's answer names the post it will make
    return made


def write_through_client(servers: list[str], key: str, title: str, body: str):
    """POST /posts through the generated client and its failover transport (clients/python)."""
    import sys

    import httpx

    sys.path.insert(0, str(CLIENTS))
    from serverless_dr_client.api.default import post_posts
    from serverless_dr_client.models import PostCreate
    from serverless_dr_failover import failover_client

    api = failover_client(
        servers, api_key=key, attempt_timeout=httpx.Timeout(5.0, connect=1.0), pending_write_seconds=WAIT_SECONDS
    )
    return post_posts.sync_detailed(client=api, body=PostCreate(title=title, body=body))


def until(what: str, probe, seconds: float = WAIT_SECONDS, every: float = 0.1) -> float:
    """Seconds until `probe()` is true; SmokeFailure naming `what` if it never is."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if probe():
            return time.monotonic() - start
        time.sleep(every)
    raise SmokeFailure(f"{what}: not within {seconds:.0f} s")


def scenario(control, key: str) -> dict[str, Any]:
    status = control.status()["regions"]
    first, second = list(status)
    a, b = status[first]["url"], status[second]["url"]
    figures: dict[str, Any] = {}

    code, post, _ = call(a, "POST", "/posts", {"title": "Before the outage", "body": "published in " + first}, key=key)
    if code != 201:
        raise SmokeFailure(f"publish in {first}: {code} {post}")
    figures["replicated_to_second_s"] = until(
        f"the post published in {first} readable in {second}", lambda: call(b, "GET", f"/posts/{post['id']}")[0] == 200
    )

    control.act(first, "kill")
    killed_at = time.monotonic()
    code, body, _ = call(b, "GET", f"/posts/{post['id']}")
    if code != 200 or body["title"] != post["title"]:
        raise SmokeFailure(f"read through {second} during the outage: {code} {body}")
    figures["read_during_outage_s"] = time.monotonic() - killed_at

    # The write goes through the generated client over both regions, as a third-party client
    # would: it meets the dead region, sends to the survivor, follows the 202 to its answer.
    response = write_through_client([a, b], key, "During the outage", "written in " + second)
    if response.status_code != 201:
        raise SmokeFailure(f"write through the client during the outage: {response.status_code} {response.content[:200]!r}")
    outage_post: dict[str, Any] = json.loads(response.content)
    figures["write_applied_after_kill_s"] = time.monotonic() - killed_at
    figures["primary_after_outage"] = control.status()["regions"][second]["primary_seen"]

    control.act(first, "restore")
    restored_at = time.monotonic()
    until(
        f"the outage's write visible in {first} once restored",
        lambda: call(a, "GET", f"/posts/{outage_post['id']}")[0] == 200,
    )
    figures["visible_in_first_after_restore_s"] = time.monotonic() - restored_at

    lost = 0
    for base in (a, b):
        ids = {item["id"] for item in call(base, "GET", "/posts?limit=50")[1]["items"]}
        lost += len({post["id"], outage_post["id"]} - ids)
    figures["writes_lost"] = lost
    if lost:
        raise SmokeFailure(f"{lost} acknowledged write(s) missing after the outage")
    return figures


def page_phase(control, site_url: str) -> dict[str, Any]:
    """The page in headless Chromium (Debian's, as the front-end tests use), measured as they
    measure it (tests/site/outage.py): kill the region the page is answered by, then time a read
    (open a post) and a write (subscribe) until the page shows each done."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SmokeFailure("--browser: no Chromium here (Debian: apt install chromium)")
    figures: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page()
            seen: collections.deque = collections.deque(maxlen=8)  # the page's last requests, for a failure's message
            page.on("response", lambda r: seen.append(f"{r.request.method} {r.url.split('//', 1)[-1][:60]} {r.status}"))
            page.on("requestfailed", lambda r: seen.append(f"{r.method} {r.url.split('//', 1)[-1][:60]} failed: {r.failure}"))
            page.goto(site_url + "/")
            page.wait_for_selector("body[data-ready=true]")
            page.wait_for_selector("#posts li")
            first_post = page.inner_text("#posts li h2 >> nth=0")
            answering = page.inner_text("#region")
            figures["page_region_killed"] = answering
            figures["page_region_held_the_lease"] = control.status()["regions"][answering]["primary_seen"] == answering
            control.act(answering, "kill")
            try:
                started = time.monotonic()
                page.click(f"text={first_post}")
                _wait(page, "#view-post:not([hidden]) #post-title", "the page's read after the kill", seen)
                figures["page_read_after_kill_s"] = time.monotonic() - started
                page.click("nav >> text=Subscribe")
                page.fill("#email", f"smoke-{uuid.uuid4().hex[:8]}@example.com")
                started = time.monotonic()
                page.click("#subscribe-form button")
                _wait(page, "#subscribe-status.ok", "the page's subscription after the kill", seen)
                figures["page_write_after_kill_s"] = time.monotonic() - started
                figures["page_answered_by"] = page.inner_text("#region")
            finally:
                control.act(answering, "restore")
        finally:
            browser.close()
    return figures


def _wait(page, selector: str, what: str, seen) -> None:
    from playwright.sync_api import TimeoutError as PageTimeout

    try:
        page.wait_for_selector(selector, timeout=WAIT_SECONDS * 1000)
    except PageTimeout:
        shown = page.inner_text("#subscribe-status") or page.inner_text("main")[:200]
        raise SmokeFailure(
            f"{what}: not within {WAIT_SECONDS:.0f} s (the page says: {shown!r}; its last requests: {'; '.join(seen)})"
        ) from None


def run(control, key: str, *, started: float, report: Path | None = None, site_url: str | None = None) -> int:
    """Print the figures (and write them to `report` as JSON, once done); 1 on any failure."""
    figures: dict[str, Any] = {"started_s": round(time.monotonic() - started, 2)}
    error = None
    try:
        figures.update(scenario(control, key))
        if site_url:
            figures.update(page_phase(control, site_url))
    except SmokeFailure as failure:
        error = str(failure)
    except Exception as failure:  # the browser's timeouts and errors: a failed run, said in one line
        error = f"{type(failure).__name__}: {str(failure).splitlines()[0] if str(failure) else ''}"
    pump_error = control.status().get("pump_error")
    if error is None and pump_error:
        error = f"the consumers stopped: {pump_error}"
    if report is not None:
        staged = report.with_suffix(".partial")
        staged.write_text(json.dumps({"passed": error is None, "error": error, "figures": figures, "pid": os.getpid()}))
        staged.replace(report)  # whole, or not there: a reader never sees half of it
    if error is not None:
        print(f"smoke: FAILED: {error}")
        return 1
    print("smoke: passed")
    for name, value in figures.items():
        print(f"  {name:<34} {round(value, 2) if isinstance(value, float) else value}")
    return 0
