"""The container backend (functions/container/app.py) as an HTTP server: the same handlers as the
Lambda functions, reached over a socket. The API contract's fuzz and scenarios run through it too
(test_api_schema_fuzz.py, "through the gateway to the container"); here, what only HTTP shows:
the health route, idempotent writes over real requests, the request's deadline, and the image's
recipe."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTAINER = ROOT / "functions" / "container"


class _Quiet(WSGIRequestHandler):
    def log_message(self, *_):
        pass


@pytest.fixture
def served(regional):
    from container.app import application

    server = make_server("127.0.0.1", 0, application, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _http(url: str, method: str = "GET", body=None, headers=None) -> tuple[int, dict, dict | None]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, headers_, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers_, raw = error.code, dict(error.headers), error.read()
    return status, headers_, json.loads(raw) if raw else None


def test_health_posts_and_reads_answer_as_the_functions_do_and_a_repeated_write_is_applied_once(served):
    status, _, health = _http(served + "/health")
    assert status == 200 and health["status"] == "ok"
    key = uuid.uuid4().hex
    first = _http(served + "/posts", "POST", {"title": "From a container", "body": "hi"}, {"Idempotency-Key": key})
    again = _http(served + "/posts", "POST", {"title": "From a container", "body": "hi"}, {"Idempotency-Key": key})
    assert first[0] == again[0] == 201 and first[2]["id"] == again[2]["id"]
    status, _, post = _http(served + f"/posts/{first[2]['id']}")
    assert status == 200 and post["title"] == "From a container"
    listed = _http(served + "/posts")[2]
    assert [p["id"] for p in listed["items"]].count(first[2]["id"]) == 1


def test_bad_input_is_the_contracts_4xx_never_a_5xx(served):
    from verify.api_contract import Contract, blog_document

    contract = Contract(blog_document())
    for method, path, body in (("POST", "/posts", {"title": ""}), ("GET", "/posts/not-an-id", None), ("GET", "/nowhere", None)):
        status, _, answer = _http(served + path, method, body)
        assert 400 <= status < 500, (method, path, status)
        if path != "/nowhere":
            assert contract.problems(method, path, {"statusCode": status, "body": json.dumps(answer)}) == []


def test_the_request_deadline_is_the_integrations_and_runs_down():
    from container.app import REQUEST_SECONDS, RequestContext

    now = [100.0]
    context = RequestContext("r1", clock=lambda: now[0])
    assert context.get_remaining_time_in_millis() == int(REQUEST_SECONDS * 1000) and REQUEST_SECONDS < 30
    now[0] += REQUEST_SECONDS - 1
    assert context.get_remaining_time_in_millis() == 1000
    now[0] += 5
    assert context.get_remaining_time_in_millis() == 0


def test_the_image_installs_only_hash_pinned_wheels_and_runs_the_app_as_nobody():
    dockerfile = (CONTAINER / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (ROOT / source).exists(), source
    assert re.search(r"pip install --require-hashes --only-binary=:all:", dockerfile)
    assert re.search(r"^USER 65534", dockerfile, re.M)
    module, attr = re.search(r'"(\w+\.\w+):(\w+)"\]', dockerfile).groups()
    from importlib import import_module

    assert callable(getattr(import_module(module), attr))
    pins = [line for line in (CONTAINER / "requirements.lock").read_text().splitlines() if line and not line.startswith("#")]
    assert all(re.match(r"^[\w.-]+==[\w.]+ --hash=sha256:[0-9a-f]{64}$", line) for line in pins)
    names = {line.split("==")[0].replace("_", "-").lower() for line in pins}
    assert {"boto3", "botocore", "gunicorn"} <= names  # what Lambda's runtime brings, and the server
    assert not names & {
        line.split("==")[0].lower()
        for line in (ROOT / "functions" / "requirements.lock").read_text().splitlines()
        if "==" in line
    }
