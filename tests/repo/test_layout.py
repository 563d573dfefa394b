"""The layout's one rule, read from the import graph: imports run one way only.

verify/ (what proves the program offline) -> ops/ (what an operator runs) -> stack/ ->
components/ and functions/; verify/ -> policy/. Operator code never imports the verification
machinery, the policy pack imports nothing of the project but itself, and the reusable
components never import the blog that composes them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = {"components", "functions", "ops", "policy", "stack", "verify", "tests", "shared"}

# What each package may import of the project (besides itself). `shared` is how the functions and
# the operator commands that reuse their protocol code import the functions' common package.
ALLOWED = {
    "policy": set(),
    "functions": {"shared"},
    "components": set(),
    "stack": {"components", "functions"},
    "ops": {"stack", "components", "functions", "shared", "policy"},
    "verify": {"ops", "stack", "components", "functions", "shared", "policy"},
}


def project_imports(path: Path) -> set[str]:
    """The project packages `path` imports, at any depth (lazy imports inside functions count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {name.split(".")[0] for name in names} & PROJECT_PACKAGES
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_run_one_way(package):
    strays = {
        str(path.relative_to(ROOT)): sorted(project_imports(path) - ALLOWED[package] - {package})
        for path in sorted((ROOT / package).rglob("*.py"))
        if "venv" not in path.parts
    }
    assert {path: names for path, names in strays.items() if names} == {}


def test_the_check_sees_a_lazy_upward_import(tmp_path):
    module = tmp_path / "upward.py"
    module.write_text("def f():\n    from verify.harness import configure\n    return configure\n")
    assert project_imports(module) == {"verify"}
