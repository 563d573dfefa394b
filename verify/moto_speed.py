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


_alias_cache: dict[tuple, tuple[str, ...]] = {}


def memoize_moto_lookups() -> None:
    """Work out once what moto recomputes on every simulated call from inputs that never change.

    - Which attribute names its response serializer tries for a member: moto walks the botocore
      shape and, for every member of every structure (each DynamoDB attribute value is a
      structure of ten members), asks six alias providers which names to look up on the Python
      object, about a fifth of a call. The answer depends only on the picker, the member's
      shape, its key and the object's class (aliases in a model's `Meta` are class attributes);
      moto keeps one service model per process (`moto.core.utils.get_service_model` is cached),
      so the shapes are the same objects on every call.
    - `camelcase_to_underscores`, a pure function of a string, which an SQS queue calls for each
      of its attributes each time they are read (every receive), and dispatch for each action.
    - The method names of a responses class, which dispatch lists with `inspect` on every call.
    `tests/verify/test_moto_speed.py` holds each to moto's own answer. Idempotent."""
    import functools

    import moto.core.responses as responses
    import moto.sqs.models as sqs_models
    from moto.core import serialize, utils

    if getattr(serialize.AttributePicker, "_memoized_by_serverless_dr", False):
        return
    for picker in (serialize.AttributePicker, serialize.XFormedAttributePicker):
        picker.get_possible_keys = _memoized(picker, picker.get_possible_keys)
    serialize.AttributePicker._memoized_by_serverless_dr = True
    names = functools.cache(utils.camelcase_to_underscores)
    responses.camelcase_to_underscores = sqs_models.camelcase_to_underscores = names
    # A tuple: moto only tests membership, and nobody can change the shared answer.
    responses.method_names_from_class = functools.cache(lambda clazz: tuple(utils.method_names_from_class(clazz)))


def _memoized(picker, possible_keys):
    def get_possible_keys(self, context):
        key = (picker, tuple(self.alias_providers), type(context.obj), context.key, context.shape)
        keys = _alias_cache.get(key)
        if keys is None:
            keys = _alias_cache[key] = tuple(possible_keys(self, context))
        return keys

    get_possible_keys.__wrapped__ = possible_keys
    return get_possible_keys
