"""Seed 001's lesson in this project's own prices: when the purchases ledger costs more in Aurora
than it would in the global table.

The ledger's month at a number of ledger requests a day (a purchase or a reader's list of them),
both ways, with the stack's regions and its relational choices (relationalDb*): what differs
between the two stores only. The API, its function and the write path in front are the same
either way and left out.

- **The table**: a purchase is a fenced transaction of three items (the control check, the row,
  the request's record: 2 write units each) replicated to every other region (2 replicated
  writes); a list is one eventually consistent query (half a read unit); the ledger's GB stored
  in every replica.
- **Aurora Serverless v2**: the writer's ACU-hours (its minimum while it runs; a cluster whose
  minimum is 0 pauses only after `relationalDbSecondsUntilAutoPause` without a request, which
  traffic arriving at random rarely leaves), a warm secondary's reader at the minimum too, the
  Data API's requests, I/O (a purchase's writes, replicated to each secondary), storage in every
  region and the secret with its replicas.

Rendered into docs/costs.md by `python -m verify.readme relational-costs`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ops.cost import hours_per_month, price

REQUESTS_PER_DAY = (0, 10_000, 1_000_000)
ASSUMPTIONS = {
    "purchase_fraction": 0.1,  # of ledger requests: the rest are a reader listing what they own
    "ledger_gb": 1.0,
    "io_per_purchase": 4,  # an insert's log and page writes (Aurora Standard counts 4 KB pages)
    "io_per_list": 0.2,  # a list is served from the buffer cache mostly
    "active_floor_acu": 0.5,  # what a running Serverless v2 instance bills at least
    # Simple indexed statements one ACU answers a second, on average over the day (to measure:
    # ServerlessDatabaseCapacity against the request rate, on a real account).
    "statements_per_acu_second": 100,
    "statements_per_purchase": 1,  # INSERT ... RETURNING; a replay reads once more (rare)
}


@dataclass(frozen=True)
class LedgerShape:
    """What the comparison needs of a stack: its regions and relational choices."""

    regions: int
    min_capacity: float
    secondary: str  # headless | warm
    seconds_until_auto_pause: int
    is_global: bool


def _month(per_day: float) -> float:
    return per_day * 30


def table_month(shape: LedgerShape, per_day: float) -> float:
    a = ASSUMPTIONS
    purchases, lists = _month(per_day) * a["purchase_fraction"], _month(per_day) * (1 - a["purchase_fraction"])
    return (
        purchases * 3 * 2 * price("dynamodb_write_million") / 1e6
        + purchases * 2 * (shape.regions - 1) * price("dynamodb_replicated_write_million") / 1e6
        + lists * 0.5 * price("dynamodb_read_million") / 1e6
        + a["ledger_gb"] * shape.regions * price("dynamodb_storage_gb_month")
    )


def active_fraction(shape: LedgerShape, per_day: float) -> float:
    """The share of the month the writer runs: always with a non-zero minimum; with 0, whenever a
    request came within the auto-pause window (requests arriving at random: 1 - e^(-rate x window))."""
    if shape.min_capacity > 0:
        return 1.0
    rate_per_second = per_day / 86_400
    return 1.0 - math.exp(-rate_per_second * shape.seconds_until_auto_pause)


def aurora_month(shape: LedgerShape, per_day: float) -> float:
    a = ASSUMPTIONS
    requests = _month(per_day)
    purchases, lists = requests * a["purchase_fraction"], requests * (1 - a["purchase_fraction"])
    acu = max(shape.min_capacity, a["active_floor_acu"], per_day / 86_400 / a["statements_per_acu_second"])
    writer = acu * hours_per_month() * active_fraction(shape, per_day) * price("aurora_acu_hour")
    secondaries = shape.regions - 1 if shape.is_global else 0
    readers = (
        secondaries * shape.min_capacity * hours_per_month() * price("aurora_acu_hour") if shape.secondary == "warm" else 0.0
    )
    write_io = purchases * a["io_per_purchase"]
    return (
        writer
        + readers
        + (purchases * a["statements_per_purchase"] + lists) * price("rds_data_api_million") / 1e6
        + (write_io + lists * a["io_per_list"]) * price("aurora_io_million") / 1e6
        + write_io * secondaries * price("aurora_replicated_write_io_million") / 1e6
        + a["ledger_gb"] * (1 + secondaries) * price("aurora_storage_gb_month")
        + (1 + secondaries) * price("secretsmanager_secret_month")
    )


def shape_of(cfg) -> LedgerShape:
    """A StackConfig's ledger, as if relationalDb were on with its other relational choices."""
    store = cfg.relational
    return LedgerShape(
        len(cfg.regions), store.min_capacity, store.secondary, store.seconds_until_auto_pause, len(cfg.regions) > 1
    )


