"""The API's edge (components/api_edge.py) as a local HTTP server: what CloudFront does with it.

Reads only (GET, HEAD, OPTIONS; anything else is refused 403 as CloudFront refuses a method the
behaviour does not allow). A route marked `edge_cached` is answered from a cache for the TTL,
keyed on the path, the query strings of the cache policy (`cache_key_query`) and the Origin
header; only 2xx answers are kept. A miss goes to the first origin of the group and, when it
refuses the connection, does not answer within the read timeout, or answers one of the failover
statuses, to the second: per request, as an origin group does. Every request is recorded as a
CloudFront standard log line would record it (`log`).
"""

from __future__ import annotations

import fnmatch
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

from components.api_edge import ORIGIN_FAILOVER_STATUS_CODES, READ_METHODS, behaviour_order, cache_key_query, path_pattern
from components.openapi import Route

PASSED_HEADERS = ("Content-Type", "Location", "Retry-After", "Cache-Control")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class LogLine:
    method: str
    uri_stem: str
    uri_query: str
    status: int
    result_type: str  # Hit, Miss, Error
    request_id: str


class Edge:
    """The distribution's behaviour, without the HTTP server around it (`EdgeServer`)."""

    def __init__(self, origins: Sequence[str], routes: Sequence[Route], *, ttl_seconds: float, read_timeout: float = 5.0):
        self.origins = list(origins)[:2]  # an origin group holds two
        self.behaviours = behaviour_order(routes)
        self.key_query = cache_key_query(routes)
        self.ttl_seconds = ttl_seconds
        self.read_timeout = read_timeout
        self.cache: dict[tuple, tuple[float, Answer]] = {}
        self.log: list[LogLine] = []
        self.lock = threading.Lock()

    def cached(self, path: str) -> bool:
        """Whether the behaviour CloudFront picks for `path` caches: the first whose pattern
        matches (`*` any characters, slashes too; `?` one), else the default, which does not."""
        route = next((r for r in self.behaviours if fnmatch.fnmatchcase(path, path_pattern(r.path))), None)
        return route is not None and route.edge_cached

    def handle(self, method: str, target: str, origin_header: str | None) -> Answer:
        split = urlsplit(target)
        answer, result = self._answer(method, split.path, split.query, origin_header)
        with self.lock:
            self.log.append(LogLine(method, split.path, split.query or "-", answer.status, result, uuid.uuid4().hex))
        return answer

    def _answer(self, method: str, path: str, query: str, origin_header: str | None) -> tuple[Answer, str]:
        if method not in READ_METHODS:
            return Answer(403, {"Content-Type": "application/json"}, b'{"message": "method not allowed at the edge"}'), "Error"
        cached = method == "GET" and self.cached(path)
        pairs = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not cached or k in self.key_query)
        key = (path, tuple(pairs), origin_header)
        now = time.monotonic()
        if cached:
            with self.lock:
                hit = self.cache.get(key)
            if hit and hit[0] > now:
                return hit[1], "Hit"
        answer = self._from_origins(method, path + (f"?{urlencode(pairs)}" if pairs else ""), origin_header)
        if cached and 200 <= answer.status < 300:
            with self.lock:
                self.cache[key] = (now + self.ttl_seconds, answer)
        return answer, "Miss" if answer.status < 400 else "Error"

    def _from_origins(self, method: str, path: str, origin_header: str | None) -> Answer:
        answer = Answer(504, {"Content-Type": "application/json"}, b'{"message": "no origin answered"}')
        for base in self.origins:
            answer = self._fetch(base + path, method, origin_header)
            if answer.status not in ORIGIN_FAILOVER_STATUS_CODES:
                return answer
        return answer

    def _fetch(self, url: str, method: str, origin_header: str | None) -> Answer:
        request = urllib.request.Request(url, method=method, headers={"Origin": origin_header} if origin_header else {})
        try:
            with urllib.request.urlopen(request, timeout=self.read_timeout) as response:
                return Answer(response.status, _passed(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, _passed(error.headers), error.read())
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError):
            return Answer(504, {"Content-Type": "application/json"}, b'{"message": "origin did not answer"}')


def _passed(headers) -> dict[str, str]:
    out = {name: headers[name] for name in PASSED_HEADERS if headers.get(name)}
    for name, value in headers.items():
        if name.lower().startswith("access-control-"):
            out[name] = value
    return out


class _EdgeHandler(BaseHTTPRequestHandler):
    server: EdgeServer

    def log_message(self, *_):
        pass

    def _serve(self) -> None:
        if self.command in ("POST", "PUT", "DELETE", "PATCH"):
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
        answer = self.server.edge.handle(self.command, self.path, self.headers.get("Origin"))
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if not any(n.lower() == "access-control-allow-origin" for n in answer.headers):
            self.send_header("Access-Control-Allow-Origin", "*")  # CloudFront's own refusals too
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class EdgeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, edge: Edge, port: int = 0):
        super().__init__(("127.0.0.1", port), _EdgeHandler)
        self.edge = edge
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> EdgeServer:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def routes() -> list[Route]:
    from stack import api_contract

    return api_contract.edge_routes()
