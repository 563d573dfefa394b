"""The append-only log of mail feedback in the relational store (relationalDb): every bounce and
complaint SES reports, one row per event and recipient, fed by the bounces consumer
(functions/bounces) after it has merged the suppression into the table.

Append-only and once: the row's key is (event id, address) and the insert does nothing when it
is there, so a redelivered event adds nothing. A database that cannot answer now raises
DatabaseBusy (shared/data_api.py); the consumer reports the record as failed and SQS delivers it
again (the suppression merge is idempotent by event id), so no event is lost.
"""

from __future__ import annotations

from shared.data_api import execute

SCHEMA = """CREATE TABLE IF NOT EXISTS mail_events (
    event_id text NOT NULL,
    address text NOT NULL,
    kind text NOT NULL,
    suppressed boolean NOT NULL,
    region text NOT NULL,
    recorded_at text NOT NULL,
    PRIMARY KEY (event_id, address)
)"""
_APPEND = (
    "INSERT INTO mail_events (event_id, address, kind, suppressed, region, recorded_at) "
    "VALUES (:event_id, :address, :kind, :suppressed, :region, :recorded_at) ON CONFLICT DO NOTHING RETURNING event_id"
)


def append(event_id: str, kind: str, addresses: list[str], *, suppressed: bool, region: str, at: str) -> int:
    """The event's rows; how many were new."""
    added = 0
    for address in addresses:
        rows = execute(
            _APPEND, SCHEMA, event_id=event_id, address=address, kind=kind, suppressed=suppressed, region=region, recorded_at=at
        )
        added += len(rows)
    return added
