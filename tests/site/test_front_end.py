"""The blog in headless Chromium (Playwright driving Debian's chromium) against two local regions.

tests/site/regions.py stands in for the deployed blog: one API server per region over a shared
store and a static server for site/ whose config.json names both regions. Every path a reader
or the admin takes is driven here; accessibility is checked with axe-core; an outage is made by
killing or stalling the region the page is using, in the middle of a session.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit
import os
import re
import shutil
import statistics
import time
from pathlib import Path

import pytest

from tests.site import outage
from tests.site.regions import ADMIN_KEY, Region, World, serve_site

SITE = Path(__file__).resolve().parents[2] / "site"

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REGIONS = ("us-east-1", "us-west-2")
LOST_WRITE_AFTER_MS = 1000

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and os.environ.get("CI") != "true", reason="no Chromium here (CI installs Debian's chromium)"
)


@pytest.fixture(scope="module")
def world():
    return World()


@pytest.fixture(scope="module")
def regions(world):
    made = {name: Region(name, world) for name in REGIONS}
    yield made
    for region in made.values():
        region.revive()
        region.kill()


@pytest.fixture(scope="module")
def site(regions):
    httpd, url = serve_site(regions)
    yield url
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM or "/usr/bin/chromium", args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def opened(browser, url: str):
    """The blog at `url` in a fresh browser context, ready; no JavaScript error by the end."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, color_scheme="light")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(url + "/")
    page.wait_for_selector("body[data-ready=true]")
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def page(browser, site, world, regions):
    world.seed()
    for region in regions.values():
        region.revive()
    with opened(browser, site) as page:
        yield page


def visible_hidden_elements(page) -> list[str]:
    """Elements carrying the hidden attribute that still take space on the page."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[hidden]')]
            .filter((e) => getComputedStyle(e).display !== 'none' || e.getClientRects().length > 0)
            .map((e) => e.id || e.tagName)"""
    )


def serious_accessibility_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {len(v['nodes'])} node(s)"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def unlock_admin(page) -> None:
    page.goto(page.url.split("#")[0] + "#/admin")
    page.fill("#api-key", ADMIN_KEY)
    page.click("#key-form button")
    page.wait_for_selector("#admin-posts li")


def timed_subscription(page, email: str) -> float:
    """Subscribe `email`; seconds from the click until the page says it is saved."""
    page.click("nav >> text=Subscribe")
    page.fill("#email", email)
    started = time.monotonic()
    page.click("#subscribe-form button")
    page.wait_for_selector("#subscribe-status.ok")
    return time.monotonic() - started


def open_post(page, title: str) -> str:
    """Open the post `title` from the list; the region that answered."""
    page.click(f"text={title}")
    page.wait_for_selector(f"#view-post:not([hidden]) #post-title:text('{title}')")
    return page.inner_text("#region")


# --- reading -------------------------------------------------------------------------------------


def test_the_list_shows_title_date_excerpt_and_views_and_who_answered(page):
    titles = page.locator("#posts h2").all_inner_texts()
    assert titles == ["Surviving a region", "Global tables", "Markup that cannot bite"]
    first = page.locator("#posts li").first
    assert "November 20, 2026" in first.inner_text() and "42 views" in first.inner_text()
    assert first.locator("p").nth(1).inner_text() == "When a region goes quiet, the reader should not notice."
    assert page.inner_text("#region") in REGIONS
    assert "2 regions" in page.inner_text("#region-count")


def test_a_post_renders_its_paragraphs_and_markup_and_counts_one_view(page, world):
    open_post(page, "Surviving a region")
    paragraphs = page.locator("#post-body p").all_inner_texts()
    assert len(paragraphs) == 3 and page.locator("#post-body strong").inner_text() == "tens of seconds"
    assert page.locator("#post-body h3").inner_text() == "What we measured"
    assert paragraphs[2].startswith("Every read and write")
    assert page.inner_text("#post-views") == "42 views"
    page.wait_for_function("1")
    deadline = time.monotonic() + 3
    while not world.views and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [view["post_id"] for view in world.views] == ["a" * 32]
    # The browser's reader id: valid under the API's schema (the fake API checks it), and kept.
    reader = world.views[0]["reader"]
    page.evaluate("location.hash = '#/'")
    open_post(page, "Markup that cannot bite")
    deadline = time.monotonic() + 3
    while len(world.views) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert re.fullmatch(r"[0-9a-f]{32}", reader) and world.views[1]["reader"] == reader


