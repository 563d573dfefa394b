"""The offline plan: JSON shape other tools read, the text tree and the Mermaid graph."""

import json

import pytest

from ops import plan
from tests.helpers import cached_stack, fixture_file, sdr
from verify.variants import VARIANTS


@pytest.fixture(scope="module")
def dr_document():
    return plan.plan_document(cached_stack("dr"))


def test_json_has_the_documented_top_level_shape(dr_document):
    assert set(dr_document) == {"stack", "project", "resources", "outputs", "dr", "config_notes", "cost", "policy"}
    assert (dr_document["stack"], dr_document["project"]) == ("dr", "serverless-dr")
    assert set(dr_document["dr"]) >= {"regions", "routing", "detection_seconds", "api_rto_seconds", "rpo"}
    assert set(dr_document["policy"]) == {"rules", "violations", "advisories"}
    for resource in dr_document["resources"]:
        assert set(resource) == {"urn", "type", "name", "region", "parent", "inputs"}
    json.dumps(dr_document)  # serialisable as is


def test_json_resources_carry_regions_and_the_replica(dr_document):
    table = next(r for r in dr_document["resources"] if r["name"] == "app-table")
    assert table["region"] == "us-east-1"
    assert table["inputs"]["replicas"][0]["regionName"] == "us-west-2"
    assert table["inputs"]["replicas"][0]["pointInTimeRecovery"] is True
    aws_regions = {r["region"] for r in dr_document["resources"] if r["type"].startswith("aws:")}
    assert aws_regions == {"us-east-1", "us-west-2", "us-east-2"}  # us-east-2: the lease's third voter
    witness = [r["name"] for r in dr_document["resources"] if r["region"] == "us-east-2" and r["type"].startswith("aws:")]
    assert witness == ["lease-voters-us-east-2"]


def test_secret_outputs_are_masked():
    run = cached_stack("dr")
    run_copy = type(run)(**{**run.__dict__, "secret_outputs": {"tableName"}})
    assert plan.plan_document(run_copy)["outputs"]["tableName"] == plan.SECRET_MASK


def test_text_tree_groups_by_region_then_component():
    result = sdr("plan", "--stack", "dr", "--config", str(fixture_file("dr")))
    assert result.exit_code == 0
    text = result.stdout
    east, west = text.index("\nus-east-1 ("), text.index("\nus-west-2 (")
    assert east < west
    assert "  GlobalTable app\n    aws:dynamodb/table:Table  app-table  -> replicas: us-west-2 (PITR)" in text
    assert "API RTO (worst case): 90 s   budget: 90 s" in text


def test_json_format_from_the_command_line():
    result = sdr("plan", "--stack", "dev", "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["dr"]["regions"] == ["us-east-1"]


def test_the_component_tree_from_the_command_line():
    result = sdr("plan", "--stack", "dev", "--config", str(fixture_file("dev")), "--format", "components")
    assert result.exit_code == 0
    assert result.stdout.startswith("graph TD\n") and 'subgraph us_east_1["us-east-1"]' in result.stdout


def test_the_component_tree_places_components_in_region_subgraphs():
    graph = plan.render_mermaid(cached_stack("dr"))
    assert graph.startswith("graph TD\n")
    assert 'subgraph us_west_2["us-west-2"]' in graph
    assert "IdempotencyTable idempotency-us-west-2" in graph


def test_unknown_stack_is_a_clear_error():
    result = sdr("plan", "--stack", "prod")
    assert result.exit_code == 2
    err = result.stderr
    assert err.count("\n") == 1 and "no stack file Pulumi.prod.yaml" in err


def test_mermaid_draws_the_data_paths_from_the_planned_stack():
    from ops.dataflow import render
    from tests.helpers import cached_stack

    dr = cached_stack("dr")
    graph = render(dr)
    assert graph.startswith("flowchart LR\n")
    home, other = dr.outputs["regions"][0], dr.outputs["regions"][1]
    a, b = home.replace("-", "_"), other.replace("-", "_")
    # single-primary: the other region's writes go to the home replica; replication both ways.
    assert f"{b}_api -->|writes, epoch-fenced| {a}_table" in graph
    assert f"{a}_table <-.->|global table replication| {b}_table" in graph
    assert "r53 -->|healthy|" in graph and "FIFO queue" in graph
    base, overrides = VARIANTS["strong-with-witness-private-containers"]
    strong = render(cached_stack(base, **overrides))
    assert f"{b}_api -->|writes, strongly consistent| {b}_table" in strong  # any-region: local writes
    assert f"{a}_vault -.->|copy of every recovery point| {b}_vault" in graph
    assert f"{b}_views -->|every view| {b}_analytics" in graph and f"{a}_analytics <-.->|S3 replication, minutes|" in graph
    single = render(cached_stack("dev"))
    assert "replication" not in single and "r53" not in single
    assert "scheduled backup" in single and "copy of every recovery point" not in single
    base, overrides = VARIANTS["real-domain-hardened-functions-standing-charges-no-backups"]
    assert "backup vault" not in render(cached_stack(base, **overrides))
    assert "analytics" not in render(cached_stack("dev", analytics=False))
