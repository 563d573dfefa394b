"""The purchases ledger in the relational store (relationalDb), through the Data API
(shared/data_api.py: the write primary's cluster, and what counts as busy).

Once: a purchase is a row keyed by the request's write id. The insert does nothing when the
write id (or the reader's purchase of that item) is already there, and the row found then
decides: the same request replayed gets the first answer, the same key with another request is
a KeyReuse, another key for an item the reader owns is a 409. So a deferred purchase retried
by the write-retry consumer after its first try landed but its answer was lost is applied once.
"""

from __future__ import annotations

from typing import Any

from shared.data_api import DatabaseBusy, execute
from shared.items import now_iso

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


class KeyReuse(Exception):
    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was already used for a different POST /purchases request")


def _execute(sql: str, **parameters: Any) -> list[list[Any]]:
    return execute(sql, SCHEMA, **parameters)


def purchase(write_id: str, body_hash: str, reader: str, item: str) -> tuple[int, dict[str, Any]]:
    """Record that `reader` bought `item`, once: (201, the purchase) when recorded now or by an
    earlier try of the same request, (409, error) when the reader already owns it by another
    request. KeyReuse for the same key with another request."""
    inserted = _execute(_INSERT, write_id=write_id, body_hash=body_hash, reader=reader, item=item, purchased_at=now_iso())
    if inserted:
        return 201, {"reader": reader, "item": item, "purchased_at": inserted[0][0]}
    earlier = _execute(_BY_WRITE, write_id=write_id)
    if earlier:
        recorded_hash, recorded_reader, recorded_item, at = earlier[0]
        if recorded_hash != body_hash:
            raise KeyReuse()
        return 201, {"reader": recorded_reader, "item": recorded_item, "purchased_at": at}
    if _execute(_BY_READER_ITEM, reader=reader, item=item):
        return 409, {"error": "conflict", "message": f"{reader} already owns {item}"}
    # Neither this request's row nor the reader's: the insert met a row deleted since. Not now.
    raise DatabaseBusy("the purchase neither inserted nor found; try again")


def purchases_of(reader: str) -> list[dict[str, str]]:
    return [{"item": item, "purchased_at": at} for item, at in _execute(_OF_READER, reader=reader)]