def test_markup_in_a_post_stays_text(page):
    open_post(page, "Markup that cannot bite")
    assert "<script>alert(1)</script>" in page.inner_text("#post-body")
    assert page.locator("#post-body script").count() == 0


# --- subscribe, upload ---------------------------------------------------------------------------


def test_subscribing_confirms_and_a_refusal_is_explained_with_a_retry(page, world):
    page.click("text=Subscribe")
    page.fill("#email", "reader@example.com")
    page.click("#subscribe-form button")
    page.wait_for_selector("#subscribe-status.ok")
    assert "welcome email is on its way to reader@example.com" in page.inner_text("#subscribe-status")
    assert list(world.subscribers) == ["reader@example.com"]
    page.fill("#email", "not an address")
    page.click("#subscribe-form button")
    assert "Please enter an email address" in page.inner_text("#subscribe-status")
    assert page.get_attribute("#email", "aria-invalid") == "true"
    page.fill("#email", "bounced@example.com")
    page.click("#subscribe-form button")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error-text") == "this address cannot be subscribed (email)"
    assert page.is_visible("#retry")


def test_a_photo_uploads_with_progress_and_its_thumbnail_appears_when_ready(page, tmp_path):
    from tests.site.regions import PIXEL

    photo = tmp_path / "photo.png"
    photo.write_bytes(PIXEL)
    page.click("text=Share a photo")
    assert page.is_hidden("#thumbnail-figure")
    page.set_input_files("#photo", str(photo))
    page.click("#upload-form button")
    page.wait_for_selector("#thumbnail-figure:not([hidden])", timeout=10_000)
    assert page.inner_text("#upload-status") == "Done."
    assert page.evaluate("document.getElementById('thumbnail').naturalWidth") == 1
    assert page.is_hidden("#upload-progress")


# --- admin ---------------------------------------------------------------------------------------


def test_the_admin_writes_edits_and_deletes_posts(page, world):
    unlock_admin(page)
    assert page.evaluate("sessionStorage.length") == 1 and page.evaluate("localStorage.length") == 0
    page.fill("#post-title-input", "A new post")
    page.fill("#post-body-input", "First paragraph.\n\nSecond one.")
    page.click("#save")
    page.wait_for_selector("text=Published.")
    assert "A new post (v1)" in page.inner_text("#admin-posts")
    page.click("button[aria-label='Edit A new post']")
    page.fill("#post-title-input", "A better title")
    page.click("#save")
    page.wait_for_selector("text=Saved.")
    assert "A better title (v2)" in page.inner_text("#admin-posts")
    page.click("button[aria-label='Delete A better title']")
    page.wait_for_selector("text=Deleted “A better title”.")
    assert "A better title" not in page.inner_text("#admin-posts")
    routes = [route.split(" /")[0] for route, _key, _body in world.applied]
    assert routes == ["POST", "PUT", "DELETE"]


def test_an_edit_that_lost_a_race_shows_the_conflict_and_reloads_the_latest(page, world):
    unlock_admin(page)
    page.click("button[aria-label='Edit Global tables']")
    world.posts["b" * 32].update(title="Global tables, revised elsewhere", version=2)  # another admin saved first
    page.fill("#post-body-input", "My edit.")
    page.click("#save")
    page.wait_for_selector("#error:not([hidden])")
    assert "Someone changed this post since you opened it (it is at version 2 now)" in page.inner_text("#error-text")
    page.click("#retry")
    page.wait_for_function("document.getElementById('post-title-input').value === 'Global tables, revised elsewhere'")
    assert world.posts["b" * 32]["body"] != "My edit."


# --- unreachable, hidden, accessible -------------------------------------------------------------


def test_with_every_region_down_the_reader_is_told_and_can_retry(page, regions):
    for region in regions.values():
        region.kill()
    page.click("text=Global tables")
    page.wait_for_selector("#error:not([hidden])")
    assert "the blog could not be reached (tried us-" in page.inner_text("#error-text")
    for region in regions.values():
        region.revive()
    page.click("#retry")
    page.wait_for_selector("#view-post:not([hidden]) #post-body p")
    assert page.is_hidden("#error")


