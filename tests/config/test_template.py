"""The `pulumi new` template (Pulumi.yaml's `template:`): every key it prompts for is a key the
program declares, of a type a prompt can write, and the answers a new user accepts by default
make a stack the program plans."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ops.offline_run import run_stack
from stack.config import parse_stack_config, project_values
from stack.project import PROJECT_DIR, load_project

# What a new user must decide before a real deploy: their names (a zone they own), where alarms
# and mail go, and whether writes move without a person. Regions are passed with --config-path.
MUST_SET = {"domain", "alertEmail", "senderEmail", "writeFailover"}
# `pulumi new` writes each answer as a string; a typed key is checked against Pulumi.yaml's type.
PROMPTABLE_TYPES = {"string"}


def template() -> dict:
    return yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["template"]


def test_the_template_prompts_for_the_keys_a_new_user_must_set_and_only_those():
    project = load_project()
    keys = {key.removeprefix(f"{project.name}:") for key in template()["config"]}
    assert all(key.startswith(f"{project.name}:") for key in template()["config"])  # the program's namespace
    assert keys == MUST_SET
    for key in keys:
        assert key in project.keys, f"{key}: not declared in Pulumi.yaml's config"
        assert project.keys[key].type in PROMPTABLE_TYPES, f"{key}: a prompt cannot write a {project.keys[key].type}"


def test_every_prompt_says_what_it_is_for_and_its_default_is_valid():
    project = load_project()
    config = template()["config"]
    for key, spec in config.items():
        assert len(spec.get("description", "")) > 20, key
        assert isinstance(spec.get("default"), str), f"{key}: a template default is a string"
    defaults = {key: spec["default"] for key, spec in config.items()}
    parse_stack_config(project_values(defaults, project.name), stack="new")


@pytest.mark.soak  # a whole offline run of its own; the defaults' validity is checked above in make test
def test_the_stack_pulumi_new_makes_with_the_defaults_plans(tmp_path: Path):
    defaults = {key: spec["default"] for key, spec in template()["config"].items()}
    stack_file = tmp_path / "Pulumi.new.yaml"
    stack_file.write_text(yaml.safe_dump({"config": defaults}))
    run = run_stack("new", stack_file=stack_file)
    assert run.outputs["regions"] == ["us-east-1"]
    assert run.of_type("aws:dynamodb/table:Table")
