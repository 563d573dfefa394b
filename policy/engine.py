"""Run the policy rules over the resources the offline run recorded (no Pulumi CLI needed)."""

from __future__ import annotations

from typing import Any

from policy.rules import RULES, Resource
from policy.rules import evaluate as evaluate_rules

# Outputs whose names say they carry a credential must be secret (the engine stores plain
# outputs in clear in the stack's state and prints them).
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
    return [
        {
            "rule": "no-plain-secret-outputs",
            "urn": stack_urn,
            "message": f"output {name} looks like a credential but is not secret",
        }
        for name in run.outputs
        if any(word in name.lower() for word in SECRET_OUTPUT_WORDS) and name not in run.secret_outputs
    ]


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
