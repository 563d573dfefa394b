"""A client of the blog API that fails over between regions by itself.

The generated client (`serverless_dr_client`, from the stack's OpenAPI document) sends each
request through `FailoverTransport`, which knows every server the stack publishes (its
`apiDocument` output: the public URL, then each region's own) and does what the project's page
does in the browser:

- a request goes to the server that answered last; one that refuses, answers 5xx or 429 is left
  for `down_seconds` (or its Retry-After) and the next server is tried at once; one that has not
  answered within `hedge_seconds` is joined by the next server, and the first good answer wins;
- a write (POST, PUT, DELETE) carries one Idempotency-Key on every attempt (the caller's, or one
  made here), so a write that did land in the region that went quiet is not applied twice;
- with `edge` (the stack's `apiEdgeUrl`), reads go to the API's CloudFront edge first (cached,
  failing over between regions there), writes never; for `edge_cache_seconds` after a write,
  reads skip the edge, so the writer reads what it wrote; an edge that fails is passed over;
- a write answered 202 is followed through its Location until it is decided, and the caller gets
  the write's own answer (201 with the post, 200, 204, or the rejection), not the 202; one the
  accepting region lost (its id unknown for `unknown_write_seconds`, or pending past
  `pending_write_seconds`) is sent again, same key, through another region.

    from serverless_dr_failover import failover_client
    from serverless_dr_client.api.default import post_posts
    from serverless_dr_client.models import PostCreate

    client = failover_client(document["servers"], api_key="...")
    post = post_posts.sync(client=client, body=PostCreate(title="Hello", body="World"))

Only httpx and the generated package are needed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

import httpx

WRITES = frozenset({"POST", "PUT", "DELETE", "PATCH"})
READS = frozenset({"GET", "HEAD"})
# The generated client's base URL: the transport replaces it with a real server per attempt.
BASE = "https://regions.invalid"


class FailoverTransport(httpx.BaseTransport):
    def __init__(
        self,
        servers: Sequence[str],
        *,
        attempt_timeout: httpx.Timeout | None = None,
        down_seconds: float = 30.0,
        unknown_write_seconds: float = 3.0,
        pending_write_seconds: float = 20.0,
        poll_seconds: float = 0.5,
        hedge_seconds: float = 0.5,
        resends: int = 2,
        transport: httpx.BaseTransport | None = None,
        edge: str | None = None,
        edge_cache_seconds: float = 240.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        on_switch: Callable[[str, str], None] | None = None,
    ):
        if not servers:
            raise ValueError("servers: at least one URL is needed (the stack's apiDocument servers)")
        self.servers = [str(s).rstrip("/") for s in servers]
        self.attempt_timeout = attempt_timeout or httpx.Timeout(5.0, connect=1.0)
        self.down_seconds, self.poll_seconds, self.resends = down_seconds, poll_seconds, resends
        self.hedge_seconds = hedge_seconds
        self.unknown_write_seconds, self.pending_write_seconds = unknown_write_seconds, pending_write_seconds
        self.inner = transport or httpx.HTTPTransport()
        self.clock, self.sleep, self.on_switch = clock, sleep, on_switch
        self.current = self.servers[0]
        self.down_until: dict[str, float] = {}
        # The API's read edge (the stack's apiEdgeUrl): reads go there first, writes never; after
        # a write, reads skip it for edge_cache_seconds so the writer sees what it wrote.
        self.edge = edge.rstrip("/") if edge else None
        self.edge_cache_seconds = edge_cache_seconds
        self.past_the_edge_until = float("-inf")

    # --- one logical request ------------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in ("host", "content-length")]
        if request.method in WRITES and not any(k.lower() == "idempotency-key" for k, _ in headers):
            headers.append(("Idempotency-Key", uuid.uuid4().hex))
        target = request.url.raw_path.decode()
        if request.method in READS and self.edge and self.clock() >= self.past_the_edge_until:
            at_edge = self._at_edge(request.method, target, headers)
            if at_edge is not None:
                return at_edge
        response, server = self._anywhere(request.method, target, headers, body)
        if request.method in WRITES and response.status_code == 202:
            response = self._settle(request.method, target, headers, body, response, server)
        if request.method in WRITES:
            self.past_the_edge_until = self.clock() + self.edge_cache_seconds
        return response

    def _at_edge(self, method: str, target: str, headers) -> httpx.Response | None:
        """The edge's answer, or None when it failed (refused, 5xx, 429, 403 for a path it does
        not serve): the regions are asked as if there were no edge."""
        try:
            response = self._send(method, self.edge + target, headers, b"")
        except httpx.TransportError:
            return None
        return None if response.status_code >= 500 or response.status_code in (403, 429) else response

    def order(self) -> list[str]:
        """The current server first, then the others as published; those left for a while last."""
        now = self.clock()
        ranked = [self.current, *(s for s in self.servers if s != self.current)]
        return sorted(ranked, key=lambda s: self.down_until.get(s, 0.0) > now)

    def _anywhere(
        self, method: str, target: str, headers, body: bytes, *, avoid: str | None = None
    ) -> tuple[httpx.Response, str]:
        """The first good answer over the servers in order (the last bad one when none is good).
        A server that has not answered within `hedge_seconds` gets company: the next server is
        asked too, and the first good answer wins (every request here may be repeated: reads, and
        writes under one Idempotency-Key), so a hanging region costs a fraction of a second."""
        waiting = [s for s in self.order() if s != avoid] or self.order()
        last: tuple[httpx.Response, str] | None = None
        failure: Exception | None = None
        pool = ThreadPoolExecutor(max_workers=len(waiting))
        asked: dict = {}

        def ask_next() -> None:
            server = waiting.pop(0)
            asked[pool.submit(self._send, method, server + target, headers, body)] = server

        ask_next()
        try:
            while asked:
                done, _ = wait(list(asked), timeout=self.hedge_seconds if waiting else None, return_when=FIRST_COMPLETED)
                if not done:  # no answer yet: ask the next server as well
                    ask_next()
                    continue
                for future in done:
                    server = asked.pop(future)
                    try:
                        response = future.result()
                    except httpx.TransportError as error:  # refused, reset, timed out
                        self._leave(server, self.down_seconds)
                        failure = error
                        continue
                    if response.status_code >= 500 or response.status_code == 429:
                        self._leave(server, _retry_after(response, self.down_seconds))
                        last = (response, server)
                        continue
                    self._use(server)
                    return response, server
                if waiting and not asked:
                    ask_next()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # a hanging attempt ends at its own timeout
        if last is not None:
            return last
        raise failure or httpx.ConnectError("no server answered")

    def _send(self, method: str, url: str, headers, body: bytes) -> httpx.Response:
        request = httpx.Request(
            method, url, headers=headers, content=body, extensions={"timeout": self.attempt_timeout.as_dict()}
        )
        response = self.inner.handle_request(request)
        response.read()
        return response

    def _leave(self, server: str, seconds: float) -> None:
        self.down_until[server] = self.clock() + seconds

    def _use(self, server: str) -> None:
        if server != self.current and self.on_switch:
            self.on_switch(self.current, server)
        self.current = server
        self.down_until.pop(server, None)

    # --- a deferred write ---------------------------------------------------------------------

    def _settle(self, method: str, target: str, headers, body: bytes, accepted: httpx.Response, server: str) -> httpx.Response:
        for resend in range(self.resends + 1):
            fate = self._follow(server, accepted)
            if fate is not None:
                return _decided(fate, accepted)
            if resend == self.resends:
                break
            self._leave(server, self.down_seconds)  # it lost a write it accepted
            accepted, server = self._anywhere(method, target, headers, body, avoid=server)
            if accepted.status_code != 202:
                return accepted
        return httpx.Response(
            503,
            headers={"Content-Type": "application/json", "Retry-After": "5"},
            json={"error": "unavailable", "message": "no region applied the write; send it again with the same Idempotency-Key"},
        )

    def _follow(self, server: str, accepted: httpx.Response) -> dict[str, Any] | None:
        """The write's decided fate, or None when the accepting region seems to have lost it."""
        location = accepted.headers.get("Location") or accepted.json().get("location")
        url = str(httpx.URL(server + "/").join(location))  # an absolute path keeps the server's stage prefix
        started, seen = self.clock(), False
        while True:
            try:
                answer = self._send("GET", url, [("Accept", "application/json")], b"")
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code == 200:
                seen = True
                fate = answer.json()
                if fate.get("state") in ("applied", "rejected", "dead_lettered"):
                    return fate
            waited = self.clock() - started
            if (not seen and waited > self.unknown_write_seconds) or waited > self.pending_write_seconds:
                return None
            self.sleep(self.poll_seconds)


