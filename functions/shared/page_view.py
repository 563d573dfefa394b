"""The page-view record: what the API puts on the page-view transport, and what analytics stores.

The client's part is validated with `functions/api/schemas/PageView.json` (by API Gateway and by
the handler); the API adds where and when the view was recorded (`SERVER_FIELDS`). Together they
are the record's schema (`record_schema`): the analytics Glue table's columns, and so the
Parquet that Firehose writes, are generated from it (stack/analytics.py), and a test holds the
record the API really emits, the schema and the table equal.

No AWS import here: the Pulumi program reads this module too.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REQUEST_SCHEMA = Path(__file__).resolve().parents[1] / "api" / "schemas" / "PageView.json"
# Added by the API to every record; `at` is items.now_iso(): UTC with milliseconds and a Z.
SERVER_FIELDS: dict[str, dict[str, Any]] = {
    "view_id": {
        "type": "string",
        "description": "the API request that recorded the view: a copy delivered twice to analytics has the same one",
    },
    "region": {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]$", "description": "the region that recorded the view"},
    "at": {"type": "string", "format": "date-time", "description": "when the API recorded the view (UTC)"},
}
# How `at` is written, for the readers that parse it: Joda-Time (Firehose's Hive JSON SerDe).
AT_JODA_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


def record(body: dict[str, Any], request_schema: dict[str, Any], *, view_id: str, region: str, at: str) -> dict[str, Any]:
    """The record for a body valid under `request_schema`: every field it declares (absent ones
    as their default, or null), then the server's."""
    out = {name: body.get(name, spec.get("default")) for name, spec in request_schema["properties"].items()}
    out.update(view_id=view_id, region=region, at=at)
    return out


def record_schema(request_schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request schema with the server's fields added (all of them required)."""
    schema = copy.deepcopy(request_schema or json.loads(REQUEST_SCHEMA.read_text()))
    schema["title"] = f"{schema.get('title', 'PageView')}Record"
    schema["properties"].update(copy.deepcopy(SERVER_FIELDS))
    schema["required"] = [*schema.get("required", []), *SERVER_FIELDS]
    return schema
