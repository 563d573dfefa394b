"""The stack-file tool: checks as a real preview would, edits one key and keeps every other line."""

import shutil

import pytest

from ops.config_file import read_config, set_value
from stack.config import ConfigError
from tests.helpers import fixture_file, sdr


@pytest.fixture
def dr_file(tmp_path):
    path = tmp_path / "Pulumi.dr.yaml"
    shutil.copy(fixture_file("dr"), path)
    return path


def test_set_replaces_the_key_in_place_and_keeps_comments(dr_file):
    before = dr_file.read_text()
    set_value(dr_file, "domain", "blog.acme.io")
    after = dr_file.read_text()
    assert after.count("serverless-dr:domain:") == 1 and "serverless-dr:domain: blog.acme.io" in after
    assert [line for line in before.splitlines() if line.lstrip().startswith("#")] == [
        line for line in after.splitlines() if line.lstrip().startswith("#")
    ]
    assert read_config("dr", dr_file).domain == "blog.acme.io"


def test_set_replaces_a_block_list_and_adds_a_missing_key(dr_file):
    set_value(dr_file, "regions", "[eu-west-1, eu-central-1]")
    set_value(dr_file, "costCenter", "blog-7")
    cfg = read_config("dr", dr_file, real=False)
    assert cfg.regions == ("eu-west-1", "eu-central-1") and cfg.cost_center == "blog-7"


def test_set_refuses_an_unknown_key_without_touching_the_file(dr_file):
    before = dr_file.read_text()
    with pytest.raises(ConfigError, match="serverless-dr:domian"):
        set_value(dr_file, "domian", "blog.acme.io")
    assert dr_file.read_text() == before


def test_check_refuses_the_placeholder_domain_in_one_line(dr_file):
    set_value(dr_file, "domain", "example.com")
    refused = sdr("config", "--stack", "dr", "--file", str(dr_file), "--check")
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") == 1 and "serverless-dr:domain" in refused.stderr and "placeholder" in refused.stderr
    done = sdr("config", "--stack", "dr", "--file", str(dr_file), "--set", "domain=blog.acme.io", "--check")
    assert done.exit_code == 0 and "config valid" in done.stdout
