"""Run the policy rules over the resources the offline run recorded (no Pulumi CLI needed)."""

from __future__ import annotations

from typing import Any

from policy.rules import RULES, Resource
from policy.rules import evaluate as evaluate_rules
from policy.secrets import secrets_in

# Outputs whose names say they carry a credential must be secret (the engine stores plain
# outputs in clear in the stack's state and prints them); so must any output whose value looks
# like one, whatever it is called.
SECRET_OUTPUT_WORDS = ("key", "secret", "password", "token", "credential")


def resources_of(run) -> list[Resource]:
    return [
        Resource(
            type=r.type,
            urn=r.urn,
            name=r.name,
            props=r.inputs,
            property_dependencies=r.property_dependencies,
            additional_secret_outputs=tuple(r.additional_secret_outputs),
        )
        for r in run.resources
        if r.custom
    ]


def secret_output_findings(run) -> list[dict[str, str]]:
    stack_urn = f"urn:pulumi:{run.stack}::{run.project}::pulumi:pulumi:Stack::{run.project}-{run.stack}"
    findings = []
    for name, value in run.outputs.items():
        if name in run.secret_outputs:
            continue
        if any(word in name.lower() for word in SECRET_OUTPUT_WORDS):
            findings.append(f"output {name} is named like a credential but is not secret")
        elif found := secrets_in(value):
            findings.append(f"output {name} holds a value that looks like a credential ({found[0]}) but is not secret")
    return [{"rule": "no-plain-secret-outputs", "urn": stack_urn, "message": message} for message in findings]


def evaluate(run) -> dict[str, Any]:
    """{"rules", "violations" (mandatory), "advisories"} for the plan document."""
    findings = evaluate_rules(resources_of(run))
    return {
        "rules": [rule.name for rule in RULES] + ["no-plain-secret-outputs"],
        "violations": [_finding(f) for f in findings if f["enforcement"] == "mandatory"] + secret_output_findings(run),
        "advisories": [_finding(f) for f in findings if f["enforcement"] == "advisory"],
    }


def _finding(found: dict[str, str]) -> dict[str, str]:
    return {k: found[k] for k in ("rule", "urn", "message")}
