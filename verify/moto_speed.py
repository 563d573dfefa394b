"""moto's TransactWriteItems at the cost of what it touches, for long offline runs.

moto backs up every table a transaction names with `copy.deepcopy` before applying it, so each
transaction costs time proportional to the whole table: a run of thousands of writes becomes
quadratic. `fast_transactions()` snapshots only the items the transaction addresses and the
stream's length, lets moto apply it, and on a cancelled transaction puts those items and the
stream back, which is the whole of what a cancelled transaction may have changed.
`tests/verify/test_moto_speed.py` holds it to moto's own rollback.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from typing import Any
from unittest import mock


def _key_types(table, source: dict[str, Any]):
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_key = DynamoType(source[table.hash_key_attr])
    range_key = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _restore(table, hash_key, range_key, item) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    if item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
        if hash_key in table.items and not table.items[hash_key]:
            del table.items[hash_key]
    else:
        table.items[hash_key][range_key] = item


@contextlib.contextmanager
def fast_transactions() -> Iterator[None]:
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    original = models.DynamoDBBackend.transact_write_items
    real_deepcopy = copy.deepcopy

    def cheap_deepcopy(value: Any, *args: Any) -> Any:
        return value if isinstance(value, Table) else real_deepcopy(value, *args)

    def transact_write_items(backend, transact_items: list[dict[str, Any]]) -> None:
        touched, streams = [], {}
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            source = op.get("Key") or op.get("Item")
            if table is None or not source:
                continue
            hash_key, range_key = _key_types(table, source)
            touched.append((table, hash_key, range_key, real_deepcopy(table.get_item(hash_key, range_key))))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        with mock.patch.object(models.copy, "deepcopy", cheap_deepcopy):
            try:
                return original(backend, transact_items)
            except Exception:
                for table, hash_key, range_key, item in reversed(touched):
                    _restore(table, hash_key, range_key, item)
                for shard, length in streams.values():
                    del shard.items[length:]
                raise

    with mock.patch.object(models.DynamoDBBackend, "transact_write_items", transact_write_items):
        yield


_shared_models: dict[tuple, Any] = {}


def share_service_models() -> None:
    """Parse botocore's JSON models once per process instead of once per session.

    botocore caches what its loader reads per loader, that is per session; moto's tests and the
    offline runs create a session per world (and boto3's module-level clients a new default one
    after each reset), so every one of them parsed the service, endpoint and partition files
    again: about a quarter of the IAM contract's time went to `json.loads`. The files are
    read-only data shipped with botocore; the cache is keyed by the loader's search paths.
    Idempotent; there is nothing to undo (a test may still build its own Loader)."""
    from botocore import loaders

    if getattr(loaders.Loader, "_shared_by_serverless_dr", False):
        return

    def shared(method):
        def load(self, *args, **kwargs):
            key = (method.__name__, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
            if key not in _shared_models:
                _shared_models[key] = method(self, *args, **kwargs)
            return _shared_models[key]

        return load

    loaders.Loader.load_service_model = shared(loaders.Loader.load_service_model)
    # Every data file is read through this one: `load_data` calls it, and so does a session's
    # endpoint resolver for `endpoints.json` (the largest file).
    loaders.Loader.load_data_with_path = shared(loaders.Loader.load_data_with_path)
    loaders.Loader._shared_by_serverless_dr = True
