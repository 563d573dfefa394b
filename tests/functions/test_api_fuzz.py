"""Property: whatever a caller sends, the API answers with a non-5xx JSON response, with a status
and a body its OpenAPI document declares (tests/functions/conftest.py holds every answer to it).

Hypothesis generates methods, paths (real routes, mangled ones, random text), headers, query
strings and bodies (random text, random JSON, and schema-shaped objects with wrong values), and
every one goes through the real handler against moto.
"""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from verify.harness import FakeContext, api_event, check_contract, make_regional_resources, reset_handler_state

# make test; make soak runs SOAK_EXAMPLES (the schema-driven fuzz, test_api_schema_fuzz.py, covers
# the shapes the document allows; this one the shapes it does not).
EXAMPLES = 200
SOAK_EXAMPLES = 3000
ROUTES = ["/health", "/posts", "/posts/" + "a" * 32, "/subscribers", "/uploads", "/events", "/"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["title", "body", "tags", "version", "email", "content_type", "size", "post_id", "type", "x"])
shaped_objects = st.dictionaries(field_names, json_values, max_size=5)
bodies = st.one_of(
    st.none(),
    st.text(max_size=200),
    json_values.map(json.dumps),
    shaped_objects.map(json.dumps),
    st.binary(max_size=64).map(lambda b: b.decode("latin-1")),
)
paths = st.one_of(
    st.sampled_from(ROUTES),
    st.text(alphabet=string.ascii_letters + string.digits + "/-_.%", max_size=60).map(lambda p: "/" + p),
    st.text(max_size=40).map(lambda t: "/posts/" + t),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/xml"]
        ),
        "Idempotency-Key": st.text(max_size=70),
        "Origin": st.sampled_from(["https://www.example.com", "https://evil.example.net", ""]),
        "X-Api-Key": st.text(max_size=20),
    },
)
queries = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {}, optional={"limit": st.text(max_size=5), "cursor": st.text(max_size=40), "version": st.text(max_size=5)}
    ),
)
anything = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
        "path": paths,
        "headers": headers,
        "query": queries,
        "body": bodies,
    }
)
# Well-formed JSON to the body-taking routes, so the schema checks and the writes are reached.
json_to_routes = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["POST", "PUT"]),
        "path": st.sampled_from(["/posts", "/posts/" + "a" * 32, "/subscribers", "/uploads", "/events"]),
        "headers": st.just({"Content-Type": "application/json"}),
        "query": st.none(),
        "body": shaped_objects.map(json.dumps),
    }
)
requests = st.one_of(anything, json_to_routes)


def test_no_request_gets_a_server_error():
    no_request_gets_a_server_error(EXAMPLES)


@pytest.mark.soak
def test_no_request_gets_a_server_error_at_length():
    no_request_gets_a_server_error(SOAK_EXAMPLES)


def no_request_gets_a_server_error(examples: int):
    from api.app import handler

    seen = []
    with mock_aws():
        reset_handler_state()
        make_regional_resources()

        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(request=requests)
        def check(request):
            event = api_event(request["method"], request["path"], headers=request["headers"], query=request["query"])
            event["body"] = request["body"]
            response = handler(event, FakeContext())
            check_contract(request["method"], request["path"], response)  # held at the test's end
            seen.append(response["statusCode"])
            assert response["statusCode"] < 500, (request, response)
            if response["statusCode"] >= 400 and response.get("body"):
                assert "error" in json.loads(response["body"])

        check()
        reset_handler_state()
    assert len(seen) >= examples * 0.8
    # The generator reaches past the error paths into accepted requests too.
    assert any(s < 300 for s in seen) and any(s == 422 for s in seen) and any(s == 404 for s in seen)


# --- the parameters a caller controls, at their nastiest ------------------------------------------

digits_of_any_script = st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=6)
huge_numbers = st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n)
numbers = st.one_of(
    digits_of_any_script, huge_numbers, st.integers().map(str), st.sampled_from(["1e3", "0x10", " 5", "5 ", "+5", "-1", "", "²"])
)
cursors = st.one_of(
    st.text(max_size=80),
    st.builds(lambda a, b: f"{a}.{b}", st.text(alphabet=string.ascii_letters + "-_", max_size=60), st.text(max_size=30)),
    st.binary(max_size=60).map(lambda b: __import__("base64").urlsafe_b64encode(b).decode()),
)
lone_surrogates = st.sampled_from(["\\ud800", "\\udfff", "\\ud83d", "a\\udc00b"])
surrogate_bodies = st.one_of(
    lone_surrogates.map(lambda s: '{"email": "x' + s + '@example.com"}'),
    lone_surrogates.map(lambda s: '{"title": "' + s + '", "body": "b"}'),
    lone_surrogates.map(lambda s: '{"version": 1, "title": "' + s + '"}'),
    lone_surrogates.map(lambda s: '{"' + s + '": 1}'),
    st.just('{"title": "t", "body": "b", "tags": ["\ud800"]}'),
)
version_bodies = numbers.map(
    lambda n: '{"version": ' + (n if n.isascii() and n.strip("+-").isdigit() else json.dumps(n)) + ', "title": "t"}'
)
parameter_requests = st.one_of(
    st.fixed_dictionaries(
        {"method": st.just("GET"), "path": st.just("/posts"), "query": st.fixed_dictionaries({"limit": numbers})}
    ),
    st.fixed_dictionaries(
        {"method": st.just("GET"), "path": st.just("/posts"), "query": st.fixed_dictionaries({"cursor": cursors})}
    ),
    st.fixed_dictionaries(
        {"method": st.just("DELETE"), "path": st.just("/posts/" + "a" * 32), "query": st.fixed_dictionaries({"version": numbers})}
    ),
    st.fixed_dictionaries({"method": st.just("PUT"), "path": st.just("/posts/" + "a" * 32), "body": version_bodies}),
    st.fixed_dictionaries(
        {
            "method": st.sampled_from(["POST", "PUT"]),
            "path": st.sampled_from(["/posts", "/subscribers", "/posts/" + "a" * 32]),
            "body": surrogate_bodies,
        }
    ),
    st.fixed_dictionaries({"method": st.just("GET"), "path": st.text(max_size=40).map(lambda t: "/posts/" + t)}),
    st.fixed_dictionaries({"method": st.just("GET"), "path": st.text(max_size=90).map(lambda t: "/writes/" + t)}),
)


def test_no_parameter_of_any_script_or_size_gets_a_server_error():
    """Unicode digits, numbers past Python's 4,300-digit limit or DynamoDB's 38, forged cursors and
    write ids, lone surrogates: each is the caller's mistake, answered 4xx with a JSON error."""
    from api.app import handler

    statuses = []
    with mock_aws():
        reset_handler_state()
        make_regional_resources()
        for title in ("a", "b", "c"):
            handler(api_event("POST", "/posts", body={"title": title, "body": "x"}), FakeContext())

        @settings(max_examples=400, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(request=parameter_requests)
        def check(request):
            event = api_event(request["method"], request["path"], query=request.get("query"))
            if "body" in request:
                event["body"] = request["body"]
                event["headers"]["Content-Type"] = "application/json"
            response = handler(event, FakeContext())
            check_contract(request["method"], request["path"], response)
            statuses.append(response["statusCode"])
            assert response["statusCode"] < 500, (request, response)
            if response["statusCode"] >= 400:
                assert "error" in json.loads(response["body"])

        check()
        reset_handler_state()
    assert {400, 404, 422} <= set(statuses)
