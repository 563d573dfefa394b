"""The relational store (relationalDb) through the RDS Data API: which cluster, one statement,
and what counts as "not now".

Which cluster: the write primary's. The Data API answers only on a cluster with a writer
instance (a secondary of a global database has none until promoted), so every region's
functions send their statements to the cluster of the region the control item names as primary
(shared/control.py); the database's writer moves with it (`sdr drill promote`, and the lease
holder's tick: shared/database_follower.py).

Busy: a database resuming from auto-pause, a cluster without a writer (a failover in progress, a
secondary not promoted yet), a throttled or unavailable Data API raise `DatabaseBusy`, which the
callers turn into a deferred write (202), a 503 with Retry-After for a read, or a redelivery for
a consumer: never a 5xx, never a lost event.

Each module that owns tables gives its `CREATE TABLE IF NOT EXISTS` with its statements; it runs
once per process and cluster, before the first statement.
"""

from __future__ import annotations

import json
import os
from typing import Any

from shared import aws, control

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

_schemas_ready: set[tuple[str, str]] = set()  # (cluster ARN, schema statement)


class DatabaseBusy(Exception):
    """The database cannot answer now (resuming, no writer, unavailable): defer or retry later."""


class StoreOff(Exception):
    """The stack has no relational store (relationalDb: off)."""


def enabled() -> bool:
    return bool(os.environ.get(ENVIRONMENT))


def _endpoints() -> dict[str, dict[str, str]]:
    if not enabled():
        raise StoreOff("the relational store is off in this stack (relationalDb)")
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
    if isinstance(value, bool):
        return {"booleanValue": value}
    return {"stringValue": value} if isinstance(value, str) else {"longValue": int(value)}


def _field(field: dict[str, Any]) -> Any:
    if field.get("isNull"):
        return None
    return next(iter(field.values()))


def execute(sql: str, schema: str, **parameters: Any) -> list[list[Any]]:
    """One statement on the writer's cluster, after `schema` (the caller's tables); its rows.
    Raises DatabaseBusy when it cannot answer now."""
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
        if (endpoint["resourceArn"], schema) not in _schemas_ready:
            client.execute_statement(**request, sql=schema)
            _schemas_ready.add((endpoint["resourceArn"], schema))
        answer = client.execute_statement(
            **request, sql=sql, parameters=[{"name": name, "value": _value(v)} for name, v in parameters.items()]
        )
    except Exception as error:
        if busy(error):
            raise DatabaseBusy(f"{type(error).__name__}: {str(error)[:200]}") from error
        raise
    return [[_field(f) for f in row] for row in answer.get("records", [])]


def forget() -> None:
    """Tests: the next statement creates the schemas again (a fresh process)."""
    _schemas_ready.clear()
