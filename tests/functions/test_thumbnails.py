"""Thumbnails: one per upload, none for replicas or existing ones, bad files reported."""

import io
import json
from unittest import mock

from PIL import Image

from verify.harness import FakeContext, sqs_event

BUCKET = "media-us-east-1"


def png(width=800, height=600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def notification(key: str) -> str:
    return json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Post", "s3": {"bucket": {"name": BUCKET}, "object": {"key": key, "size": 1}}}]}
    )


def test_upload_gets_a_jpeg_thumbnail_within_320px(regional):
    from thumbnails.app import handler

    regional.s3.put_object(Bucket=BUCKET, Key="uploads/cat.png", Body=png())
    assert handler(sqs_event(notification("uploads/cat.png")), FakeContext()) == {"batchItemFailures": []}
    thumb = regional.s3.get_object(Bucket=BUCKET, Key="thumbnails/cat.jpg")
    assert thumb["ContentType"] == "image/jpeg" and thumb["Metadata"] == {"source-key": "uploads/cat.png"}
    with Image.open(io.BytesIO(thumb["Body"].read())) as image:
        assert image.format == "JPEG" and max(image.size) == 320 and image.size == (320, 240)


def test_corrupt_file_is_the_only_failure(regional):
    from thumbnails.app import handler

    regional.s3.put_object(Bucket=BUCKET, Key="uploads/good.png", Body=png())
    regional.s3.put_object(Bucket=BUCKET, Key="uploads/bad.png", Body=b"\x89PNG\r\n\x1a\nnot really")
    event = sqs_event(notification("uploads/good.png"), notification("uploads/bad.png"), "not json", ids=["good", "bad", "junk"])
    assert handler(event, FakeContext()) == {"batchItemFailures": [{"itemIdentifier": "bad"}, {"itemIdentifier": "junk"}]}
    regional.s3.head_object(Bucket=BUCKET, Key="thumbnails/good.jpg")


def test_replica_upload_makes_no_thumbnail(regional):
    import shared.aws

    regional.s3.put_object(Bucket=BUCKET, Key="uploads/replicated.png", Body=png())
    real_head = regional.s3.head_object

    def head_as_replica(**kwargs):
        response = real_head(**kwargs)
        if kwargs["Key"].startswith("uploads/"):
            response["ReplicationStatus"] = "REPLICA"  # what S3 reports on the destination copy
        return response

    client = mock.Mock(wraps=regional.s3, head_object=head_as_replica)
    from thumbnails.app import handler

    with mock.patch.object(shared.aws, "client", return_value=client):
        assert handler(sqs_event(notification("uploads/replicated.png")), FakeContext()) == {"batchItemFailures": []}
    assert "Contents" not in regional.s3.list_objects_v2(Bucket=BUCKET, Prefix="thumbnails/")
    client.put_object.assert_not_called()


def test_existing_thumbnail_is_not_redone(regional):
    import shared.aws
    from thumbnails.app import handler

    regional.s3.put_object(Bucket=BUCKET, Key="uploads/dog.png", Body=png())
    handler(sqs_event(notification("uploads/dog.png")), FakeContext())
    client = mock.Mock(wraps=regional.s3)
    with mock.patch.object(shared.aws, "client", return_value=client):
        assert handler(sqs_event(notification("uploads/dog.png")), FakeContext()) == {"batchItemFailures": []}
    client.put_object.assert_not_called()


def test_s3_test_event_is_not_a_failure(regional):
    from thumbnails.app import handler

    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})
    assert handler(sqs_event(body), FakeContext()) == {"batchItemFailures": []}
