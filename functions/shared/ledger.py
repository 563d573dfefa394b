"""The purchases ledger in the relational store (relationalDb), through the RDS Data API.

Which cluster: the write primary's. The Data API answers only on a cluster with a writer
instance (a secondary of a global database has none until promoted), so every region's
functions send their statements to the cluster of the region the control item names as primary
(shared/control.py); the database's writer moves with it (`sdr drill promote`).

Once: a purchase is a row keyed by the request's write id. The insert does nothing when the
write id (or the reader's purchase of that item) is already there, and the row found then
decides: the same request replayed gets the first answer, the same key with another request is
a KeyReuse, another key for an item the reader owns is a 409. So a deferred purchase retried
by the write-retry consumer after its first try landed but its answer was lost is applied once.

Busy: a database resuming from auto-pause, a cluster without a writer (a failover in progress, a
secondary not promoted yet), a throttled or unavailable Data API raise `DatabaseBusy`, which the
API turns into a deferred write (202) or a 503 with Retry-After for a read: never a 5xx.
"""

from __future__ import annotations

import json
import os
from typing import Any

from shared import aws, control
from shared.items import now_iso

ENVIRONMENT = "RELATIONAL_DATA_API"  # {region: {resourceArn, secretArn}}
DATABASE = "RELATIONAL_DATABASE"
# Seconds a reader is told to wait: Aurora Serverless v2 resumes from a pause in about 15 s.
RETRY_AFTER_SECONDS = 15
# The Data API's answers that mean "not now" rather than "never" (the rds-data model's error
# shapes; a statement on a cluster with no writer instance is refused as a bad request).
BUSY_CODES = frozenset(
    {
        "DatabaseResumingException",
        "DatabaseUnavailableException",
        "DatabaseNotFoundException",
        "ServiceUnavailableError",
        "StatementTimeoutException",
        "InternalServerErrorException",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)
_NO_WRITER_HINTS = (
    "writer",
    "read-only",
    "read only",
    "does not have a db instance",
    "doesn't have a db instance",
    "is not available",
)

SCHEMA = """CREATE TABLE IF NOT EXISTS purchases (
    write_id text PRIMARY KEY,
    body_hash text NOT NULL,
    reader text NOT NULL,
    item text NOT NULL,
    purchased_at text NOT NULL,
    UNIQUE (reader, item)
)"""
_INSERT = (
    "INSERT INTO purchases (write_id, body_hash, reader, item, purchased_at) "
    "VALUES (:write_id, :body_hash, :reader, :item, :purchased_at) ON CONFLICT DO NOTHING RETURNING purchased_at"
)
_BY_WRITE = "SELECT body_hash, reader, item, purchased_at FROM purchases WHERE write_id = :write_id"
_BY_READER_ITEM = "SELECT write_id FROM purchases WHERE reader = :reader AND item = :item"
_OF_READER = "SELECT item, purchased_at FROM purchases WHERE reader = :reader ORDER BY purchased_at, item LIMIT 500"

_schema_ready: set[str] = set()


class DatabaseBusy(Exception):
    """The database cannot answer now (resuming, no writer, unavailable): defer or retry later."""


class LedgerOff(Exception):
    """The stack has no relational store (relationalDb: off)."""


class KeyReuse(Exception):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used for a different POST /purchases request")


def enabled() -> bool:
    return bool(os.environ.get(ENVIRONMENT))


def _endpoints() -> dict[str, dict[str, str]]:
    if not enabled():
        raise LedgerOff("the purchases ledger is off in this stack (relationalDb)")
    return json.loads(os.environ[ENVIRONMENT])


def writer_region() -> str:
    """The write primary's region: where the database's writer is (or is being moved to). In
    any-region mode the database still has one writer: the home region's."""
    if control.write_mode() == control.ANY_REGION:
        return control.home_region()
    primary = control.current()
    if primary is None:
        raise DatabaseBusy("no write primary is known yet")
    return primary.region


def busy(error: BaseException) -> bool:
    from botocore.exceptions import ClientError

    if aws.is_transient(error):
        return True
    if not isinstance(error, ClientError):
        return False
    code, message = aws.error_code(error), str(error).lower()
    if code in BUSY_CODES:
        return True
    return code in ("BadRequestException", "DatabaseErrorException") and any(hint in message for hint in _NO_WRITER_HINTS)


def _value(value: Any) -> dict[str, Any]:
    return {"stringValue": value} if isinstance(value, str) else {"longValue": int(value)}


def _field(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    return next(iter(field.values()))


def execute(sql: str, **parameters: Any) -> list[list[Any]]:
    """One statement on the writer's cluster; its rows. Raises DatabaseBusy when it cannot answer now."""
    region = writer_region()
    endpoint = _endpoints().get(region)
    if endpoint is None:
        raise DatabaseBusy(f"no cluster of the relational store in {region}")
    client = aws.client("rds-data", region=region)
    request = {
        "resourceArn": endpoint["resourceArn"],
        "secretArn": endpoint["secretArn"],
        "database": os.environ.get(DATABASE, "blog"),
    }
    try:
        if endpoint["resourceArn"] not in _schema_ready:
            client.execute_statement(**request, sql=SCHEMA)
            _schema_ready.add(endpoint["resourceArn"])
        answer = client.execute_statement(
            **request, sql=sql, parameters=[{"name": name, "value": _value(v)} for name, v in parameters.items()]
        )
    except Exception as error:
        if busy(error):
            raise DatabaseBusy(f"{type(error).__name__}: {str(error)[:200]}") from error
        raise
    return [[_field(f) for f in row] for row in answer.get("records", [])]


def purchase(write_id: str, body_hash: str, reader: str, item: str) -> tuple[int, dict[str, Any]]:
    """Record that `reader` bought `item`, once: (201, the purchase) when recorded now or by an
    earlier try of the same request, (409, error) when the reader already owns it by another
    request. KeyReuse for the same key with another request."""
    inserted = execute(_INSERT, write_id=write_id, body_hash=body_hash, reader=reader, item=item, purchased_at=now_iso())
    if inserted:
        return 201, {"reader": reader, "item": item, "purchased_at": inserted[0][0]}
    earlier = execute(_BY_WRITE, write_id=write_id)
    if earlier:
        recorded_hash, recorded_reader, recorded_item, at = earlier[0]
        if recorded_hash != body_hash:
            raise KeyReuse()
        return 201, {"reader": recorded_reader, "item": recorded_item, "purchased_at": at}
    if execute(_BY_READER_ITEM, reader=reader, item=item):
        return 409, {"error": "conflict", "message": f"{reader} already owns {item}"}
    # Neither this request's row nor the reader's: the insert met a row deleted since. Not now.
    raise DatabaseBusy("the purchase neither inserted nor found; try again")


def purchases_of(reader: str) -> list[dict[str, str]]:
    return [{"item": item, "purchased_at": at} for item, at in execute(_OF_READER, reader=reader)]


def forget() -> None:
    """Tests: the next statement creates the schema again (a fresh process)."""
    _schema_ready.clear()
