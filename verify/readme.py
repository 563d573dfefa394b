"""Generated sections of README.md: the text between `<!-- <name>:start -->` and `<!-- <name>:end -->`
is replaced by a tool's latest figures (benchmarks, the fault suite, the simulation, costs)."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def replace_section(name: str, text: str, readme: Path = README) -> None:
    start, end = markers(name)
    content = readme.read_text()
    if start not in content or end not in content:
        raise SystemExit(f"{readme.name} has no {start} ... {end} section")
    before, rest = content.split(start, 1)
    _, after = rest.split(end, 1)
    readme.write_text(f"{before}{start}\n{text}{end}{after}")


def write_deploy_role_table() -> None:
    """docs/prerequisites.md's deploy-role table, rendered from ops/deploy_role.py."""
    from ops.deploy_role import markdown_table

    replace_section("deploy-role", markdown_table(), readme=README.parent / "docs" / "prerequisites.md")


def write_api_reference() -> None:
    """docs/api.md's reference, rendered from the OpenAPI document the stacks import."""
    from verify.api_contract import blog_document, markdown_reference

    replace_section("api-reference", markdown_reference(blog_document()), readme=README.parent / "docs" / "api.md")


def write_relational_costs() -> None:
    """docs/costs.md's table against Aurora for the purchases ledger (ops/relational_cost.py)."""
    from ops.relational_cost import markdown, reference_shapes

    replace_section("relational-costs", markdown(reference_shapes()), readme=README.parent / "docs" / "costs.md")


WRITERS = {"deploy-role": write_deploy_role_table, "api": write_api_reference, "relational-costs": write_relational_costs}

if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2 or sys.argv[1] not in WRITERS:
        raise SystemExit(f"usage: python -m verify.readme {{{'|'.join(WRITERS)}}}")
    WRITERS[sys.argv[1]]()