def columns(shapes: dict[str, LedgerShape]) -> dict[str, tuple[str, LedgerShape]]:
    """The table once per region count (its month does not depend on the relational choices),
    Aurora once per shape: {column: (store, shape)}."""
    out: dict[str, tuple[str, LedgerShape]] = {}
    for name, shape in shapes.items():
        out.setdefault(f"table, {shape.regions} region{'s' if shape.regions > 1 else ''}", ("table", shape))
        out[f"Aurora, {name}"] = ("aurora", shape)
    return out


def comparison(shapes: dict[str, LedgerShape]) -> list[dict[str, float]]:
    """One row per daily volume: each column's month."""
    rows = []
    for per_day in REQUESTS_PER_DAY:
        row: dict[str, float] = {"requests_per_day": per_day}
        for column, (store, shape) in columns(shapes).items():
            month = table_month if store == "table" else aurora_month
            row[column] = round(month(shape, per_day), 2)
        rows.append(row)
    return rows


def crossover(shape: LedgerShape, *, up_to: float = 1e9) -> float | None:
    """The ledger requests a day from which the table costs more than Aurora, or None below `up_to`."""

    def table_costs_more(per_day: float) -> bool:
        return table_month(shape, per_day) >= aurora_month(shape, per_day)

    low, high = 1_000.0, 2_000.0
    while not table_costs_more(high):
        if high > up_to:
            return None
        low, high = high, high * 2
    while high - low > high / 100:  # to 1 %
        middle = (low + high) / 2
        low, high = (low, middle) if table_costs_more(middle) else (middle, high)
    return float(f"{high:.2g}")


def markdown(shapes: dict[str, LedgerShape]) -> str:
    rows = comparison(shapes)
    names = [c for c in rows[0] if c != "requests_per_day"]
    lines = ["| Ledger requests a day | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for row in rows:
        lines.append(f"| {row['requests_per_day']:,} | " + " | ".join(f"${row[c]:,.2f}" for c in names) + " |")
    lines.append("")
    for name, shape in shapes.items():
        at = crossover(shape)
        lines.append(
            f"- {name}: the table costs more than Aurora from about {at:,.0f} ledger requests a day."
            if at
            else f"- {name}: Aurora costs more than the table at every volume up to a billion ledger requests a day."
        )
    return "\n".join(lines) + "\n"


# The shapes docs/costs.md shows: the project's defaults (Pulumi.yaml) over one region, two
# regions with headless secondaries, and two with warm ones; not a user's stack files.
REFERENCE = {
    "1 region": {"regions": '["us-east-1"]'},
    "2 regions, headless": {"regions": '["us-east-1", "us-west-2"]'},
    "2 regions, warm": {"regions": '["us-east-1", "us-west-2"]', "relationalDbSecondary": "warm"},
}


def reference_shapes() -> dict[str, LedgerShape]:
    from stack.config import parse_stack_config

    shapes = {}
    for name, values in REFERENCE.items():
        raw = {"relationalDb": "aurora-serverless", "domain": "example.com", **values}
        shapes[name] = shape_of(parse_stack_config(raw, stack="reference", allow_placeholder_domain=True))
    return shapes
