"""`make local`: the blog in two local regions, and a control view to kill one.

    python -m verify.local [--port 8000] [--lag 1] [--lease-seconds 6]
    python -m verify.local --smoke      # the scripted outage, headless; exits 1 on any failure

Everything listens on 127.0.0.1 only and runs in this one process (no container, no account):
Ctrl-C stops it all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import sys
import threading
import time
from pathlib import Path
from unittest import mock

from verify.local import premium, smoke
from verify.local.edge import Edge, EdgeServer, routes
from verify.local.servers import Control, RegionFront, serve_site
from verify.local.world import running

# A lease shorter than the stacks' 30 s, so that automatic promotion is seen in seconds. Not
# shorter than MIN_LEASE_SECONDS: a write needs the lease to run its fence margin longer
# (shared/control.py: drift + one attempt, 4 s), and the holder renews at half the lease.
LOCAL_LEASE_SECONDS = 10.0
MIN_LEASE_SECONDS = 10.0
# The local edge keeps an answer this long (the stacks: edgeCacheSeconds, 240 by default): short
# enough to watch a cached read turn fresh, long enough to see it cached.
EDGE_CACHE_SECONDS = 30
SEED_POSTS = (
    ("Welcome to your local blog", "Two regions run on this machine. Open the control view and kill one."),
    (
        "What the control view shows",
        "Each region's fault, the primary it sees, its epoch, its queues and the replication backlog.",
    ),
    ("Writes without an operator", "Kill the primary: writes answer 202 until the other region holds the lease, then land."),
    (
        "Premium: the outage, filmed",
        "Sign in as reader@example.com, unlock this post and open its premium media; then kill the home region.",
        True,
    ),
)


def free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def local_blog(*, port: int, lag: float, lease_seconds: float):
    """Both regions, their fronts, the site and the control; yields (control, site_url, api_key)."""
    site_port = port or free_port()
    api_key = secrets.token_urlsafe(24)
    try:
        with _blog_in(lag, lease_seconds, site_port, api_key) as blog:
            yield blog
    finally:
        _functions()  # the API module again as the environment configures it, for what runs next


@contextlib.contextmanager
def _blog_in(lag: float, lease_seconds: float, site_port: int, api_key: str):
    origin = f"http://127.0.0.1:{site_port}"
    # The environment as it was, once the blog stops: a process that goes on (the tests') must not
    # keep paid content's settings.
    with running(lag=lag, lease_seconds=lease_seconds, allowed_origin=origin) as world, mock.patch.dict(os.environ):
        from stack import api_contract

        paid = premium.set_up(world, site_origin=origin)
        os.environ.update(paid.environment())  # before the API is imported: its CORS reads them
        # Under the world's lock: its pump thread imports the consumers' handlers as it first runs
        # them, and two threads importing Powertools' modules at once can meet one half-initialised
        # (an ImportError seen in CI).
        with world.lock:
            functions = _functions()
        # One document for every region, as each imports the same one.
        document = api_contract.document(allowed_origin=origin, max_upload_bytes=int(os.environ["MAX_UPLOAD_BYTES"]))
        fronts = {
            name: RegionFront(name, 0, _gateway(world, name, document, functions, api_key, origin), world).start()
            for name in world.regions
        }
        # The API's read edge, as the deploy puts CloudFront in front of the regions' reads: cached
        # EDGE_CACHE_SECONDS, failing over between the regions' fronts per request.
        edge = EdgeServer(Edge([front.url for front in fronts.values()], routes(), ttl_seconds=EDGE_CACHE_SECONDS)).start()
        control = Control(world, fronts, edge_url=edge.url)
        # One Python process serves both regions and runs their consumers: a little more patience
        # than the deployed page needs before a region is given up (1.5 s there).
        site = serve_site(
            site_port,
            fronts,
            control,
            failover_timeout_ms=3000,
            premium_media=paid,
            edge=edge.url,
            edgeCacheSeconds=EDGE_CACHE_SECONDS,
            premium=premium.page_config(paid, [front.url for front in fronts.values()], origin),
        )
        try:
            seeded = smoke.seed(fronts[next(iter(fronts))].url, api_key, SEED_POSTS)
            for post in seeded:
                if post.get("premium"):
                    paid.publish_media(post["id"], post["title"])
            yield control, origin, api_key
        finally:
            site.shutdown()
            site.server_close()
            edge.stop()
            for front in fronts.values():
                front.stop()


def _functions() -> dict:
    """The API's and the health check's handlers. The API reads ALLOWED_ORIGIN when imported:
    this world's origin is in the environment by now (imported earlier with another: again)."""
    import importlib
    import sys

    api = sys.modules.get("api.app")
    api = importlib.reload(api) if api else importlib.import_module("api.app")
    health = importlib.import_module("api.health_app")
    return {"*": api.handler, "health/GET": health.handler}


