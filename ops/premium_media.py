"""`sdr premium publish`: a post's premium media into the stack's premium bucket.

The files go to `premium/<post id>/<name>` in the home region's premium bucket, with their content
type, and `premium/<post id>/index.json` lists them (what the page reads after a session opens).
Replication copies them to every other region's bucket, as for other media; the site serves them
at `/premium/<post id>/...` to readers holding that post's cookies only.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.errors import OperatorError
from ops.outputs import load_outputs

POST_ID = re.compile(r"^[0-9a-f]{32}$")
MEDIA_TYPES = ("image/", "video/", "audio/", "application/pdf")
INDEX = "index.json"


@dataclass(frozen=True)
class Publication:
    bucket: str
    region: str
    post_id: str
    files: tuple[Path, ...]

    @property
    def prefix(self) -> str:
        return f"premium/{self.post_id}/"

    def index(self) -> dict[str, Any]:
        return {"media": [{"name": f.name, "type": content_type(f), "title": f.stem.replace("-", " ")} for f in self.files]}


def content_type(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or ""
    if not kind.startswith(MEDIA_TYPES):
        raise OperatorError(f"{path}: not an image, a video, audio or a PDF (by its name: {kind or 'unknown'})")
    return kind


def plan_publication(stack: str, outputs_file: Path | None, post_id: str, files: tuple[Path, ...]) -> Publication:
    """Everything checked before anything is sent: the stack sells premium media, the post id is
    one, every file exists and is media, no two share a name, none is called index.json."""
    if not POST_ID.match(post_id):
        raise OperatorError(f"--post {post_id!r}: a post id is 32 hexadecimal digits")
    if not files:
        raise OperatorError("no file to publish")
    outputs = load_outputs(stack, outputs_file)
    paid = outputs.get("paidContent")
    if not paid or not paid.get("premiumBuckets"):
        raise OperatorError(f"stack {stack} sells no premium media (paidContent is off, or not deployed yet)")
    names = [f.name for f in files]
    for path in files:
        if not path.is_file():
            raise OperatorError(f"{path}: no such file")
        content_type(path)
    if len(set(names)) != len(names) or INDEX in names:
        raise OperatorError(f"file names must differ and none be {INDEX}: {', '.join(names)}")
    region = paid["poolRegion"]
    return Publication(bucket=paid["premiumBuckets"][region], region=region, post_id=post_id, files=tuple(files))


def publish(publication: Publication, session: Any) -> list[str]:
    """Upload the files, then the index naming them (so a reader never sees an index whose files
    are not there yet); one line per object written."""
    s3 = session.client("s3", region_name=publication.region)
    lines = []
    for path in publication.files:
        key = publication.prefix + path.name
        s3.put_object(Bucket=publication.bucket, Key=key, Body=path.read_bytes(), ContentType=content_type(path))
        lines.append(f"s3://{publication.bucket}/{key}")
    index = json.dumps(publication.index(), indent=2).encode()
    s3.put_object(Bucket=publication.bucket, Key=publication.prefix + INDEX, Body=index, ContentType="application/json")
    lines.append(f"s3://{publication.bucket}/{publication.prefix}{INDEX}")
    return lines
