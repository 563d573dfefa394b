"""Page views counted from the API edge's standard logs (functions/edge_views): real log lines in
CloudFront's documented format, counted once per request whatever is repeated or replayed."""

from __future__ import annotations

import gzip
import json
from unittest import mock

import fastjsonschema
import pytest

from verify.harness import FakeContext, sqs_event

POST_A, POST_B = "a" * 32, "b" * 32
BUCKET = "api-edge-logs"
# The 33 fields of a standard log file, in order (CloudFront Developer Guide, "Standard logging
# reference", log file fields).
FIELDS = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
]
# The Developer Guide's own example entry (a cached page of the site, not a page view).
DOCUMENTED = (
    "2019-12-04\t21:02:31\tLAX1\t392\t192.0.2.100\tGET\td111111abcdef8.cloudfront.net\t/index.html\t200\t-\t"
    "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)\t-\t-\tHit\t"
    "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==\td111111abcdef8.cloudfront.net\thttps\t23\t0.001\t-\t"
    "TLSv1.2\tECDHE-RSA-AES128-GCM-SHA256\tHit\tHTTP/2.0\t-\t-\t11040\t0.001\tHit\ttext/html\t78\t-\t-"
)

_ids = iter(range(10**9))


def entry(path: str, *, method: str = "GET", status: int = 200, result: str = "Hit", request_id: str | None = None) -> dict:
    request_id = request_id or f"req{next(_ids):08d}_Xj9=="
    values = dict.fromkeys(FIELDS, "-")
    values.update(
        {
            "date": "2026-12-05",
            "time": "10:42:07",
            "x-edge-location": "IAD89-C1",
            "cs-method": method,
            "cs(Host)": "d111111abcdef8.cloudfront.net",
            "cs-uri-stem": path,
            "sc-status": str(status),
            "x-edge-result-type": result,
            "x-edge-request-id": request_id,
            "cs-protocol": "https",
        }
    )
    return values


def log_file(entries: list[dict], fields: list[str] = FIELDS) -> bytes:
    lines = ["#Version: 1.0", "#Fields: " + " ".join(fields), *("\t".join(e.get(f, "-") for f in fields) for e in entries)]
    return gzip.compress(("\n".join(lines) + "\n").encode())


