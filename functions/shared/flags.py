"""The values of a region's drain flag (SSM) that take it out of DNS; shared by the health checks
and the operator's tools (ops/drill.py, ops/promotion.py), which read it from here."""

DRAINED_VALUES = frozenset({"true", "drain", "drained", "1"})


def is_drained(value: object) -> bool:
    return str(value or "").strip().lower() in DRAINED_VALUES