VIEWS = {"posts": "#/", "post": "#/posts/" + "a" * 32, "subscribe": "#/subscribe", "photos": "#/photos", "admin": "#/admin"}


def test_no_hidden_element_shows_and_axe_finds_nothing_serious_in_any_view(page):
    found = {}
    for view, route in VIEWS.items():
        page.goto(page.url.split("#")[0] + route)
        page.wait_for_selector(f"#view-{view}:not([hidden])")
        page.wait_for_load_state("networkidle")
        found[view] = (visible_hidden_elements(page), serious_accessibility_violations(page))
    assert {view: problems for view, problems in found.items() if problems != ([], [])} == {}


def test_the_hidden_check_catches_a_style_that_overrides_hidden(page):
    """The bug this replaces: `#thumbnail { display: block }` beat the hidden attribute."""
    page.click("text=Share a photo")
    page.add_style_tag(content="#thumbnail-figure { display: block !important; }")
    assert "thumbnail-figure" in visible_hidden_elements(page)


def test_the_admin_view_is_accessible_when_unlocked_and_fits_a_phone(page):
    unlock_admin(page)
    assert serious_accessibility_violations(page) == []
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(page.url.split("#")[0] + "#/")
    page.wait_for_selector("#posts li")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def screenshot_dir(tmp_path: Path) -> Path:
    """A temporary directory; `make screenshots` sets SCREENSHOT_DIR=docs/screenshots to refresh
    the README's (a test never writes a tracked file)."""
    shots = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    return shots


def test_dark_mode_follows_the_system_and_stays_accessible(browser, site, world, tmp_path):
    world.seed()
    context = browser.new_context(viewport={"width": 1100, "height": 900}, color_scheme="dark")
    page = context.new_page()
    page.goto(site + "/")
    page.wait_for_selector("body[data-ready=true]")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 20, 23)"
    assert serious_accessibility_violations(page) == []
    page.screenshot(path=screenshot_dir(tmp_path) / "posts-dark.png")
    context.close()


# --- failover ------------------------------------------------------------------------------------


# make test: one trial each of a refusing region and one that applies writes but never answers (its reads stall too);
# make soak (verify/browser_outage.py) adds the others (verify.browser_outage.HOW) and 20 trials of each.
OUTAGE_KINDS = os.environ.get("OUTAGE_KINDS", "killed,answers-lost").split(",")


def _write_bound_seconds(how: str) -> float:
    """3 s; a write answered 202 and then lost is known lost only after the page's
    UNKNOWN_WRITE_MS without news of it (site/app.js), then re-sent: that + 1 s."""
    if how != "loses-accepted":
        return 3.0
    unknown_ms = re.search(r"const UNKNOWN_WRITE_MS = (\d+);", (SITE / "app.js").read_text())
    return int(unknown_ms[1]) / 1000 + 1.0


@pytest.mark.parametrize("how", OUTAGE_KINDS)
def test_with_the_answering_region_gone_reads_and_writes_succeed_in_seconds_and_no_write_repeats(page, world, regions, how):
    trials = int(os.environ.get("OUTAGE_TRIALS", "1"))
    results = outage.measure(page, world, regions, how=how, trials=trials)
    reads, writes = [r.read_seconds for r in results], [r.write_seconds for r in results]
    assert statistics.median(reads) <= 3.0, reads
    assert statistics.median(writes) <= _write_bound_seconds(how), writes
    assert all(r.subscribers_written == 1 for r in results), "a write was applied twice or not at all"
    assert page.is_visible("#notice") and "Switched to" in page.inner_text("#notice")
    outage.record(how, results)


@pytest.mark.soak  # `make screenshots` runs it
def test_screenshots_of_the_main_pages(page, regions, tmp_path):
    shots = screenshot_dir(tmp_path)
    page.screenshot(path=shots / "posts.png", full_page=True)
    open_post(page, "Surviving a region")
    page.screenshot(path=shots / "post.png", full_page=True)
    unlock_admin(page)
    page.screenshot(path=shots / "admin.png", full_page=True)
    current = page.inner_text("#region")
    regions[current].kill()
    page.goto(page.url.split("#")[0] + "#/")
    page.wait_for_selector("#notice:not([hidden])")
    page.screenshot(path=shots / "failover.png")
    for name in ("posts", "post", "admin", "failover"):
        assert (shots / f"{name}.png").stat().st_size > 5_000


