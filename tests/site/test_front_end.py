"""The front end in headless Chromium against a local server: site/ plus API routes from a fixture.

The server serves the real site/ files and a config.json pointing at itself, and answers the API
routes from fixture_api.json, recording what the page sent. In CI, Chromium is installed by
.ci/run; elsewhere the test is skipped when no Chromium is present.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

SITE = Path(__file__).resolve().parents[2] / "site"
FIXTURE = json.loads((Path(__file__).parent / "fixture_api.json").read_text())
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="no Chromium here (CI installs Debian's chromium)"
)


class Handler(SimpleHTTPRequestHandler):
    requests: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(SITE), **kwargs)

    def log_message(self, *_):
        pass

    def _json(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/config.json":
            return self._json(200, {"apiBaseUrl": f"http://127.0.0.1:{self.server.server_port}/api/"})
        if path == "/api/health":
            return self._json(200, FIXTURE["health"])
        if path == "/api/posts":
            return self._json(200, {"items": FIXTURE["posts"], "next_cursor": None})
        match = re.fullmatch(r"/api/posts/([0-9a-f]{32})", path)
        if match:
            post = next((p for p in FIXTURE["posts"] if p["id"] == match[1]), None)
            return self._json(200, post) if post else self._json(404, {"error": "not_found", "message": "post not found"})
        return super().do_GET()

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"null")
        type(self).requests.append((self.path, body))
        if self.path == "/api/subscribers":
            if body["email"] == "bounced@example.com":
                return self._json(422, {"error": "validation_failed", "message": "this address cannot be subscribed", "fields": ["email"]})
            return self._json(201, {"email": body["email"], "status": "subscribed"})
        if self.path == "/api/events":
            return self._json(202, {"status": "accepted"})
        return self._json(404, {"error": "not_found", "message": f"no route POST {self.path}"})


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM or "/usr/bin/chromium", args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    Handler.requests.clear()
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + "/")
    yield page
    assert errors == [], f"JavaScript errors: {errors}"
    page.close()


def test_page_lists_posts_and_shows_the_answering_region(page):
    page.wait_for_selector("#posts li a")
    assert page.locator("#posts li a").all_inner_texts() == ["Surviving a region", "Global tables"]
    assert page.inner_text("#region") == "us-west-2"
    assert page.is_hidden("#error")


def test_reading_a_post_shows_its_views_and_records_a_page_view(page):
    page.click("text=Surviving a region")
    page.wait_for_selector("#post-view:not([hidden])")
    assert page.inner_text("#post-title") == "Surviving a region"
    assert page.inner_text("#post-views") == "42"
    page.wait_for_function("document.readyState === 'complete'")
    page.wait_for_timeout(200)
    assert ("/api/events", {"post_id": "a" * 32, "type": "view"}) in Handler.requests


def test_subscribe_form_posts_the_address(page):
    page.fill("#email", "reader@example.com")
    page.click("#subscribe-form button")
    page.wait_for_function("document.getElementById('subscribe-status').textContent.startsWith('Subscribed')")
    assert ("/api/subscribers", {"email": "reader@example.com"}) in Handler.requests


def test_api_errors_are_shown_to_the_user(page):
    page.fill("#email", "bounced@example.com")
    page.click("#subscribe-form button")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "this address cannot be subscribed (email)"


def test_unknown_post_shows_the_not_found_message(page, server):
    page.goto(server + "/#/posts/" + "c" * 32)
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "post not found"
