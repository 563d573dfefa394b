"""GlobalTable: exact children, their regions and the DR/security inputs AWS will receive."""

import pytest

from components import GlobalTable, GlobalTableArgs, SecondaryIndex
from tests.helpers import providers_for, run_component

TABLE = "aws:dynamodb/table:Table"
KEY = "aws:kms/key:Key"


def build_table(regions=("us-east-1", "us-west-2"), **kwargs):
    def build():
        table = GlobalTable(
            "orders",
            GlobalTableArgs(
                regions=regions,
                providers=providers_for(*regions, *([kwargs["witness_region"]] if kwargs.get("witness_region") else [])),
                **kwargs,
            ),
        )
        return {"name": table.name, "arns": table.arns, "streams": table.stream_arns}

    return run_component(build)


def test_two_regions_make_one_table_in_the_home_region_with_one_replica():
    run = build_table()
    [table] = run.of_type(TABLE)
    assert table.name == "orders-table"
    assert table.region == "us-east-1"
    assert table.parent.endswith("serverless-dr:index:GlobalTable::orders")
    inputs = table.inputs
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["streamEnabled"] is True
    assert inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["deletionProtectionEnabled"] is True
    assert "ttl" not in inputs  # TTL only when asked for
    assert [r["regionName"] for r in inputs["replicas"]] == ["us-west-2"]
    replica = inputs["replicas"][0]
    assert replica["pointInTimeRecovery"] is True
    assert replica["deletionProtectionEnabled"] is True
    assert replica["consistencyMode"] == "EVENTUAL"
    assert replica["propagateTags"] is True
    assert "globalTableWitness" not in inputs
    assert run.of_type(KEY) == []


def test_outputs_are_keyed_by_region_with_each_regions_own_arn():
    run = build_table()
    assert set(run.outputs["arns"]) == {"us-east-1", "us-west-2"}
    for region in ("us-east-1", "us-west-2"):
        assert run.outputs["arns"][region].startswith(f"arn:aws:dynamodb:{region}:")
        assert run.outputs["arns"][region].endswith(f"table/{run.outputs['name']}")
        assert run.outputs["streams"][region].startswith(f"arn:aws:dynamodb:{region}:")
        assert "/stream/" in run.outputs["streams"][region]


def test_single_region_has_no_replicas():
    run = build_table(regions=("eu-west-1",))
    [table] = run.of_type(TABLE)
    assert table.region == "eu-west-1"
    assert "replicas" not in table.inputs
    assert list(run.outputs["arns"]) == ["eu-west-1"]


def test_customer_managed_encryption_uses_a_rotating_key_per_region():
    run = build_table(regions=("us-east-1", "us-west-2", "us-east-2"), encryption="customer-managed")
    keys = run.of_type(KEY)
    assert sorted(k.region for k in keys) == ["us-east-1", "us-east-2", "us-west-2"]
    assert all(k.inputs["enableKeyRotation"] is True for k in keys)
    by_region = {k.region: k.state["arn"] for k in keys}
    [table] = run.of_type(TABLE)
    assert table.inputs["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": by_region["us-east-1"]}
    for replica in table.inputs["replicas"]:
        assert replica["kmsKeyArn"] == by_region[replica["regionName"]]


def test_ttl_when_an_attribute_is_named():
    [table] = build_table(ttl_attribute="expires_at").of_type(TABLE)
    assert table.inputs["ttl"] == {"attributeName": "expires_at", "enabled": True}


def test_aws_owned_encryption_is_the_default():
    [table] = build_table().of_type(TABLE)
    assert table.inputs["serverSideEncryption"] == {"enabled": False}


def test_strong_consistency_with_a_witness():
    run = build_table(consistency="strong", witness_region="us-east-2")
    [table] = run.of_type(TABLE)
    assert table.inputs["globalTableWitness"] == {"regionName": "us-east-2"}
    assert [r["consistencyMode"] for r in table.inputs["replicas"]] == ["STRONG"]


def test_strong_consistency_with_three_regions():
    [table] = build_table(regions=("us-east-1", "us-east-2", "us-west-2"), consistency="strong").of_type(TABLE)
    assert [r["consistencyMode"] for r in table.inputs["replicas"]] == ["STRONG", "STRONG"]
    assert "globalTableWitness" not in table.inputs
    assert "ttl" not in table.inputs  # MRSC tables do not support TTL


def test_secondary_indexes_use_key_schemas():
    [table] = build_table(
        attributes={"pk": "S", "sk": "S", "g": "S", "h": "N"},
        indexes=(SecondaryIndex(name="by-g", hash_key="g", range_key="h"),),
    ).of_type(TABLE)
    assert table.inputs["globalSecondaryIndexes"] == [
        {
            "name": "by-g",
            "projectionType": "ALL",
            "keySchemas": [{"attributeName": "g", "keyType": "HASH"}, {"attributeName": "h", "keyType": "RANGE"}],
        }
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"regions": ()}, "regions"),
        ({"regions": ("us-east-1", "us-east-1")}, "regions"),
        ({"consistency": "strong"}, "consistency"),
        ({"consistency": "strong", "witness_region": "us-east-2", "ttl_attribute": "expires_at"}, "ttl_attribute"),
        ({"witness_region": "us-east-2"}, "witness_region"),
        ({"encryption": "none"}, "encryption"),
        ({"attributes": {"pk": "S"}}, "attributes"),
        ({"attributes": {"pk": "S", "sk": "S", "unused": "S"}}, "attributes"),
    ],
)
def test_bad_args_name_the_field(kwargs, field):
    regions = kwargs.pop("regions", ("us-east-1", "us-west-2"))
    args = GlobalTableArgs(regions=regions, providers=dict.fromkeys(regions), **kwargs)
    with pytest.raises(ValueError, match=rf"GlobalTableArgs\.{field}"):
        args.validate()


def test_missing_provider_is_refused():
    with pytest.raises(ValueError, match=r"GlobalTableArgs\.providers: no provider for region\(s\) us-west-2"):
        GlobalTableArgs(regions=("us-east-1", "us-west-2"), providers={"us-east-1": None}).validate()
