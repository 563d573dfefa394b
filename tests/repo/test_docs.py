"""The documentation stands alone: no reference outside the repository, every link resolves, the
embedded data-flow chart is the one the plan draws today."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_no_document_sends_the_reader_outside_the_repository(document):
    text = document.read_text()
    assert "shared/" not in text and not re.search(r"(?<!\.)\.\./", text), document.name


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(document):
    text = document.read_text()
    headings = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", text, re.M)}
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        if path:
            assert (document.parent / path).exists(), f"{document.name}: {target} does not exist"
        elif anchor:
            assert anchor in headings, f"{document.name}: no heading for #{anchor}"


def test_the_design_embeds_the_data_flow_the_plan_draws_today():
    from ops.dataflow import render
    from tests.helpers import cached_stack

    design = (ROOT / "docs" / "design.md").read_text()
    embedded = design.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert embedded == render(cached_stack("dr")), "regenerate: python -m ops.plan dr --format mermaid"


def test_the_backup_budget_quoted_in_the_docs_is_the_one_the_dr_stack_exports():
    import json

    from tests.helpers import cached_stack

    text = (ROOT / "docs" / "backups.md").read_text()
    quoted = text.split("<!-- backup-budget:dr -->\n```json\n", 1)[1].split("```", 1)[0]
    assert json.loads(quoted) == cached_stack("dr").outputs["drBudget"]["backup"]


USER_DOCS = (
    "design.md",
    "runbook.md",
    "prerequisites.md",
    "costs.md",
    "teardown.md",
    "first-post.md",
    "backups.md",
    "analytics.md",
)


def test_the_docs_cover_what_a_user_needs():
    assert {*USER_DOCS, "components.md"} <= {p.name for p in DOCUMENTS}
    readme = (ROOT / "README.md").read_text()
    for doc in USER_DOCS:
        assert f"](docs/{doc})" in readme, doc
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_the_readme_configuration_reference_lists_every_key_with_its_default_and_stack_values():
    from stack.project import load_project, load_stack_file
    from tests.helpers import fixture_file

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration reference") : readme.index("## Status")]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        for name in re.findall(r"`(\w+)`", cells[0]) if line.startswith("| `") else []:
            rows[name] = cells
    project = load_project()
    assert sorted(rows) == sorted(project.keys), "README config reference and Pulumi.yaml differ"
    for stack, column in (("dev", 3), ("dr", 4)):
        values = {k.split(":", 1)[1] for k in load_stack_file(stack, path=fixture_file(stack)) if k.startswith("serverless-dr:")}
        stated = {name for name, cells in rows.items() if cells[column]}
        # A row shared by two keys states a value when either is set.
        shared = {name for name, cells in rows.items() if cells[0].count("`") > 2}
        assert values - shared == stated - shared, f"{stack} column != Pulumi.{stack}.yaml"
