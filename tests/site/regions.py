"""Local stand-ins for the deployed blog: one API server per region over one shared store (the
global table), and a static server for site/ with a config.json naming every region.

The API servers speak the real API's contract for what the front end uses: posts with versions
(409 on a stale version), idempotency keys (the same key and body answer the first outcome; the
same key with another body is 422), subscribers, page views, presigned-upload grants and
thumbnails that appear a moment after the upload, the admin key. A region can be killed (its
port refuses connections, like a region whose endpoint is gone), stalled (it accepts and never
answers, like a region that hangs) or revived.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import fastjsonschema

from verify.local.servers import site_handler

PAGE_VIEW = fastjsonschema.compile(
    json.loads((Path(__file__).resolve().parents[2] / "functions" / "api" / "schemas" / "PageView.json").read_text())
)

SITE = Path(__file__).resolve().parents[2] / "site"
ADMIN_KEY = "admin-key-for-tests-0123456789"
# A 1x1 PNG: the thumbnail the fixture "makes".
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAFgwJ/lK3Q6wAAAABJRU5ErkJggg==")
POST_ID = re.compile(r"^/posts/([0-9a-f]{32})$")


@dataclass
class World:
    """What every region sees: the replicated data, and a log of what was applied."""

    posts: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscribers: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[tuple[str, str], tuple[str, int, Any]] = field(default_factory=dict)  # (route, key) -> (body, status, answer)
    applied: list[tuple[str, str, str]] = field(default_factory=list)  # (route, key, body) of every write applied
    views: list[dict[str, Any]] = field(default_factory=list)  # the bodies, with the region that took them
    thumbnails: dict[str, float] = field(default_factory=dict)  # name -> when it is ready
    lock: threading.Lock = field(default_factory=threading.Lock)

    def seed(self) -> None:
        for store in (self.posts, self.subscribers, self.outcomes, self.applied, self.views, self.thumbnails):
            store.clear()
        for index, (title, body, views) in enumerate(
            [
                (
                    "Surviving a region",
                    "When a region goes quiet, the reader should not notice.\n\n"
                    "Route 53 health checks take **tens of seconds**; the browser can do it in *one and a half*.\n\n"
                    "## What we measured\nEvery read and write, with one region's servers gone: see the README.",
                    42,
                ),
                ("Global tables", "Last writer wins, item by item. A single primary keeps `version` honest.", 7),
                ("Markup that cannot bite", "A post may say <script>alert(1)</script> and it stays text.", 0),
            ]
        ):
            post_id = f"{index + 10:x}" * 32
            self.posts[post_id] = {
                "id": post_id,
                "title": title,
                "body": body,
                "created_at": f"2026-11-{20 - index:02d}T10:00:00.000Z",
                "version": 1,
                "views": views,
            }


class RegionHandler(SimpleHTTPRequestHandler):
    server: RegionServer

    def log_message(self, *_):
        pass

    # --- plumbing --------------------------------------------------------------------------

    def _cors(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Headers", "Content-Type,X-Api-Key,Idempotency-Key")
        self.send_header("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE,OPTIONS")
        self.send_header("Access-Control-Expose-Headers", "Location,X-Write-Id,Retry-After")

    def _json(self, status: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self._cors()
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _hang(self) -> None:
        self.server.stalled_until_revived.wait(timeout=30)

    def _stalled(self, writing: bool = False) -> bool:
        """Stalled regions answer nothing; regions that lose answers still apply writes first;
        throttled regions answer 429 with a Retry-After, failing ones 503 without one, to
        everything but a preflight."""
        mode = self.server.mode
        if mode == "failing" and self.command != "OPTIONS":
            self._json(503, {"error": "unavailable", "message": "Service Unavailable"})
            return True
        if mode == "throttled" and self.command != "OPTIONS":
            self.server.throttled_requests += 1
            data = json.dumps({"error": "throttled", "message": "Too Many Requests"}).encode()
            self.send_response(429)
            self._cors()
            self.send_header("Retry-After", "2")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return True
        if mode == "stalled" or (mode == "answers-lost" and not writing):
            self._hang()
            return True
        return False

    def _body(self) -> Any:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        return json.loads(raw) if raw and self.headers.get("Content-Type", "").startswith("application/json") else raw

    def do_OPTIONS(self):
        # The preflight of a write: a region that loses answers still lets the write in.
        if self._stalled(writing=True):
            return
        self._json(204)

    # --- reads -----------------------------------------------------------------------------

    def do_GET(self):
        if self._stalled():
            return
        world, path = self.server.world, self.path.split("?")[0]
        if path == "/health":
            return self._json(200, {"status": "ok", "region": self.server.region})
        if path == "/posts":
            items = sorted(world.posts.values(), key=lambda p: p["created_at"], reverse=True)
            return self._json(200, {"items": items, "next_cursor": None})
        if match := POST_ID.match(path):
            post = world.posts.get(match[1])
            return self._json(200, post) if post else self._json(404, {"error": "not_found", "message": "post not found"})
        if path.startswith("/writes/"):  # writes are applied at once here: a deferred one is unknown
            return self._json(404, {"error": "not_found", "message": "no such write"})
        if path.startswith("/thumbnails/"):
            name = path.rsplit("/", 1)[1]
            ready = world.thumbnails.get(name)
            if ready is None or time.monotonic() < ready:
                return self._json(404, {"error": "not_found", "message": "thumbnail not ready"})
            return self._json(200, {"url": f"{self.server.url}/storage/{name}", "name": name})
        if path.startswith("/storage/"):
            self.send_response(200)
            self._cors()
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PIXEL)))
            self.end_headers()
            return self.wfile.write(PIXEL)
        return self._json(404, {"error": "not_found", "message": f"no route GET {path}"})

    # --- writes ----------------------------------------------------------------------------

    def _idempotent(self, route: str, body: Any, apply) -> None:
        if self.server.mode == "loses-accepted":
            # Accepted (202) and then lost with the region: nothing recorded anywhere.
            return self._json(202, {"write_id": f"lost{uuid.uuid4().hex[:22]}", "status": "accepted"})
        key = self.headers.get("Idempotency-Key") or str(uuid.uuid4())
        world, fingerprint = self.server.world, json.dumps(body, sort_keys=True)
        with world.lock:
            earlier = world.outcomes.get((route, key))
            if earlier is not None:
                if earlier[0] != fingerprint:
                    return self._json(
                        422, {"error": "idempotency_key_reused", "message": "this key was used for another request"}
                    )
                return self._json(earlier[1], earlier[2])
            status, answer = apply()
            if status < 300:
                world.applied.append((route, key, fingerprint))
            world.outcomes[(route, key)] = (fingerprint, status, answer)
        if self.server.mode == "answers-lost":
            return self._hang()  # applied, and the answer never leaves the region
        self._json(status, answer)

    def _admin(self) -> bool:
        if self.headers.get("X-Api-Key") != ADMIN_KEY:
            self._json(403, {"error": "forbidden", "message": "the admin key is missing or wrong"})
            return False
        return True

    def do_POST(self):
        if self._stalled(writing=True):
            return
        world, path = self.server.world, self.path.split("?")[0]
        if path == "/storage":
            self._body()
            name = self.server.pending_upload or "photo"
            world.thumbnails[name] = time.monotonic() + 0.6
            return self._json(204)
        body = self._body()
        if path == "/events":
            # The real API's contract: the same schema API Gateway and the handler check.
            try:
                PAGE_VIEW(body)
            except fastjsonschema.JsonSchemaException as error:
                return self._json(400, {"error": "bad_request", "message": error.message})
            world.views.append({**body, "region": self.server.region})
            return self._json(202, {"status": "accepted"})
        if path == "/uploads":
            name = f"thumb-{uuid.uuid4().hex[:8]}.png"
            self.server.pending_upload = name
            return self._json(201, {"url": f"{self.server.url}/storage", "fields": {"key": f"uploads/{name}"}, "thumbnail": name})
        if path == "/subscribers":
            email = str(body.get("email", "")).strip().lower()
            if "@" not in email or email.startswith("bounced@"):
                return self._json(
                    422, {"error": "validation_failed", "message": "this address cannot be subscribed", "fields": ["email"]}
                )

            def subscribe():
                if email in world.subscribers:
                    return 200, {"email": email, "status": "already_subscribed"}
                world.subscribers[email] = {"email": email, "region": self.server.region}
                return 201, {"email": email, "status": "subscribed"}

            return self._idempotent("POST /subscribers", body, subscribe)
        if path == "/posts" and self._admin():

            def create():
                post_id = uuid.uuid4().hex
                now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
                world.posts[post_id] = {
                    "id": post_id,
                    "title": body["title"],
                    "body": body["body"],
                    "created_at": now,
                    "version": 1,
                    "views": 0,
                }
                return 201, world.posts[post_id]

            return self._idempotent("POST /posts", body, create)
        return None if path == "/posts" else self._json(404, {"error": "not_found", "message": f"no route POST {path}"})

    def do_PUT(self):
        if self._stalled(writing=True):
            return
        match, body = POST_ID.match(self.path.split("?")[0]), self._body()
        if not match or not self._admin():
            return None if match else self._json(404, {"error": "not_found", "message": "no such route"})
        world = self.server.world

        def update():
            post = world.posts.get(match[1])
            if post is None:
                return 404, {"error": "not_found", "message": "post not found"}
            if post["version"] != body["version"]:
                return 409, {"error": "conflict", "message": "the post changed", "version": post["version"]}
            post.update({k: body[k] for k in ("title", "body") if k in body}, version=post["version"] + 1)
            return 200, post

        return self._idempotent(f"PUT /posts/{match[1]}", body, update)

    def do_DELETE(self):
        if self._stalled(writing=True):
            return
        path, _, query = self.path.partition("?")
        match = POST_ID.match(path)
        if not match or not self._admin():
            return None if match else self._json(404, {"error": "not_found", "message": "no such route"})
        version = int(dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("version", "0"))
        world = self.server.world

        def delete():
            post = world.posts.get(match[1])
            if post is None:
                return 404, {"error": "not_found", "message": "post not found"}
            if post["version"] != version:
                return 409, {"error": "conflict", "message": "the post changed", "version": post["version"]}
            del world.posts[match[1]]
            return 204, None

        return self._idempotent(f"DELETE /posts/{match[1]}", {"version": version}, delete)


class RegionServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, region: str, world: World):
        super().__init__(("127.0.0.1", 0), RegionHandler)
        self.region, self.world = region, world
        self.port = self.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.mode = "up"  # up | stalled | answers-lost | throttled | loses-accepted | failing
        self.stalled_until_revived = threading.Event()
        self.throttled_requests = 0
        self.pending_upload: str | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> RegionServer:
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()
        return self


class Region:
    """One region's API endpoint, which a test can kill, stall and revive (same URL throughout)."""

    def __init__(self, name: str, world: World):
        self.name, self.world = name, world
        self.server = RegionServer(name, world).start()
        self.url = self.server.url
        self.port = self.server.port

    def kill(self) -> None:
        """Connections are refused from now on."""
        self.server.shutdown()
        self.server.server_close()

    def stall(self, answers_lost: bool = False) -> None:
        """Requests are accepted and never answered; with `answers_lost`, writes are applied first."""
        self.server.stalled_until_revived.clear()
        self.server.mode = "answers-lost" if answers_lost else "stalled"

    def lose_accepted_writes(self) -> None:
        """Writes are answered 202 and never applied (the region is lost with its queue)."""
        self.server.mode = "loses-accepted"

    def fail(self) -> None:
        """Every request is answered 503 Service Unavailable (no Retry-After)."""
        self.server.mode = "failing"

    def throttle(self) -> None:
        """Every request is answered 429 Too Many Requests, Retry-After: 2."""
        self.server.mode = "throttled"

    def revive(self) -> None:
        if self.server.mode != "up":
            self.server.mode = "up"
            self.server.stalled_until_revived.set()
            return
        if self.server.thread is not None and self.server.thread.is_alive():
            return
        server = RegionServer.__new__(RegionServer)
        ThreadingHTTPServer.__init__(server, ("127.0.0.1", self.port), RegionHandler)
        server.region, server.world, server.port, server.url = self.name, self.world, self.port, self.url
        server.mode, server.stalled_until_revived, server.pending_upload = "up", threading.Event(), None
        server.throttled_requests = 0
        self.server = server.start()


def serve_site(
    regions: dict[str, Region], timeout_ms: int = 1500, *, embed: bool = True, **more: object
) -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0),
        site_handler({name: region.url for name, region in regions.items()}, timeout_ms, embed=embed, **more),
    )
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
