"""An answer of the API held to its OpenAPI document: the status is one the operation declares,
and the body is the one declared for that status (none, or JSON valid against its schema).

The document is the one API Gateway imports (components/openapi.py over functions/api/routes.json
and its schemas), so what a client generated from it expects is what the handler is checked
against. Paths and methods the document does not have are left alone: API Gateway answers them
before any function runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

DOCUMENT_URI = "urn:serverless-dr:api"


def blog_document() -> dict[str, Any]:
    """The blog API's document as a region imports it, preflights included."""
    from stack import api_contract

    return api_contract.document(allowed_origin="https://www.example.com")


class Contract:
    def __init__(self, document: Mapping[str, Any]):
        self.document = document
        resource = Resource.from_contents(dict(document), default_specification=DRAFT4)
        self._registry = Registry().with_resource(DOCUMENT_URI, resource)
        self._templates = [(re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path))), path) for path in document["paths"]]

    def operation(self, method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """(the path template, its operation for `method`), or Nones when the document has neither."""
        for pattern, template in self._templates:
            if pattern.fullmatch(path):  # not match with $: it would take "/posts\n" for /posts
                return template, self.document["paths"][template].get(method.lower())
        return None, None

    def problems(self, method: str, path: str, response: Mapping[str, Any]) -> list[str]:
        """What is wrong with a Lambda proxy `response` to `method path` (empty when it holds)."""
        if method.upper() == "OPTIONS":
            return []  # answered by the gateway's mock integration, not the function
        template, operation = self.operation(method, path)
        if operation is None:
            return []
        where = f"{method.upper()} {template}"
        status = str(response["statusCode"])
        declared = operation["responses"].get(status)
        if declared is None:
            return [f"{where}: {status} is not declared (declared: {', '.join(operation['responses'])})"]
        body = response.get("body")
        if "content" not in declared:
            return [f"{where}: {status} declares no body, got {str(body)[:80]!r}"] if body else []
        try:
            data = json.loads(body or "")
        except ValueError:
            return [f"{where}: {status} declares a JSON body, got {str(body)[:80]!r}"]
        ref = declared["content"]["application/json"]["schema"]["$ref"]
        validator = Draft4Validator({"$ref": DOCUMENT_URI + ref}, registry=self._registry)
        return [
            f"{where}: {status} body at {'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
            for e in validator.iter_errors(data)
        ]


def markdown_reference(document: Mapping[str, Any]) -> str:
    """docs/api.md's reference: every operation with its parameters, body and answers, then each
    model's fields, from the document itself."""
    lines = ["| Operation | API key | Parameters | Body | Answers |", "|---|---|---|---|---|"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "options" or method.startswith("x-"):
                continue  # the gateway's own answers: the preflight, and 405 for undeclared methods
            params = ", ".join(
                f"`{p['name']}` ({p['in']}{', required' if p.get('required') else ''})" for p in operation["parameters"]
            )
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            answers = ", ".join(f"{status} {_model(response)}".strip() for status, response in operation["responses"].items())
            keyed = "yes" if operation.get("security") else ""
            lines.append(
                f"| `{method.upper()} {path}` | {keyed} | {params} | {_model({'content': {'application/json': {'schema': body}}}) if body else ''} | {answers} |"
            )
    lines += ["", "| Model | Required | Other fields |", "|---|---|---|"]
    for name, schema in document["components"]["schemas"].items():
        properties = schema.get("properties", {})
        required = schema.get("required", [])
        optional = [field for field in properties if field not in required]
        lines.append(f"| `{name}` | {', '.join(f'`{f}`' for f in required)} | {', '.join(f'`{f}`' for f in optional)} |")
    return "\n".join(lines) + "\n"


def _model(response: Mapping[str, Any]) -> str:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return f"`{ref.rsplit('/', 1)[-1]}`" if ref else ""