def _decided(fate: dict[str, Any], accepted: httpx.Response) -> httpx.Response:
    """The write's own answer, as if it had been decided at once."""
    headers = {"X-Write-Id": accepted.headers.get("X-Write-Id", fate.get("write_id", ""))}
    if fate["state"] == "applied":
        status = int(fate.get("status") or 200)
        if status == 204 or fate.get("result") is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, headers={**headers, "Content-Type": "application/json"}, content=json.dumps(fate["result"]))
    if fate["state"] == "rejected":
        error = {"error": "rejected", "message": fate.get("reason") or "the write was rejected"}
        return httpx.Response(int(fate.get("status") or 409), headers={**headers, "Content-Type": "application/json"}, json=error)
    error = {
        "error": "dead_lettered",
        "message": "the write was parked for an operator; send it again with the same Idempotency-Key",
    }
    return httpx.Response(503, headers={**headers, "Retry-After": "60"}, json=error)


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", default)))
    except ValueError:
        return default


def failover_client(servers: Sequence[str], *, api_key: str | None = None, **options: Any):
    """The generated client over every server; `api_key` for the keyed (write) routes."""
    from serverless_dr_client import AuthenticatedClient, Client

    transport = FailoverTransport(servers, **options)
    httpx_args = {"transport": transport}
    if api_key is None:
        return Client(base_url=BASE, httpx_args=httpx_args, raise_on_unexpected_status=True)
    return AuthenticatedClient(
        base_url=BASE,
        token=api_key,
        prefix="",
        auth_header_name="x-api-key",
        httpx_args=httpx_args,
        raise_on_unexpected_status=True,
    )
