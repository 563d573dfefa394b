"""Every ID the pack cites means what the rule checks, in the defining tool's own words, and every
scanner check on the program's resource types is covered by a rule or says why not."""

import functools

import pytest

from policy.citations import checkov, checkov_version, describe
from policy.rules import RULES
from tests.helpers import cached_stack
from verify.coverage import COVERAGE_STACKS, DOC, NOT_COVERED, program_types, render, rows, terraform_types


@functools.cache
def types():
    runs = [
        cached_stack(stack) if overrides is None else cached_stack(stack, **overrides) for stack, overrides in COVERAGE_STACKS
    ]
    return program_types(runs)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_every_citation_is_in_the_table_with_the_tools_description(rule):
    for citation in rule.ids:
        assert describe(citation), f"{rule.name} cites {citation!r}, which no tool in policy/citations.py defines"


@pytest.mark.parametrize("rule", [r for r in RULES if r.types], ids=lambda r: r.name)
def test_a_cited_checkov_check_examines_the_kind_of_resource_the_rule_does(rule):
    examined = {t for pulumi_type in rule.types for t in terraform_types(pulumi_type)}
    for citation in (c for c in rule.ids if c.startswith("CKV")):
        assert set(checkov()[citation]["resources"]) & examined, (
            f"{rule.name} cites {citation} ({checkov()[citation]['name']}), which checks {checkov()[citation]['resources']}"
        )


def test_the_checks_the_issue_found_mis_cited_are_gone():
    cited = {c for r in RULES for c in r.ids}
    assert not cited & {
        "CKV2_AWS_71",
        "CKV_AWS_158",
        "CKV_AWS_116",
        "CKV_AWS_356",
        "CKV_AWS_115",
        "CKV_AWS_145",
        "CKV_AWS_119",
        "CKV_AWS_185",
        "FSBP APIGateway.9",
        "CKV_AWS_379",
    } - {
        # cited again where they do mean the rule: wildcard certificates, the advisory hardening rules
        c
        for r in RULES
        for c in r.ids
        if r.name in ("acm-no-wildcard", "log-group-cmk", "lambda-concurrency-limit")
    }
    assert [r.name for r in RULES if "CKV2_AWS_71" in r.ids] == ["acm-no-wildcard"]


def test_every_scanner_check_is_covered_or_says_why_not():
    table = rows(types())
    assert len(table) > 100
    undecided = [row[0] for row in table if not row[2] and not row[3]]
    assert undecided == [], f"no rule and no reason for {undecided}"
    listed = {row[0].removeprefix("FSBP ") for row in table}
    assert set(NOT_COVERED) <= listed, f"reasons for checks not in the table: {set(NOT_COVERED) - listed}"
    assert not [row[0] for row in table if row[2] and row[3]], "a covered check also has a reason not to be"


def test_the_coverage_document_is_current():
    assert DOC.read_text() == render(types()), "run: python -m verify.coverage --write"
    assert f"Checkov {checkov_version()}" in DOC.read_text()