def _gateway(world, region: str, document: dict, functions: dict, api_key: str, origin: str):
    from verify.gateway import Gateway

    return Gateway(
        document,
        functions,
        invoke=lambda function, event: world.invoke(region, function, event),
        api_key=api_key,
        allowed_origin=origin,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m verify.local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8000, help="the site's port (0: any free one); the APIs take free ports")
    parser.add_argument("--lag", type=float, default=1.0, help="replication lag between the regions, seconds (default 1)")
    parser.add_argument(
        "--lease-seconds",
        type=float,
        default=LOCAL_LEASE_SECONDS,
        help=f"the write lease (default {LOCAL_LEASE_SECONDS:g}; the stacks use 30): how soon a dead primary is replaced",
    )
    parser.add_argument("--smoke", action="store_true", help="run the scripted outage headless and exit (1 on any failure)")
    parser.add_argument("--report", type=Path, help="with --smoke: also write the outcome and figures to this JSON file")
    parser.add_argument(
        "--browser", action="store_true", help="with --smoke: then the page in headless Chromium: a read and a write after a kill"
    )
    args = parser.parse_args(argv)
    if args.lag < 0:
        parser.error(f"--lag: {args.lag:g} is negative")
    if args.lease_seconds < MIN_LEASE_SECONDS:
        parser.error(
            f"--lease-seconds: {args.lease_seconds:g} is under {MIN_LEASE_SECONDS:g}"
            " (renewed at half the lease, it must still outlast a write's 4 s fence margin)"
        )
    started = time.monotonic()
    port = 0 if args.smoke and args.port == 8000 else args.port
    try:
        with local_blog(port=port, lag=args.lag, lease_seconds=args.lease_seconds) as (control, site_url, api_key):
            if args.smoke:
                return smoke.run(
                    control, api_key, started=started, report=args.report, site_url=site_url if args.browser else None
                )
            _announce(control, site_url, api_key, time.monotonic() - started)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
    except OSError as error:
        print(f"verify.local: cannot listen on 127.0.0.1:{args.port}: {error.strerror} (try --port 0)", file=sys.stderr)
        return 2
    print("stopped: every server closed, nothing left running")
    return 0


def _announce(control: Control, site_url: str, api_key: str, seconds: float) -> None:
    regions = control.status()["regions"]
    print(f"The blog, in {len(regions)} local regions (started in {seconds:.1f} s):")
    print(f"  page          {site_url}/")
    print(f"  control view  {site_url}/control")
    print(f"  read edge     {control.edge_url}   (cached {EDGE_CACHE_SECONDS} s, failing over between the regions)")
    for name, region in regions.items():
        print(f"  API {name:<9} {region['url']}")
    print(f"  admin key     {api_key}   (the page's admin view asks for it)")
    print(f"  readers       {', '.join(premium.READERS)}   (password {premium.PASSWORD}: Sign in, then a premium post)")
    print("Ctrl-C stops everything.")


if __name__ == "__main__":
    sys.exit(main())
