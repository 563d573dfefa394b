"""Record Checkov's own name and resource types for every check on the program's resource types.

    python -m verify.coverage --terraform-types > types.json          # in the project's venv
    <venv with checkov>/bin/python verify/checkov_catalog.py types.json > policy/checkov_catalog.json

Runs where Checkov is installed (it is not a dependency of the project: the catalog is data the
policy tests read). Graph checks whose definition names every resource type are recorded with the
types they really filter on (their first `resource_type` filter), so the coverage table does not
list a CodeCommit check against an S3 bucket.
"""

from __future__ import annotations

import json
import sys


def _graph_types(check) -> list[str]:
    definition = getattr(check, "definition", None) or {}
    text = json.dumps(definition)
    declared = list(check.resource_types or [])
    if len(declared) < 30:
        return declared
    # A check over "every" type: its filter says which it means (CloudFormation-style names stay out).
    return sorted({t for t in declared if t in text})


def main(types_file: str) -> int:
    from checkov.common.checks_infra.registry import get_graph_checks_registry
    from checkov.terraform.checks.resource.registry import resource_registry
    from checkov.version import version

    with open(types_file) as handle:
        wanted = set(json.load(handle))
    checks: dict[str, dict] = {}
    for resource_type, registered in resource_registry.checks.items():
        for check in registered:
            if resource_type in wanted:
                checks.setdefault(check.id, {"name": check.name, "resources": set()})["resources"].add(resource_type)
    graph = get_graph_checks_registry("terraform")
    graph.load_checks()
    for check in graph.checks:
        types = set(_graph_types(check)) & wanted
        if types:
            checks.setdefault(check.id, {"name": check.name, "resources": set()})["resources"] |= types
    out = {
        "tool": "checkov",
        "version": version,
        "checks": {k: {"name": v["name"], "resources": sorted(v["resources"])} for k, v in sorted(checks.items())},
    }
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