def notification(*keys: str) -> str:
    return json.dumps({"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}} for key in keys]})


def counter(table, post_id: str) -> int:
    item = table.get_item(Key={"pk": f"VIEWS#{post_id}", "sk": "REGION#us-east-1"}).get("Item")
    return int(item["count"]) if item else 0


@pytest.fixture
def logs(regional):
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)

    def put(key: str, data: bytes) -> str:
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        return key

    return put


def test_only_page_views_count_and_a_file_counts_once_however_often_it_is_delivered(regional, logs):
    from edge_views.app import handler

    twice = entry(f"/posts/{POST_A}", result="Miss")
    first = logs(
        "api-edge/E2ABC.2026-12-05-10.1a2b3c4d.gz",
        log_file(
            [
                entry(f"/posts/{POST_A}"),
                twice,
                twice,  # the same request twice in a file: one view
                entry(f"/posts/{POST_A}", status=304, result="RefreshHit"),
                entry(f"/posts/{POST_B}", result="Miss"),
                entry(f"/posts/{POST_B}", status=404, result="Error"),  # no such post
                entry(f"/posts/{POST_B}", status=503, result="Error"),  # no region answered
                entry(f"/posts/{POST_B}", method="HEAD"),
                entry("/posts"),  # the list, not a post's page
                entry(f"/posts/{POST_A}/extra"),
                entry(f"/posts/{POST_A}", method="POST", status=403, result="Error"),
            ]
        )
        + gzip.compress((DOCUMENTED + "\n").encode()),  # a second gzip member, as concatenated files are
    )
    event = sqs_event(notification(first))
    assert handler(event, FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    assert (counter(regional.table, POST_A), counter(regional.table, POST_B)) == (3, 1)
    # S3 notifies at least once, a batch is retried whole, a DLQ redrive days later: no change.
    assert handler(event, FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    assert handler(sqs_event(notification(first), notification(first)), FakeContext(timeout_ms=60_000))["batchItemFailures"] == []
    assert (counter(regional.table, POST_A), counter(regional.table, POST_B)) == (3, 1)
    # The next file adds its own views.
    second = logs("api-edge/E2ABC.2026-12-05-11.5e6f7a8b.gz", log_file([entry(f"/posts/{POST_B}") for _ in range(4)]))
    assert handler(sqs_event(notification(second)), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    assert (counter(regional.table, POST_A), counter(regional.table, POST_B)) == (3, 5)


def test_fields_are_read_by_the_header_s_names_not_by_position(regional, logs):
    from edge_views.app import handler

    reordered = [*reversed(FIELDS), "x-some-field-added-later"]
    key = logs("api-edge/E2ABC.2026-12-05-12.99aa.gz", log_file([entry(f"/posts/{POST_A}") for _ in range(2)], reordered))
    assert handler(sqs_event(notification(key)), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A) == 2


def test_what_is_not_a_log_of_the_edge_is_skipped_not_failed(regional, logs, capsys):
    from edge_views.app import handler

    garbage = logs("api-edge/E2ABC.2026-12-05-13.0000.gz", b"not gzip at all")
    event = sqs_event(notification(garbage), notification("elsewhere/x.gz"), "{not json", json.dumps({"Event": "s3:TestEvent"}))
    assert handler(event, FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    assert '"BadLogFiles":[1.0,1.0,1.0]' in capsys.readouterr().out.replace(" ", "")


def test_each_view_reaches_analytics_as_the_record_the_table_holds_packed_in_few_records(regional, logs, monkeypatch):
    """Firehose bills a record as at least 5 KB: the views of a file are concatenated JSON
    documents (which its format conversion reads), each a valid page-view record."""
    from edge_views import app

    from stack.analytics import record_schema

    validate = fastjsonschema.compile(record_schema())
    sent: list[bytes] = []
    firehose = mock.Mock()
    firehose.put_record_batch.side_effect = lambda **kw: sent.extend(r["Data"] for r in kw["Records"]) or {"FailedPutCount": 0}
    real_client = app.aws.client
    monkeypatch.setattr(
        app.aws, "client", lambda service, *a, **k: firehose if service == "firehose" else real_client(service, *a, **k)
    )
    monkeypatch.setenv("ANALYTICS_DELIVERY_STREAM", "page-views")
    key = logs("api-edge/E2ABC.2026-12-05-14.abcd.gz", log_file([entry(f"/posts/{POST_A}") for _ in range(300)]))
    assert app.handler(sqs_event(notification(key)), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    assert len(sent) == 1
    documents = [json.loads(line) for line in sent[0].decode().splitlines()]
    assert len({d["view_id"] for d in documents}) == 300
    for document in documents:
        validate(document)
    # A batch Firehose refused in part comes back (the count stays exact: the file's marks).
    firehose.put_record_batch.side_effect = lambda **kw: {"FailedPutCount": 1}
    again = logs("api-edge/E2ABC.2026-12-05-15.abcd.gz", log_file([entry(f"/posts/{POST_A}")]))
    assert app.handler(sqs_event(notification(again)), FakeContext(timeout_ms=60_000))["batchItemFailures"] == [
        {"itemIdentifier": "msg-0"}
    ]
    firehose.put_record_batch.side_effect = lambda **kw: {"FailedPutCount": 0}
    assert app.handler(sqs_event(notification(again)), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    assert counter(regional.table, POST_A) == 301


def test_a_batch_of_files_counts_each_file_once_in_shared_transactions_whatever_was_counted_before(regional, logs, monkeypatch):
    """Files of one batch share transactions (a mark per file, one increment per post); a file
    already counted in an earlier batch is left out of its group, the others still count, and a
    file naming more posts than a transaction holds is counted per (file, post), also once."""
    from edge_views.app import handler
    from shared import view_counts

    monkeypatch.setattr(view_counts, "TRANSACTION_ITEMS", 8)  # DynamoDB's 100, smaller: a wide file is cheap to make
    old = logs("api-edge/E2ABC.2026-12-05-16.0001.gz", log_file([entry(f"/posts/{POST_A}"), entry(f"/posts/{POST_B}")]))
    assert handler(sqs_event(notification(old)), FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
    many = [f"{i:032x}" for i in range(view_counts.TRANSACTION_ITEMS + 5)]
    wide = logs("api-edge/E2ABC.2026-12-05-16.0002.gz", log_file([entry(f"/posts/{p}") for p in many]))
    new = logs("api-edge/E2ABC.2026-12-05-16.0003.gz", log_file([entry(f"/posts/{POST_A}") for _ in range(3)]))
    batch = sqs_event(notification(old, new), notification(wide), notification(new))
    for _ in range(2):  # and the whole batch again: nothing more
        assert handler(batch, FakeContext(timeout_ms=60_000)) == {"batchItemFailures": []}
        assert (counter(regional.table, POST_A), counter(regional.table, POST_B)) == (4, 1)
        assert [counter(regional.table, p) for p in many] == [1] * len(many)


def test_files_are_grouped_so_no_transaction_exceeds_its_hundred_items():
    from shared.view_counts import TRANSACTION_ITEMS, Tally, _groups

    tallies = [Tally(f"file{i}", {f"{i}-{j}": 1 for j in range(30)} | {"shared": 2}, "m") for i in range(10)]
    groups = list(_groups(tallies))
    assert [t for g in groups for t in g] == tallies
    for group in groups:
        assert len(group) + len({p for t in group for p in t.views}) <= TRANSACTION_ITEMS
