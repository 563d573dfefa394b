"""Measuring a regional outage from the reader's side: how long the next read and the next write
take once the region the page is using is gone, and whether the write was applied exactly once.

`measure` runs trials on one page: each starts a fresh session (the page probes both regions and
uses the fastest), reads a post, then takes that region away (HOW) and times a read of another
post and a subscription, each from the click to what the reader sees (a subscription: until the
page says it is saved, which after a 202 means `GET /writes/{id}` said applied). Trials alternate
which comes first after the outage, so both the read and the write are measured as the first
request to meet the failed region, and reported apart. `record` keeps the figures in build/ for
`make soak` to put in the README.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[2] / "build" / "browser-outage"


@dataclass(frozen=True)
class Trial:
    how: str
    first: str  # read | write: which met the failed region first
    failed_region: str
    read_seconds: float
    write_seconds: float
    subscribers_written: int


def _take_away(region, how: str) -> None:
    actions = {
        "killed": region.kill,
        "stalled": region.stall,
        "answers-lost": lambda: region.stall(answers_lost=True),
        "failing": region.fail,
        "throttled": region.throttle,
        "loses-accepted": region.lose_accepted_writes,
    }
    actions[how]()


def _timed_read(page) -> float:
    started = time.monotonic()
    page.click("text=Surviving a region")
    page.wait_for_selector("#view-post:not([hidden]) #post-title:text('Surviving a region')")
    return time.monotonic() - started


def _timed_write(page) -> float:
    started = time.monotonic()
    page.click("#subscribe-form button")
    page.wait_for_selector("#subscribe-status.ok")
    return time.monotonic() - started


def measure(page, world, regions, *, how: str, trials: int) -> list[Trial]:
    base = page.url.split("#")[0]
    results = []
    for trial in range(trials):
        for region in regions.values():
            region.revive()
        page.goto(base + "#/")
        page.reload()
        page.wait_for_selector("body[data-ready=true]")
        page.click("text=Global tables")
        page.wait_for_selector("#view-post:not([hidden]) #post-title:text('Global tables')")
        current = page.inner_text("#region")
        email = f"trial-{how}-{trial}-{time.monotonic_ns()}@example.com"
        if trial % 2:
            page.click("nav >> text=Subscribe")
            page.fill("#email", email)
            _take_away(regions[current], how)
            write = _timed_write(page)
            page.click("nav >> text=Posts")
            read = _timed_read(page)
        else:
            _take_away(regions[current], how)
            page.click("text=All posts")
            read = _timed_read(page)
            page.click("nav >> text=Subscribe")
            page.fill("#email", email)
            write = _timed_write(page)
        written = sum(1 for route, _key, body in world.applied if route == "POST /subscribers" and email in body)
        first = "write" if trial % 2 else "read"
        results.append(Trial(how, first, current, round(read, 3), round(write, 3), written))
    for region in regions.values():
        region.revive()
    return results


def record(how: str, results: list[Trial]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{how}.json"
    first_reads = [r.read_seconds for r in results if r.first == "read"] or [r.read_seconds for r in results]
    first_writes = [r.write_seconds for r in results if r.first == "write"] or [r.write_seconds for r in results]
    path.write_text(
        json.dumps(
            {
                "how": how,
                "trials": len(results),
                "first_read_median_s": round(statistics.median(first_reads), 3),
                "first_read_max_s": max(first_reads),
                "first_write_median_s": round(statistics.median(first_writes), 3),
                "first_write_max_s": max(first_writes),
                "writes_applied_twice": sum(1 for r in results if r.subscribers_written > 1),
                "writes_lost": sum(1 for r in results if r.subscribers_written < 1),
                "results": [asdict(r) for r in results],
            },
            indent=2,
        )
    )
    return path
