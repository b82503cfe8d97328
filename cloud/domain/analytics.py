"""What finished work says: stage durations against standard hours, and on-time delivery."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time

from cloud.domain.orders import Order, Stage, StageState
from cloud.domain.tracking import tracking_view


@dataclass(frozen=True)
class StageTime:
    """One stage of an order's history."""

    code: str
    name: str
    state: StageState
    started: datetime | None
    ended: datetime | None
    hours: float | None
    standard_hours: float
    machine: str | None
    by: str | None


def history(stages: list[Stage]) -> list[StageTime]:
    """An order's timeline with the duration of each stage."""
    out = []
    for s in sorted(stages, key=lambda s: s.position):
        hours = None
        if s.started and s.ended:
            hours = round((s.ended - s.started).total_seconds() / 3600, 3)
        out.append(
            StageTime(
                s.code,
                s.name,
                s.state,
                s.started,
                s.ended,
                hours,
                s.standard_hours,
                s.machine,
                s.by,
            )
        )
    return out


@dataclass(frozen=True)
class StageStats:
    """Actual against standard hours for one stage type (or one machine)."""

    key: str
    count: int
    actual_hours: float
    standard_hours: float


def delivered_at(stages: list[Stage]) -> datetime | None:
    """When the last stage of the route finished, if it has."""
    last = max(stages, key=lambda s: s.position, default=None)
    return last.ended if last is not None and last.state is StageState.DONE else None


def on_time(order: Order, stages: list[Stage]) -> bool | None:
    """True/False for a delivered order (by the end of its due date, UTC), None otherwise."""
    done = delivered_at(stages)
    if done is None or order.cancelled is not None:
        return None
    return done <= datetime.combine(order.due, time.max, UTC)


def stage_stats(
    orders: list[tuple[Order, list[Stage]]], by_machine: bool = False
) -> list[StageStats]:
    """Mean actual hours and mean standard hours per stage type (or per machine)."""
    actual: dict[str, list[float]] = defaultdict(list)
    standard: dict[str, list[float]] = defaultdict(list)
    for _, stages in orders:
        for t in history(stages):
            key = t.machine if by_machine else t.code
            if t.hours is None or key is None:
                continue
            actual[key].append(t.hours)
            standard[key].append(t.standard_hours)
    return [
        StageStats(
            key,
            len(actual[key]),
            round(sum(actual[key]) / len(actual[key]), 3),
            round(sum(standard[key]) / len(standard[key]), 3),
        )
        for key in sorted(actual)
    ]


def on_time_rate(orders: list[tuple[Order, list[Stage]]]) -> tuple[int, int]:
    """(delivered on time, delivered) over the orders given."""
    verdicts = [v for o, s in orders if (v := on_time(o, s)) is not None]
    return sum(verdicts), len(verdicts)


def orders_csv(orders: list[tuple[Order, list[Stage]]]) -> str:
    """One row per order for the ERP: status, progress, delivery and whether it was on time."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "order_no",
            "customer",
            "product",
            "quantity",
            "due",
            "status",
            "printed",
            "delivered",
            "on_time",
        ]
    )
    for order, stages in orders:
        view = tracking_view(order, stages)
        delivered = delivered_at(stages)
        verdict = on_time(order, stages)
        writer.writerow(
            [
                order.order_no,
                order.customer,
                order.product,
                order.quantity,
                order.due.isoformat(),
                view.status,
                view.printed,
                delivered.isoformat() if delivered else "",
                "" if verdict is None else ("yes" if verdict else "no"),
            ]
        )
    return out.getvalue()
