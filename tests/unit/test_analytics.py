"""History, actual against standard hours, on-time rate and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from cloud.domain import analytics
from cloud.domain.orders import Order
from cloud.service.orders import act_on_stage, all_orders, create_order
from tests.fakes import MemoryStore

T0 = datetime(2026, 12, 1, 8, tzinfo=UTC)


def finish(store: MemoryStore, order: Order, hours_each: float) -> None:
    """Run every stage of an order one after the other."""
    found = store.get_order(order.order_no)
    assert found is not None
    at = T0
    for stage in sorted(found[1], key=lambda s: s.position):
        act_on_stage(store, order.order_no, stage.code, "start", "op", at)
        at += timedelta(hours=hours_each)
        act_on_stage(store, order.order_no, stage.code, "complete", "op", at)


def test_history_rates_and_export_from_finished_orders() -> None:
    store = MemoryStore()
    early = Order("H-1", "A", "Leaflet", 100, date(2026, 12, 2), T0)
    late = Order("H-2", "B", "Leaflet", 100, date(2026, 12, 1), T0)
    open_ = Order("H-3", "C", "Leaflet", 100, date(2026, 12, 9), T0)
    for order in (early, late, open_):
        create_order(store, order, None)
    finish(store, early, 2)  # 6 stages x 2 h: done 20:00 on the 1st, due the 2nd
    finish(store, late, 4)  # done on the 2nd, due the 1st
    everything = all_orders(store)
    assert analytics.on_time_rate(everything) == (1, 2)
    design = next(s for s in analytics.stage_stats(everything) if s.key == "design")
    assert (design.count, design.actual_hours, design.standard_hours) == (2, 3.0, 2.0)
    found = store.get_order("H-1")
    assert found is not None
    timeline = analytics.history(found[1])
    assert [t.hours for t in timeline] == [2.0] * 6
    rows = list(csv.DictReader(io.StringIO(analytics.orders_csv(everything))))
    assert [(r["order_no"], r["status"], r["on_time"]) for r in rows] == [
        ("H-2", "completed", "no"),
        ("H-1", "completed", "yes"),
        ("H-3", "design", ""),
    ]