def test_a_throttled_region_is_left_for_the_other_and_the_reader_never_sees_429(page, world, regions):
    """429 with Retry-After moves the read and the write to the other region at once (the
    throttled one is left alone for its Retry-After); the write is applied once."""
    current = open_post(page, "Global tables")
    regions[current].throttle()
    page.click("text=All posts")
    started = time.monotonic()
    open_post(page, "Surviving a region")
    read_seconds = time.monotonic() - started
    email = f"throttled-{time.monotonic_ns()}@example.com"
    write_seconds = timed_subscription(page, email)
    assert read_seconds < 1.0 and write_seconds < 1.0, (read_seconds, write_seconds)
    assert page.inner_text("#region") != current
    assert "Too Many Requests" not in page.inner_text("body")
    assert sum(1 for route, _key, body in world.applied if route == "POST /subscribers" and email in body) == 1
    assert regions[current].server.throttled_requests >= 1  # it was asked, and answered 429


def test_a_hanging_region_costs_a_read_and_a_write_the_hedge_delay_not_the_timeout(page, world, regions):
    """The page's timeout is 1.5 s; a read or a keyed write the current region never answers is
    also sent to the other region after at most its hedge delay (0.5 s for a read; a write's
    follows the region's timings), so the reader waits well under the timeout, and a write the
    hanging region applied as well is still applied once (one Idempotency-Key)."""
    first = open_post(page, "Global tables")
    # a write first: the region applies it, its answer never leaves
    regions[first].stall(answers_lost=True)
    email = f"hedged-{time.monotonic_ns()}@example.com"
    write_seconds = timed_subscription(page, email)
    second = page.inner_text("#region")
    regions[first].revive()
    # then a read first, in the region the page moved to
    regions[second].stall()
    page.click("nav >> text=Posts")
    started = time.monotonic()
    open_post(page, "Surviving a region")
    read_seconds = time.monotonic() - started
    assert read_seconds < 1.0 and write_seconds < 1.0, (read_seconds, write_seconds)
    assert second != first and page.inner_text("#region") == first
    assert sum(1 for route, _key, body in world.applied if route == "POST /subscribers" and email in body) == 1


def test_the_page_returns_to_its_preferred_region_once_it_answers_again(page, regions):
    preferred = open_post(page, "Global tables")
    regions[preferred].kill()
    page.click("text=All posts")
    page.wait_for_selector("#view-posts:not([hidden])")
    page.wait_for_function(f"document.querySelector('#region').textContent !== {preferred!r}")
    regions[preferred].revive()
    # Left alone for its down window, then two health checks in a row: the test shortens both.
    page.evaluate("window.sdrClient.downUntil = {}")
    page.evaluate("window.sdrClient.recheck()")
    page.evaluate("window.sdrClient.recheck()")
    page.wait_for_function(f"document.querySelector('#region').textContent === {preferred!r}", timeout=5000)
    assert "Back on" in page.inner_text("#notice")


def test_an_accepted_write_its_region_loses_is_sent_again_elsewhere_and_applied_once(browser, world, regions):
    """The region answers 202 and loses the write (GET /writes/{id} never knows it): the page says
    "not saved yet", re-sends with the same key through the other region, and only then says done.
    (After lostWriteAfterMs of config.json, 1 s here; 3 s by default, what make soak measures.)"""
    world.seed()
    for region in regions.values():
        region.revive()
    httpd, url = serve_site(regions, lostWriteAfterMs=LOST_WRITE_AFTER_MS)
    try:
        with opened(browser, url) as page:
            _lost_write_is_resent(page, world, regions)
    finally:
        httpd.shutdown()


# Served as deployed (every other test here), the page carries its config; make soak also checks
# it then asks for no config.json.
@pytest.mark.parametrize(
    "embedded", [pytest.param(True, marks=pytest.mark.soak), False], ids=["config-in-the-page", "config-json"]
)
def test_the_page_reads_its_config_from_itself_or_else_from_config_json(browser, world, regions, embedded):
    """As deployed, the page carries its config and asks for no config.json; served plain (a
    static server over site/), it reads config.json. Either way it lists the posts."""
    world.seed()
    for region in regions.values():
        region.revive()
    httpd, url = serve_site(regions, embed=embedded)
    context = browser.new_context()
    try:
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(urlsplit(request.url).path))
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("#posts li")
        assert ("/config.json" in asked) is not embedded
    finally:
        context.close()
        httpd.shutdown()


