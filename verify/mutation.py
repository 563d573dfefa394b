"""What a mutant is and the small edits that make one: shared by the generators in
verify.mutants (one insecure edit per protection) and verify.property_mutants (every spelling of
one insecure property)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from policy.rules import Resource

FOREIGN_ACCOUNT = "999999999999"


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    target: str  # URN whose finding kills it ("" for any)
    mutate: Callable[[list[Resource]], list[Resource]]


def with_props(resource: Resource, **changes: Any) -> Resource:
    props = copy.deepcopy(dict(resource.props))
    for key, value in changes.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return replace(resource, props=props)


def swap(target: Resource, changed: Resource) -> Callable[[list[Resource]], list[Resource]]:
    return lambda resources: [changed if r.urn == target.urn else r for r in resources]


def add(*added: Resource) -> Callable[[list[Resource]], list[Resource]]:
    return lambda resources: [*resources, *added]


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def statements_of(value: Any) -> list[dict]:
    document = json.loads(value) if isinstance(value, str) else (value or {})
    statements = document.get("Statement", [])
    return list(statements if isinstance(statements, list) else [statements])


def append_statement(value: Any, statement: dict) -> str:
    return document(*statements_of(value), statement)


def adding(resource: Resource, statement: dict, prop: str = "policy") -> Callable[[list[Resource]], list[Resource]]:
    """The mutation that appends `statement` to the policy document in `resource`'s `prop`."""
    return swap(resource, with_props(resource, **{prop: append_statement(resource.props.get(prop) or document(), statement)}))


def new_resource(type_: str, name: str, **props: Any) -> Resource:
    return Resource(type=type_, urn=f"urn:pulumi:mutant::p::{type_}::{name}", name=name, props=props)


def of_type(resources: list[Resource], type_: str) -> list[Resource]:
    return [r for r in resources if r.type == type_]


def arn_or(resource: Resource, fallback: str) -> str:
    return str(resource.props.get("arn") or fallback)


PUBLIC = {"Sid": "Mutant", "Effect": "Allow", "Principal": "*"}


def public(action: str, resource: str = "*", **extra: Any) -> dict:
    return {**PUBLIC, "Action": action, "Resource": resource, **extra}


def foreign(action: str, resource: str = "*") -> dict:
    return {
        "Sid": "Mutant",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"},
        "Action": action,
        "Resource": resource,
    }
