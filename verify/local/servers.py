"""The local run's HTTP side, on 127.0.0.1 only: one API front per region (the gateway emulation
over that region's handlers, with the region's fault applied) and one server for the site, its
config.json and the control view.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from verify.gateway import REASONS, Gateway
from verify.harness import media_bucket
from verify.local import media
from verify.local.premium import LocalPremium
from verify.local.world import LocalWorld

SITE = Path(__file__).resolve().parents[2] / "site"
POST_PAGE = re.compile(r"^/posts/([0-9a-f]{32})$")
CONTROL_PAGE = Path(__file__).with_name("control.html")
# How often a server looks at its stop flag: a kill closes the port within this.
POLL_SECONDS = 0.05
# What each control action does to a region (POST /control/regions/{region}/{action}).
ACTIONS = ("kill", "hang", "slow", "throttle", "lose-writes", "restore", "drain", "undrain", "promote")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (the page's hedged request, answered elsewhere first) is no error."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _drop(handler: BaseHTTPRequestHandler) -> None:
    """As an endpoint that is gone: the connection drops, nothing is answered."""
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


class RegionFront:
    """A region's API on its own port. Killed: the port is closed (connections are refused, as
    for a region whose endpoint is gone); restored: it listens again on the same port."""

    def __init__(self, name: str, port: int, gateway: Gateway, world: LocalWorld):
        self.name, self.port, self.gateway, self.world = name, port, gateway, world
        self.server: _Server | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RegionFront:
        with self.lock:
            if self.server is None:
                front = self

                class Handler(_RegionHandler):
                    region = front

                self.server = _Server(("127.0.0.1", self.port), Handler)
                self.port = self.server.server_address[1]
                threading.Thread(
                    target=self.server.serve_forever, args=(POLL_SECONDS,), name=f"api-{self.name}", daemon=True
                ).start()
        return self

    def stop(self) -> None:
        with self.lock:
            if self.server is not None:
                self.server.shutdown()
                self.server.server_close()
                self.server = None


class _RegionHandler(BaseHTTPRequestHandler):
    region: RegionFront
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def _any(self) -> None:
        front = self.region
        state = front.world.regions[front.name]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if state.fault == "killed":  # a connection the page kept open from before: it dies too
            return _drop(self)
        if state.fault == "hung":
            state.changed.wait()  # no answer while the region hangs; dropped when it changes
            self.close_connection = True
            return
        if state.fault == "slow":
            time.sleep(state.slow_seconds)
        path, _, query = self.path.partition("?")
        if path.startswith(media.PREFIX):
            return self._media(path, body)
        if state.fault == "throttled":
            status, headers, payload = front.gateway.throttled()
            headers.append(("Retry-After", "2"))
        elif state.fault == "loses-writes" and self.command in ("POST", "PUT", "DELETE"):
            status, headers, payload = _accepted_and_lost(front.gateway.allowed_origin)
        else:
            status, headers, payload = front.gateway.handle(self.command, path, query, list(self.headers.items()), body)
            payload = media.rewrite(payload, front.url)
        self._answer(status, headers, payload)

    def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status, REASONS.get(status))
        for name, value in headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _media(self, path: str, body: bytes) -> None:
        """The region's bucket, as the browser reaches S3: the upload's POST, the thumbnail's GET."""
        front = self.region
        cors = [("Access-Control-Allow-Origin", front.gateway.allowed_origin or "*")]
        bucket, _, key = path[len(media.PREFIX) :].partition("/")
        if self.command == "OPTIONS":
            allow = [("Access-Control-Allow-Methods", "GET,POST"), ("Access-Control-Allow-Headers", "*")]
            return self._answer(204, cors + allow, b"")
        if self.command == "POST" and not key:
            fields = media.form_fields(self.headers.get("Content-Type", ""), body)
            refused = media.policy_problem(fields)
            if refused or bucket != media_bucket(front.name):
                message = f"<Error><Code>AccessDenied</Code><Message>{refused or 'another region'}</Message></Error>"
                return self._answer(403, [*cors, ("Content-Type", "application/xml")], message.encode())
            media.upload(front.world, front.name, fields)
            return self._answer(204, cors, b"")
        found = media.read(front.world, front.name, bucket, key) if self.command == "GET" else None
        if found is None:
            return self._answer(404, [*cors, ("Content-Type", "application/xml")], b"<Error><Code>NoSuchKey</Code></Error>")
        data, content_type = found
        return self._answer(200, [*cors, ("Content-Type", content_type)], data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_TRACE = _any


def _accepted_and_lost(origin: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
    """A write answered 202 by a region that then loses it (with its queue): its id is one no
    region issued, so GET /writes/{id} answers 404 everywhere."""
    token = uuid.uuid4().hex
    location = f"/writes/{token}"
    headers = [("Content-Type", "application/json"), ("Location", location), ("X-Write-Id", token)]
    if origin:
        headers.append(("Access-Control-Allow-Origin", origin))
    return 202, headers, json.dumps({"status": "accepted", "write_id": token, "location": location}).encode()


class Control:
    """What the control view and the CLI do to the regions."""

    def __init__(self, world: LocalWorld, fronts: dict[str, RegionFront], edge_url: str | None = None):
        self.world, self.fronts, self.edge_url = world, fronts, edge_url

    def act(self, region: str, action: str) -> dict[str, Any]:
        if region not in self.fronts:
            raise ValueError(f"region: {region!r} is not one of {', '.join(self.fronts)}")
        if action not in ACTIONS:
            raise ValueError(f"action: {action!r} is not one of {', '.join(ACTIONS)}")
        if action == "promote":
            return self.world.promote(region)
        if action in ("drain", "undrain"):
            self.world.drain(region, action == "drain")
            return {"region": region, "drained": action == "drain"}
        fault = {
            "kill": "killed",
            "hang": "hung",
            "slow": "slow",
            "throttle": "throttled",
            "lose-writes": "loses-writes",
            "restore": "up",
        }[action]
        self.world.set_fault(region, fault)
        if fault == "killed":
            self.fronts[region].stop()
        else:
            self.fronts[region].start()
        return {"region": region, "fault": fault}

    def status(self) -> dict[str, Any]:
        status = self.world.status()
        for name, front in self.fronts.items():
            status["regions"][name]["url"] = front.url
        if self.edge_url:
            status["edge"] = self.edge_url
        return status


class SiteHandler(SimpleHTTPRequestHandler):
    """site/ as a static host serves it (nothing cached, so a test sees every change), with the
    config.json a deploy writes: every region's API URL."""

    config: dict[str, Any] = {}
    # As the deploy writes it (StaticSite's config_page): index.html with the config in it. False:
    # the page as it is in site/, which then reads config.json.
    embed: bool = True
    # Post pages (postPages): the page of a post id as the deploy's renderer makes it, or None
    # (not rendered: the site's 404 page, as CloudFront answers a missing object).
    post_page: Callable[[str], str | None] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(SITE), **kwargs)

    def log_message(self, *_):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def _bytes(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, value: Any) -> None:
        self._bytes(status, "application/json", json.dumps(value, default=str).encode())

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/config.json":
            return self._json(200, type(self).config)
        if path in ("/", "/index.html") and type(self).embed:
            return self._page()
        post = POST_PAGE.match(path)
        if post and type(self).post_page is not None:
            html = type(self).post_page(post[1])
            return self._html(200, html) if html is not None else self._html(404, (SITE / "404.html").read_text())
        return super().do_GET()

    def _html(self, status: int, html: str) -> None:
        self._bytes(status, "text/html; charset=utf-8", html.encode())

    def _page(self) -> None:
        from components.static_site import embed_config

        config = json.dumps(type(self).config, sort_keys=True, indent=2) + "\n"
        self._html(200, embed_config((SITE / "index.html").read_text(), config))


SiteHandler.extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}


