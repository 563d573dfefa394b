"""The OpenAPI document API Gateway imports is one a client can be generated from: valid OpenAPI
3.0, every status the API answers declared with its body, parameters as strict as the handler's
checks, and a check of answers against it that fails when an answer strays."""

import pytest
from openapi_spec_validator import validate

from verify.api_contract import Contract, blog_document
from verify.harness import configure

configure()  # the handler's modules, for the limits the document must repeat exactly
from shared.intent import SCOPES  # noqa: E402

DOCUMENT = blog_document()
CONTRACT = Contract(DOCUMENT)
OPERATIONS = [(path, method, op) for path, item in DOCUMENT["paths"].items() for method, op in item.items()]
POST = "/posts/" + "a" * 32
# The routes the write path (shared/writes.py) scopes intents for.
# A test purchase (POST /premium/purchases) is written under POST /purchases' scope.
WRITES = {(route.split()[0].lower(), route.split()[1]) for route in SCOPES} | {("post", "/premium/purchases")}


def test_the_document_is_valid_openapi_including_the_preflights_of_templated_paths():
    validate(DOCUMENT)
    for path, item in DOCUMENT["paths"].items():
        declared = {p["name"] for p in item["options"].get("parameters", []) if p["in"] == "path"}
        assert declared == {part[1:-1] for part in path.split("/") if part.startswith("{")}, path


@pytest.mark.parametrize(
    ("path", "method", "operation"),
    [o for o in OPERATIONS if o[1] != "options" and not o[1].startswith("x-")],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_every_operation_declares_its_answers_and_the_gateways(path, method, operation):
    statuses = set(operation["responses"])
    assert any(s.startswith("2") for s in statuses) and "429" in statuses
    # 403 is the gateway's for a keyed route, and the function's for a reader who lacks a purchase.
    takes_reader_token = any(p["name"] == "Authorization" for p in operation["parameters"])
    if operation.get("security"):
        assert "403" in statuses
    if "403" in statuses:
        assert operation.get("security") or takes_reader_token
    for status, response in operation["responses"].items():
        if status != "204":
            assert "content" in response, (path, method, status)
    # The writes that go through the write path (shared/writes.py) take a key and may be deferred.
    idempotent = (method, path) in WRITES
    assert ("Idempotency-Key" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}) is idempotent
    if idempotent:
        assert "Location" in operation["responses"]["202"]["headers"]
    if "503" in statuses:
        assert "Retry-After" in operation["responses"]["503"]["headers"]


def test_a_method_a_path_does_not_declare_is_405_from_the_gateway_with_allow():
    for path, item in DOCUMENT["paths"].items():
        catch_all = item["x-amazon-apigateway-any-method"]
        answer = catch_all["x-amazon-apigateway-integration"]
        assert answer["type"] == "mock" and "security" not in catch_all
        declared = {m.upper() for m in item if not m.startswith("x-")}
        allow = answer["responses"]["default"]["responseParameters"]["method.response.header.Allow"].strip("'")
        assert set(allow.split(",")) == declared, path
        assert answer["responses"]["default"]["statusCode"] == "405" and "405" in catch_all["responses"]


def test_the_published_links_name_operations_and_values_the_answer_has():
    """Each link of the client's document calls an operation that exists, and fills only
    parameters that operation declares, from a field the linked answer's schema has."""
    import re

    from stack.api_contract import published_document

    published = published_document(["https://api.example.com"], 1024)
    operations = {op["operationId"]: op for item in published["paths"].values() for op in item.values()}
    schemas = published["components"]["schemas"]
    links = 0
    for item in published["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                for link in response.get("links", {}).values():
                    target = operations[link["operationId"]]
                    assert set(link["parameters"]) <= {p["name"] for p in target["parameters"]}
                    for expression in link["parameters"].values():
                        field = re.fullmatch(r"\$response\.(body#/(\w+)|header\.([\w-]+))", expression)
                        assert field, expression
                        if field.group(2):
                            model = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
                            assert field.group(2) in schemas[model]["properties"], (model, expression)
                        else:
                            assert field.group(3) in response["headers"], expression
                        links += 1
    assert links >= 10


def _parameter(path, method, name):
    return next(p["schema"] for p in DOCUMENT["paths"][path][method]["parameters"] if p["name"] == name)


def test_parameters_are_as_strict_as_the_handler():
    from api import app, posts, uploads
    from shared.intent import MAX_VERSION

    assert _parameter("/posts/{id}", "get", "id")["pattern"] == f"^{app._POST_ID.pattern}$"
    assert _parameter("/posts", "get", "limit")["maximum"] == posts.MAX_PAGE
    assert _parameter("/posts/{id}", "delete", "version")["maximum"] == MAX_VERSION
    assert _parameter("/posts", "post", "Idempotency-Key")["pattern"] == f"^{app._IDEMPOTENCY_KEY.pattern}$"
    assert _parameter("/thumbnails/{name}", "get", "name")["pattern"] == f"^{uploads.THUMBNAIL_NAME.pattern}$"


def test_the_check_names_an_undeclared_status_a_body_that_strays_and_a_body_where_none_is_declared():
    assert CONTRACT.problems("DELETE", POST, {"statusCode": 201, "body": "{}"}) == [
        "DELETE /posts/{id}: 201 is not declared (declared: 202, 204, 400, 403, 404, 409, 422, 429, 503)"
    ]
    strays = CONTRACT.problems("GET", "/posts", {"statusCode": 200, "body": '{"items": [{"id": "x"}], "next_cursor": null}'})
    assert any("items/0" in p and "'title' is a required property" in p for p in strays)
    assert CONTRACT.problems("DELETE", POST, {"statusCode": 204, "body": "{}"}) == [
        "DELETE /posts/{id}: 204 declares no body, got '{}'"
    ]
    assert CONTRACT.problems("GET", POST, {"statusCode": 404, "body": "not json"})
    # What the document does not have is the gateway's to answer, not the function's.
    assert CONTRACT.problems("PATCH", POST, {"statusCode": 404, "body": "{}"}) == []


def test_the_reference_in_docs_is_the_one_rendered_from_the_document():
    from pathlib import Path

    from verify.api_contract import markdown_reference

    text = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    section = text[text.index("<!-- api-reference:start -->") : text.index("<!-- api-reference:end -->")]
    assert section.split("\n", 1)[1] == markdown_reference(DOCUMENT), "run: python -m verify.readme api"


@pytest.mark.parametrize("stack", ["dev", "dr"])
def test_each_stack_publishes_the_document_a_client_is_generated_from(stack):
    import json

    from tests.helpers import cached_stack

    run = cached_stack(stack)
    published = run.outputs["apiDocument"]
    validate(published)
    regional = [run.outputs["apiUrls"][region] for region in run.outputs["regions"]]
    assert [s["url"] for s in published["servers"]] == list(dict.fromkeys([run.outputs["apiPublicUrl"], *regional]))
    assert "x-amazon-apigateway" not in json.dumps(published)
    assert not any("options" in item for item in published["paths"].values())
    assert published["paths"].keys() == DOCUMENT["paths"].keys()
