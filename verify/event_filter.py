"""Lambda event filtering, the subset the stack's patterns use: literal values, `prefix`, `exists`.

A pattern matches a record when every key of the pattern matches: a list lists the accepted
values (a literal equal to the record's value, `{"prefix": p}` on strings, `{"exists": b}` on
the key's presence), a dict recurses into the record's dict.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


def matches(pattern: dict[str, Any], record: dict[str, Any]) -> bool:
    for key, rule in pattern.items():
        value = record.get(key, _MISSING) if isinstance(record, dict) else _MISSING
        if isinstance(rule, dict):
            if value is _MISSING or not matches(rule, value):
                return False
        elif not any(_accepts(option, value) for option in rule):
            return False
    return True


def _accepts(option: Any, value: Any) -> bool:
    if isinstance(option, dict):
        if "exists" in option:
            return (value is not _MISSING) == bool(option["exists"])
        if "prefix" in option:
            return isinstance(value, str) and value.startswith(option["prefix"])
        raise ValueError(f"filter rule {option} is not one this matcher knows")
    return value is not _MISSING and value == option
