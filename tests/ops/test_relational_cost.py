"""The purchases ledger's month in the table and in Aurora (ops/relational_cost.py), and the table
docs/costs.md shows, rendered from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import relational_cost as rc
from ops.cost import hours_per_month, price, price_table

ROOT = Path(__file__).resolve().parents[2]
ONE = rc.LedgerShape(regions=1, min_capacity=0, secondary="headless", seconds_until_auto_pause=300, is_global=False)
GLOBAL = rc.LedgerShape(regions=3, min_capacity=1.5, secondary="headless", seconds_until_auto_pause=300, is_global=True)


def test_docs_costs_shows_the_table_the_model_renders():
    text = (ROOT / "docs" / "costs.md").read_text()
    section = text[text.index("<!-- relational-costs:start -->\n") + 32 : text.index("<!-- relational-costs:end -->")]
    assert section == rc.markdown(rc.reference_shapes()), "run: python -m verify.readme relational-costs"


def test_the_reference_shapes_follow_the_relational_config_rules():
    shapes = rc.reference_shapes()
    assert shapes["1 region"].min_capacity == 0 and not shapes["1 region"].is_global  # one cluster pauses
    assert all(s.min_capacity >= 0.5 for s in shapes.values() if s.is_global)  # a global primary cannot
    assert shapes["2 regions, warm"].secondary == "warm"


def test_an_idle_single_cluster_pauses_and_an_idle_global_one_bills_its_floor_in_every_compute_region():
    fixed_one = rc.ASSUMPTIONS["ledger_gb"] * price("aurora_storage_gb_month") + price("secretsmanager_secret_month")
    assert rc.aurora_month(ONE, 0) == pytest.approx(fixed_one)
    floor = GLOBAL.min_capacity * hours_per_month() * price("aurora_acu_hour")
    headless = rc.aurora_month(GLOBAL, 0)
    assert headless > floor
    warm = rc.aurora_month(rc.LedgerShape(**{**GLOBAL.__dict__, "secondary": "warm"}), 0)
    assert warm - headless == pytest.approx(2 * floor)  # a reader in each of the two secondaries


def test_a_pausing_cluster_runs_more_of_the_month_as_requests_come_closer_than_its_pause_window():
    fractions = [rc.active_fraction(ONE, per_day) for per_day in (0, 10, 100, 1_000, 10_000)]
    assert fractions[0] == 0 and fractions == sorted(fractions) and fractions[-1] > 0.999
    longer = rc.LedgerShape(**{**ONE.__dict__, "seconds_until_auto_pause": 3_600})
    assert rc.active_fraction(longer, 100) > rc.active_fraction(ONE, 100)


def test_each_store_costs_more_with_more_requests_and_aurora_scales_past_its_floor():
    for month in (rc.table_month, rc.aurora_month):
        costs = [month(GLOBAL, per_day) for per_day in (0, 1e4, 1e6, 1e8)]
        assert costs == sorted(costs) and costs[0] < costs[-1]
    busy = 1e8 / 86_400 / rc.ASSUMPTIONS["statements_per_acu_second"]  # ACUs at 100 M requests a day
    assert busy > GLOBAL.min_capacity
    assert rc.aurora_month(GLOBAL, 1e8) > busy * hours_per_month() * price("aurora_acu_hour")


def test_the_crossover_is_where_the_table_starts_to_cost_more(monkeypatch):
    assert rc.crossover(ONE) is None or rc.table_month(ONE, rc.crossover(ONE)) >= rc.aurora_month(ONE, rc.crossover(ONE))
    prices = price_table()["prices"]  # the table's requests fifty times dearer: it loses somewhere
    monkeypatch.setattr(rc, "price", lambda name: prices[name]["usd"] * (50 if name.startswith("dynamodb") else 1))
    at = rc.crossover(GLOBAL)
    assert at is not None
    assert rc.table_month(GLOBAL, at) >= rc.aurora_month(GLOBAL, at)
    assert rc.table_month(GLOBAL, at * 0.9) < rc.aurora_month(GLOBAL, at * 0.9)
