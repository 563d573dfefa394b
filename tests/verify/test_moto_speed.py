"""The speed-ups of verify/moto_speed.py change nothing but speed: a cancelled transaction leaves
the table as moto's own rollback does, a model parsed once serves every later session, and the
serializer tries the names moto itself would."""

from __future__ import annotations

from unittest import mock

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from verify.moto_speed import fast_transactions, memoize_moto_lookups, share_service_models


def _table_after_a_cancelled_transaction() -> list[dict]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for key in ("kept", "other"):
        client.put_item(TableName="t", Item={"pk": {"S": key}, "n": {"N": "1"}})
    with pytest.raises(ClientError, match="TransactionCanceled"):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "kept"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": {"pk": {"S": "other"}},
                        "ConditionExpression": "n = :nine",
                        "ExpressionAttributeValues": {":nine": {"N": "9"}},
                    }
                },
            ]
        )
    return sorted(client.scan(TableName="t")["Items"], key=lambda item: item["pk"]["S"])


def test_a_cancelled_transaction_leaves_what_moto_itself_leaves():
    with mock_aws():
        plain = _table_after_a_cancelled_transaction()
    with mock_aws(), fast_transactions():
        fast = _table_after_a_cancelled_transaction()
    assert fast == plain == [{"pk": {"S": key}, "n": {"N": "1"}} for key in ("kept", "other")]


def test_a_model_is_parsed_once_and_serves_every_later_session():
    share_service_models()
    share_service_models()  # idempotent: one layer of caching, not two
    first = botocore.session.get_session().get_component("data_loader").load_service_model("sqs", "service-2")
    second = botocore.session.Session().get_component("data_loader").load_service_model("sqs", "service-2")
    assert first is second
    assert "SendMessage" in first["operations"]


def test_the_endpoint_table_is_read_once_for_every_later_session():
    """Each session's endpoint resolver reads `endpoints.json` through `load_data_with_path`."""
    share_service_models()
    first, _ = botocore.session.Session().get_component("data_loader").load_data_with_path("endpoints")
    second, _ = botocore.session.Session().get_component("data_loader").load_data_with_path("endpoints")
    assert first is second
    assert any(partition["partition"] == "aws" for partition in first["partitions"])


def test_the_serializer_tries_for_each_member_the_names_moto_itself_would():
    from moto.core import serialize

    memoize_moto_lookups()
    memoize_moto_lookups()  # idempotent: one layer of caching, not two
    seen = []
    real = serialize.AttributePicker.__call__

    def spy(picker, context):
        seen.append((picker, context))
        return real(picker, context)

    with mock.patch.object(serialize.AttributePicker, "__call__", spy), mock_aws():
        _table_after_a_cancelled_transaction()  # tables, items and their attribute values
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes={"a": {"DataType": "String", "StringValue": "v"}})
        [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["Body"] == "m" and len(seen) > 100
    for picker, context in seen:
        method = type(picker).get_possible_keys
        assert list(method(picker, context)) == list(method.__wrapped__(picker, context)), context.key


def test_names_and_method_lists_are_moto_own():
    import moto.core.responses as responses
    import moto.sqs.models as sqs_models
    from moto.core import utils
    from moto.dynamodb.responses import DynamoHandler

    memoize_moto_lookups()
    for name in ("ReceiveMessage", "VisibilityTimeout", "KmsMasterKeyId", "FifoQueue", "TransactWriteItems"):
        assert sqs_models.camelcase_to_underscores(name) == responses.camelcase_to_underscores(name)
        assert responses.camelcase_to_underscores(name) == utils.camelcase_to_underscores(name)
    assert list(responses.method_names_from_class(DynamoHandler)) == utils.method_names_from_class(DynamoHandler)
    assert "transact_write_items" in responses.method_names_from_class(DynamoHandler)