def site_handler(
    regions: dict[str, str],
    failover_timeout_ms: int,
    *,
    embed: bool = True,
    post_page: Callable[[str], str | None] | None = None,
    **more: object,
) -> type[SiteHandler]:
    """A handler class for site/ whose config (in the page unless not `embed`, and config.json)
    names `regions` ({name: API URL}), the first as the public one, and `more` (the edge's URL
    and TTL: `edge`, `edgeCacheSeconds`; `postPages`, with `post_page` making the pages)."""
    embed_page, pages = embed, post_page

    class Handler(SiteHandler):
        embed = embed_page
        post_page = staticmethod(pages) if pages is not None else None
        config = {
            "apiBaseUrl": next(iter(regions.values())),
            "regions": dict(regions),
            "failoverTimeoutMs": failover_timeout_ms,
            **more,
        }

    return Handler


class _ControlledSiteHandler(SiteHandler):
    """The site, and the control view with its JSON API; with paid content, the pool's endpoint
    and CloudFront's signed /premium/ path as the local run stands them in."""

    control: Control
    premium: LocalPremium | None = None

    def _premium_get(self, path: str) -> None:
        paid = self.premium
        refused = paid.refusal(paid.site_origin + path, self.headers.get("Cookie"))
        if refused:
            body = f"<Error><Code>AccessDenied</Code><Message>{refused}</Message></Error>".encode()
            return self._bytes(403, "application/xml", body)
        found = paid.read(path.lstrip("/"))
        if found is None:
            return self._bytes(404, "application/xml", b"<Error><Code>NoSuchKey</Code></Error>")
        return self._bytes(200, found[1], found[0])

    def _sign_in(self) -> None:
        """Cognito's InitiateAuth, as the pool's endpoint answers it (verify/local/premium.py)."""
        paid = self.premium
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if paid.home_down():
            return _drop(self)
        if self.headers.get("X-Amz-Target") != "AWSCognitoIdentityProviderService.InitiateAuth":
            return self._bytes(400, "application/x-amz-json-1.1", b'{"__type": "UnknownOperationException"}')
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = None
        status, answer = paid.initiate_auth(request if isinstance(request, dict) else {})
        return self._bytes(status, "application/x-amz-json-1.1", json.dumps(answer).encode())

    def do_GET(self):
        path = self.path.split("?")[0]
        if self.premium is not None and path.startswith("/premium/"):
            return self._premium_get(path)
        if self.premium is not None and path.startswith("/cognito/") and path.endswith("/.well-known/jwks.json"):
            return (
                _drop(self) if self.premium.home_down() else self._bytes(200, "application/json", self.premium.public_key_set())
            )
        if path == "/control/state":
            return self._json(200, self.control.status())
        if path in ("/control", "/control/"):
            return self._bytes(200, "text/html; charset=utf-8", CONTROL_PAGE.read_bytes())
        return super().do_GET()

    def do_POST(self):
        if self.premium is not None and self.path.split("?")[0] == "/cognito/":
            return self._sign_in()
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) != 4 or parts[:2] != ["control", "regions"]:
            return self._json(404, {"error": "not_found", "message": "POST /control/regions/{region}/{action}"})
        try:
            return self._json(200, self.control.act(parts[2], parts[3]))
        except ValueError as error:
            return self._json(400, {"error": "bad_request", "message": str(error)})


def serve_site(
    port: int,
    fronts: dict[str, RegionFront],
    control: Control,
    failover_timeout_ms: int,
    premium_media: LocalPremium | None = None,
    **more: object,
) -> _Server:
    """The site and the control view; `more` goes into the site's config (the edge's URL and TTL);
    with `premium_media`, the pool's endpoint and the signed /premium/ path (verify/local/premium.py)."""
    base = site_handler({name: front.url for name, front in fronts.items()}, failover_timeout_ms, **more)

    class Handler(_ControlledSiteHandler):
        config = base.config
        premium = premium_media

    Handler.control = control
    server = _Server(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), name="site", daemon=True).start()
    return server