def _lost_write_is_resent(page, world, regions) -> None:
    current = open_post(page, "Global tables")
    regions[current].lose_accepted_writes()
    email = f"lost-{time.monotonic_ns()}@example.com"
    page.click("nav >> text=Subscribe")
    page.fill("#email", email)
    page.click("#subscribe-form button")
    page.wait_for_selector("#subscribe-status:has-text('Not saved yet')")
    assert "Subscribed" not in page.inner_text("#subscribe-status")
    page.wait_for_selector("#subscribe-status.ok", timeout=10_000)
    assert "Subscribed" in page.inner_text("#subscribe-status")
    assert sum(1 for route, _key, body in world.applied if route == "POST /subscribers" and email in body) == 1
    assert page.inner_text("#region") != current


def test_a_draft_survives_a_reload_and_is_published_once_with_its_key(page, world):
    unlock_admin(page)
    page.fill("#post-title-input", "Drafted before a crash")
    page.fill("#post-body-input", "Typed, then the tab went away.")
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.wait_for_selector("#admin-posts li")  # the key is kept for the tab's session
    assert page.input_value("#post-title-input") == "Drafted before a crash"
    assert page.input_value("#post-body-input") == "Typed, then the tab went away."
    assert "restored" in page.inner_text("#editor-status")
    page.click("#save")
    page.wait_for_selector("text=Published.")
    assert page.evaluate("localStorage.getItem('serverless-dr-draft')") is None  # applied: forgotten
    assert [r for r, _k, body in world.applied if "Drafted before a crash" in body] == ["POST /posts"]


