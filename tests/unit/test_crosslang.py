"""The components as a Pulumi component package: the schema other languages see, and what the
cross-language classes build from plain inputs (region names instead of provider objects)."""

import ast
import json
from pathlib import Path

import pytest

from components import crosslang
from tests.helpers import run_component

ROOT = Path(__file__).resolve().parents[2]
TOKENS = {f"serverless-dr:index:{n}" for n in ("GlobalTable", "StaticSite", "ServerlessApi", "EventPipeline", "FailoverDns")}


@pytest.fixture(scope="module")
def schema():
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(crosslang.COMPONENTS, "serverless-dr", version="0.2.0")
    return json.loads(provider.schema) if isinstance(provider.schema, str) else provider.schema


def test_the_package_schema_lists_the_five_components_with_their_inputs(schema):
    assert schema["name"] == "serverless-dr"
    assert set(schema["resources"]) == TOKENS
    table = schema["resources"]["serverless-dr:index:GlobalTable"]
    assert set(table["requiredInputs"]) == {"regions", "hashKey", "attributes"}
    assert table["inputProperties"]["regions"]["type"] == "array"
    assert set(table["properties"]) == {"tableName", "arns", "streamArns"}
    site = schema["resources"]["serverless-dr:index:StaticSite"]
    assert set(site["requiredInputs"]) == {"regions", "siteDir", "apiOriginPattern"}
    dns = schema["resources"]["serverless-dr:index:FailoverDns"]["inputProperties"]
    assert dns["endpoints"]["items"]["$ref"] == "#/types/serverless-dr:index:EndpointArgs"
    # Values that come from other resources are inputs, not plain: another language passes outputs.
    endpoint = schema["types"]["serverless-dr:index:EndpointArgs"]["properties"]
    assert "plain" not in endpoint["aliasName"] and endpoint["region"].get("plain") is True
    # Hardening crosses as plain data: key ARNs are inputs (outputs of keys), the limit a number.
    for component in ("ServerlessApi", "EventPipeline"):
        hardening = schema["resources"][f"serverless-dr:index:{component}"]["inputProperties"]["hardening"]
        assert hardening["$ref"] == "#/types/serverless-dr:index:HardeningArgs"
    hardening_type = schema["types"]["serverless-dr:index:HardeningArgs"]["properties"]
    assert set(hardening_type) == {"logKeyArn", "environmentKeyArn", "concurrencyLimit"}
    assert hardening_type["concurrencyLimit"]["type"] == "integer" and "plain" not in hardening_type["logKeyArn"]


def test_the_plugin_hosts_exactly_these_components():
    plugin = ROOT / "provider"
    assert "runtime: python" in (plugin / "PulumiPlugin.yaml").read_text()
    tree = ast.parse((plugin / "__main__.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "component_provider_host"]
    assert len(calls) == 1 and ast.unparse(calls[0].args[0]) == "COMPONENTS"
    assert "serverless_dr.crosslang" in (plugin / "__main__.py").read_text()


def test_region_names_become_explicit_providers_and_every_resource_names_one():
    def build():
        table = crosslang.GlobalTable(
            "orders",
            {"regions": ["eu-west-1", "eu-central-1"], "hash_key": "id", "attributes": [{"name": "id", "type": "S"}]},
        )
        return {"arns": table.arns}

    run = run_component(build)
    providers = run.of_type("pulumi:providers:aws")
    assert sorted(p.name for p in providers) == ["orders-eu-central-1", "orders-eu-west-1"]
    [table] = run.of_type("aws:dynamodb/table:Table")
    assert table.region == "eu-west-1" and [r["regionName"] for r in table.inputs["replicas"]] == ["eu-central-1"]
    assert all(r.provider for r in run.resources if r.is_aws)
    assert set(run.outputs["arns"]) == {"eu-west-1", "eu-central-1"}


def test_hardening_given_as_plain_data_reaches_the_consumer(tmp_path):
    (tmp_path / "consumer.py").write_text("def handler(event, context):\n    return {}\n")
    key = "arn:aws:kms:eu-west-1:123456789012:key/ops"

    def build():
        pipeline = crosslang.EventPipeline(
            "orders",
            {
                "region": "eu-west-1",
                "source": "sns",
                "code_dir": str(tmp_path),
                "handler": "consumer.handler",
                "service_name": "orders",
                "idempotency_table_name": "idem",
                "idempotency_table_arn": "arn:aws:dynamodb:eu-west-1:123456789012:table/idem",
                "hardening": {"log_key_arn": key, "environment_key_arn": key, "concurrency_limit": 4},
            },
        )
        return {"function": pipeline.function_name}

    run = run_component(build)
    [function] = run.of_type("aws:lambda/function:Function")
    [group] = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    [mapping] = run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert (function.inputs["kmsKeyArn"], function.inputs["reservedConcurrentExecutions"]) == (key, 4)
    assert group.inputs["kmsKeyId"] == key and mapping.inputs["scalingConfig"] == {"maximumConcurrency": 4}


def test_no_component_reads_the_blogs_own_files():
    blog_paths = ("FUNCTIONS_DIR", "SITE_DIR", '"functions"', '"site"', "parents[", "from stack", "import stack")
    for module in (ROOT / "components").rglob("*.py"):
        source = module.read_text()
        assert not [p for p in blog_paths if p in source], module.name
