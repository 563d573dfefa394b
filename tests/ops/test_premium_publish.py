"""`sdr premium publish` (moto): a post's media and the index the page reads land in the home
region's premium bucket, index last; bad input is one line and sends nothing."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.helpers import sdr

POST = "b" * 32
BUCKET = "premium-us-east-1-0a1b2c3"


@pytest.fixture
def stack(tmp_path):
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        outputs = tmp_path / "outputs.json"
        paid = {"poolRegion": "us-east-1", "premiumBuckets": {"us-east-1": BUCKET, "us-west-2": "premium-us-west-2-9f8e7d6"}}
        outputs.write_text(json.dumps({"paidContent": paid}))
        poster = tmp_path / "the-poster.jpg"
        poster.write_bytes(b"\xff\xd8\xff\xe0jpeg")
        film = tmp_path / "film.mp4"
        film.write_bytes(b"\x00\x00\x00\x18ftypmp42")
        yield tmp_path, outputs, poster, film


def publish(outputs, *args):
    return sdr("premium", "publish", "--stack", "dr", "--outputs", str(outputs), *args, session_factory=boto3.session.Session)


def test_the_media_and_their_index_land_under_the_post_with_their_types(stack):
    _, outputs, poster, film = stack
    result = publish(outputs, "--post", POST, str(poster), str(film))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"s3://{BUCKET}/premium/{POST}/index.json"
    s3 = boto3.client("s3", region_name="us-east-1")
    index = json.loads(s3.get_object(Bucket=BUCKET, Key=f"premium/{POST}/index.json")["Body"].read())
    assert index == {
        "media": [
            {"name": "the-poster.jpg", "type": "image/jpeg", "title": "the poster"},
            {"name": "film.mp4", "type": "video/mp4", "title": "film"},
        ]
    }
    assert s3.head_object(Bucket=BUCKET, Key=f"premium/{POST}/film.mp4")["ContentType"] == "video/mp4"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--post", "not-a-post"), "32 hexadecimal digits"),
        (("--post", POST), "no file to publish"),
        (("--post", POST, "missing.jpg"), "missing.jpg: no such file"),
        (("--post", POST, "{notes}"), "not an image, a video, audio or a PDF"),
        (("--post", POST, "{poster}", "{poster}"), "file names must differ"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_sends_nothing(stack, args, fragment):
    tmp_path, outputs, poster, _ = stack
    notes = tmp_path / "notes.txt"
    notes.write_text("text")
    result = publish(outputs, *(a.format(poster=poster, notes=notes) for a in args))
    assert result.exit_code == 2 and fragment in result.stderr and result.stderr.count("\n") == 1
    assert boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_a_stack_without_paid_content_is_refused(stack, tmp_path):
    _, _, poster, _ = stack
    outputs = tmp_path / "plain.json"
    outputs.write_text(json.dumps({"regions": ["us-east-1"]}))
    result = publish(outputs, "--post", POST, str(poster))
    assert result.exit_code == 2 and "sells no premium media" in result.stderr