def test_skip_to_content_keeps_the_view_and_focus_follows_navigation(page):
    page.click("nav >> text=Subscribe")
    page.wait_for_selector("#view-subscribe:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "subscribe-heading"
    page.keyboard.press("Shift+Tab")  # anywhere before the skip link, then onto it
    page.focus("a.skip")
    page.keyboard.press("Enter")
    assert page.is_visible("#view-subscribe") and not page.is_visible("#view-posts")
    assert page.evaluate("document.activeElement.id") == "main"
    page.click("nav >> text=Posts")
    page.wait_for_selector("#view-posts:not([hidden])")
    # The heading takes focus once the list has loaded (route() awaits it), not when the view shows.
    page.wait_for_function("document.activeElement.id === 'posts-heading'", timeout=5000)


def test_a_post_that_fails_to_open_shows_nothing_of_the_previous_one(page, regions):
    open_post(page, "Global tables")
    page.goto(page.url.split("#")[0] + "#/posts/" + "f" * 32)  # no such post: 404
    page.wait_for_selector("#error:not([hidden])")
    assert "Global tables" not in page.inner_text("#view-post")


# --- through the API's edge ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def edge(regions):
    from verify.local.edge import Edge, EdgeServer, routes

    server = EdgeServer(Edge([regions[name].url for name in REGIONS], routes(), ttl_seconds=60)).start()
    yield server
    server.stop()


@pytest.fixture
def edge_page(browser, world, regions, edge):
    world.seed()
    for region in regions.values():
        region.revive()
    edge.edge.cache.clear()
    edge.edge.log.clear()
    httpd, url = serve_site(regions, edge=edge.url, edgeCacheSeconds=edge.edge.ttl_seconds)
    try:
        with opened(browser, url) as page:
            yield page
    finally:
        httpd.shutdown()


def test_reads_come_from_the_edge_and_its_cache_writes_go_to_a_region_and_the_writer_reads_from_a_region(
    edge_page, edge, world
):
    page = edge_page
    open_post(page, "Surviving a region")
    assert page.inner_text("#region") == "edge"
    page.evaluate("location.hash = '#/'")
    open_post(page, "Surviving a region")
    reads = [line for line in edge.edge.log if line.uri_stem == "/posts/" + "a" * 32]
    assert [line.result_type for line in reads] == ["Miss", "Hit"]
    # Both views are in the edge's log, where they are counted: the page posts no view event.
    time.sleep(0.2)
    assert world.views == []
    # The admin's edit goes to a region (the edge takes no write), and the admin sees it at once
    # although the edge still holds the list from before it.
    unlock_admin(page)
    page.click("button[aria-label='Edit Global tables']")
    page.fill("#post-title-input", "Global tables, edited")
    read_at_the_edge = len(edge.edge.log)
    page.click("#save")
    page.wait_for_selector("text=Saved.")
    assert "Global tables, edited" in page.inner_text("#admin-posts")
    assert [route for route, _key, _body in world.applied] == ["PUT /posts/" + "b" * 32]
    assert {line.method for line in edge.edge.log} == {"GET"}
    # After its write the page reads from the regions: the edge saw none of its reads since.
    assert edge.edge.log[read_at_the_edge:] == [], "a read after the write went to the edge"


def test_the_edge_fails_over_between_regions_and_when_it_fails_the_page_reads_from_a_region(edge_page, edge, regions, world):
    page = edge_page
    regions[REGIONS[0]].fail()  # the origin group's primary answers 503: the edge asks the next region
    open_post(page, "Global tables")
    assert page.inner_text("#region") == "edge"
    assert [line.status for line in edge.edge.log if line.uri_stem == "/posts/" + "b" * 32] == [200]
    regions[REGIONS[0]].revive()
    origins, edge.edge.origins = edge.edge.origins, []  # the edge itself fails (504 to every read)
    try:
        page.evaluate("location.hash = '#/'")
        open_post(page, "Markup that cannot bite")
        assert page.inner_text("#region") in REGIONS
        # Read from a region, the view is not in the edge's log: the page counts it itself.
        deadline = time.monotonic() + 3
        while not world.views and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [view["post_id"] for view in world.views] == ["c" * 32]
    finally:
        edge.edge.origins = origins


# --- posts as pages of their own (postPages) -----------------------------------------------------


@pytest.fixture
def pages_site(browser, world, regions):
    """The site as a deploy with post pages serves it: each post's page as functions/pages
    renders it (from the world's posts), the 404 page for a post not rendered yet."""
    from verify.harness import configure

    configure()  # the functions' packages on the path
    from pages.app import render

    world.seed()
    for region in regions.values():
        region.revive()
    unrendered: set[str] = set()

    def post_page(post_id: str) -> str | None:
        post = world.posts.get(post_id)
        return render(post, REGIONS[0]) if post and post_id not in unrendered else None

    httpd, url = serve_site(regions, postPages=True, post_page=post_page)
    try:
        with opened(browser, url) as page:
            yield page, unrendered
    finally:
        httpd.shutdown()


def test_with_post_pages_a_post_is_its_own_page_showing_its_markup_and_counted_by_no_api_call(pages_site, world):
    page, unrendered = pages_site
    page.click("text=Surviving a region")
    page.wait_for_selector("#post-body strong")
    assert urlsplit(page.url).path == "/posts/" + "a" * 32
    assert page.locator("#post-body strong").inner_text() == "tens of seconds"
    assert page.locator("#post-body h3").inner_text() == "What we measured"
    assert page.inner_text("#region") == REGIONS[0]
    assert serious_accessibility_violations(page) == []
    # The page's request is the view, counted from the site's logs: no POST /events.
    time.sleep(0.2)
    assert world.views == []
    page.go_back()
    page.wait_for_selector("body[data-ready=true]")
    page.click("text=Markup that cannot bite")
    page.wait_for_selector("#post-title:text('Markup that cannot bite')")
    assert "<script>alert(1)</script>" in page.inner_text("#post-body")
    # A post whose page is not rendered yet opens in the blog's page instead, read through the API,
    # and that view is counted by the page itself.
    unrendered.add("b" * 32)
    page.goto(page.url.rsplit("/posts/", 1)[0] + "/posts/" + "b" * 32)
    page.wait_for_selector("#view-post:not([hidden]) #post-title:text('Global tables')")
    assert urlsplit(page.url).fragment == "/posts/" + "b" * 32
    deadline = time.monotonic() + 3
    while not world.views and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [view["post_id"] for view in world.views] == ["b" * 32]
