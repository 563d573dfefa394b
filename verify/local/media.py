"""The media buckets as the browser reaches them in the local run.

moto answers boto3 in this process, not a browser, so each region's front also serves its bucket
under `/_s3/<bucket>/`: the presigned POST of an upload grant (the policy's conditions enforced
as S3 does: the key, the Content-Type, the size range, the expiry; the signature is not checked)
and the presigned GET of a thumbnail. The URLs in the API's answers are rewritten to point there.
After an upload the region's thumbnail consumer runs, as its S3 notification would start it, and
the pump copies new objects to the other live regions' buckets, as replication does.
"""

from __future__ import annotations

import base64
import email.parser
import json
import re
import time
from typing import Any

from verify.harness import media_bucket, sqs_event

PREFIX = "/_s3/"


def rewrite(payload: bytes, front_url: str) -> bytes:
    """The API's S3 URLs (virtual-hosted, with or without the region) made local."""
    return re.sub(
        rb"https://(media-[a-z0-9-]+)\.s3(?:\.[a-z0-9-]+)?\.amazonaws\.com/",
        lambda m: f"{front_url}{PREFIX}".encode() + m.group(1) + b"/",
        payload,
    )


def form_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """A multipart/form-data body's fields (the file's as bytes)."""
    message = email.parser.BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, Any] = {}
    for part in message.get_payload() if message.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        fields[name] = data if part.get_filename() else data.decode()
    return fields


def policy_problem(fields: dict[str, Any]) -> str | None:
    """What S3 would refuse about this POST under its policy, or None."""
    try:
        policy = json.loads(base64.b64decode(fields["policy"]))
    except (KeyError, ValueError):
        return "no valid policy"
    if time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) > policy["expiration"]:
        return "the policy has expired"
    data = fields.get("file")
    if not isinstance(data, bytes):
        return "no file"
    for condition in policy["conditions"]:
        if isinstance(condition, list) and condition[0] == "content-length-range":
            if not condition[1] <= len(data) <= condition[2]:
                return f"size {len(data)} is outside {condition[1]}-{condition[2]}"
        elif isinstance(condition, dict):
            for name, value in condition.items():
                if name != "bucket" and fields.get(name) != value:
                    return f"{name} must be {value!r}"
    return None


def upload(world, region: str, fields: dict[str, Any]) -> None:
    """Store the object in the region's bucket and run the region's thumbnail consumer on it."""
    from thumbnails.app import handler

    bucket = media_bucket(region)
    notice = json.dumps(
        {"Records": [{"eventName": "ObjectCreated:Post", "s3": {"bucket": {"name": bucket}, "object": {"key": fields["key"]}}}]}
    )
    with world.lock, world.sim.region(region):
        world.sim.regional[region].s3.put_object(
            Bucket=bucket, Key=fields["key"], Body=fields["file"], ContentType=fields["Content-Type"]
        )
    world.invoke(region, handler, sqs_event(notice))


def read(world, region: str, bucket: str, key: str) -> tuple[bytes, str] | None:
    if bucket != media_bucket(region):
        return None
    from botocore.exceptions import ClientError

    with world.lock, world.sim.region(region):
        try:
            found = world.sim.regional[region].s3.get_object(Bucket=bucket, Key=key)
        except ClientError:
            return None
        return found["Body"].read(), found.get("ContentType", "application/octet-stream")


def replicate(world, regions: list[str]) -> None:
    """Copy each live region's objects the other live regions lack (call with the world's lock)."""
    contents = {}
    for region in regions:
        s3 = world.sim.regional[region].s3
        listed = s3.list_objects_v2(Bucket=media_bucket(region)).get("Contents", [])
        contents[region] = {item["Key"] for item in listed}
    for source in regions:
        for target in regions:
            for key in sorted(contents[source] - contents[target]):
                found = world.sim.regional[source].s3.get_object(Bucket=media_bucket(source), Key=key)
                world.sim.regional[target].s3.put_object(
                    Bucket=media_bucket(target), Key=key, Body=found["Body"].read(), ContentType=found.get("ContentType", "")
                )
