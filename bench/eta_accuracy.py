"""How good is the delivery estimate? Replay a seeded, simulated month of a shop's orders.

Every order's true timeline is drawn first: manual stages take their standard hours times this
shop's own bias for that stage type times noise; printing runs at its press's real speed; work
happens only in shifts and waits a little between stages; delivery is 24 h after shipping. Then,
at 25, 50 and 75 % of each order's production time (received to shipped), the order is rebuilt
as the system would see it (stages done with their times, the active stage with its progress,
the press's recent counts fed through the real `Stage.credit` so the smoothed rate is the one
ingest would keep, the shop's history learned from stages finished before that moment) and
estimated two ways:

- presstrack: observed rate for printing, standard hours scaled by history for the rest;
- standard hours only: the same calendar and logistics, rated press speed, no history.

Prints the median absolute error in hours of each at each point, and the ratio.

    .venv/bin/python bench/eta_accuracy.py [--orders 160] [--seed 7] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from cloud.domain.calendar import ShiftCalendar
from cloud.domain.estimate import Calibration, ShopSettings, estimate
from cloud.domain.orders import (
    ROUTE_TEMPLATES,
    Order,
    Stage,
    StageKind,
    StageState,
    plan_stages,
    route_for,
)

MONTH = datetime(2026, 11, 2, 8, tzinfo=UTC).astimezone(ShiftCalendar().tz)
SHOP = ShopSettings(ShiftCalendar(), logistics_hours=24)
RATED = 10_000.0  # every press's nameplate speed, sheets/h
BIAS = {  # this shop against the book: its finishing is slow, its designers quick
    "design": 0.6,
    "ctp": 1.3,
    "post_press": 1.2,
    "lamination": 1.5,
    "hot_foil": 1.2,
    "die_cutting": 0.9,
    "folding_gluing": 1.4,
    "binding": 1.25,
    "qc": 0.8,
    "shipped": 1.0,
}
POINTS = (0.25, 0.5, 0.75)


@dataclass(frozen=True)
class Truth:
    order: Order
    stages: list[Stage]  # as they finally went, with start and end
    press: str
    speed: float  # the press's real sheets/h on this job
    delivered: datetime


def simulate_order(rng: random.Random, n: int) -> Truth:
    kind = rng.choice(list(ROUTE_TEMPLATES))
    quantity = rng.choice([1000, 2000, 3000, 5000, 8000, 10_000, 20_000])
    created = SHOP.calendar.add(MONTH, rng.uniform(0, 22 * 12))
    press = f"press-{rng.randint(1, 4)}"
    nominal = {"press-1": 8500, "press-2": 7000, "press-3": 6000, "press-4": 5000}[press]
    speed = nominal * rng.uniform(0.85, 1.1)
    order = Order(f"M-{n:03d}", "c", kind, quantity, date(2030, 1, 1), created)
    cursor = created
    done = []
    for stage in plan_stages(order.order_no, route_for(kind, quantity)):
        cursor = SHOP.calendar.add(cursor, rng.uniform(0, 2))  # waiting its turn
        cursor = SHOP.calendar.next_working(cursor)
        if stage.kind is StageKind.MACHINE:
            hours = quantity / speed + rng.uniform(0.2, 0.6)  # plus makeready
        else:
            hours = stage.standard_hours * BIAS[stage.code] * rng.lognormvariate(0, 0.25)
        end = SHOP.calendar.add(cursor, hours)
        done.append(replace(stage, state=StageState.DONE, started=cursor, ended=end, machine=press))
        cursor = end
    delivered = cursor + timedelta(hours=SHOP.logistics_hours)
    return Truth(order, done, press, speed, delivered)


def seen_at(truth: Truth, at: datetime, rng: random.Random) -> list[Stage]:
    """The order as the system sees it at `at`."""
    seen = []
    for final in truth.stages:
        fresh = replace(final, state=StageState.PENDING, started=None, ended=None, good=0)
        assert final.started is not None
        assert final.ended is not None
        if final.ended <= at:
            seen.append(replace(final, good=final.planned or 0))
        elif final.started <= at:
            active = replace(fresh, state=StageState.ACTIVE, started=final.started)
            if final.kind is StageKind.MACHINE:
                active = _printing(active, truth, at, rng)
            seen.append(active)
        else:
            seen.append(fresh)
    return seen


def _printing(stage: Stage, truth: Truth, at: datetime, rng: random.Random) -> Stage:
    """Progress so far, and the last ten minutes of counts through Stage.credit."""
    assert stage.started is not None
    worked = SHOP.calendar.between(stage.started, at)
    printed = min(int(truth.speed * max(0.0, worked - 0.4)), (stage.planned or 0) - 1)
    recent = min(printed, int(truth.speed / 6))
    stage = replace(stage, good=printed - recent)
    t = at - timedelta(minutes=10)
    stage = stage.credit(0, t)
    while recent > 0:
        t += timedelta(seconds=5)
        sheets = min(recent, max(1, int(truth.speed * 5 / 3600 * rng.uniform(0.8, 1.2))))
        stage = stage.credit(sheets, t)
        recent -= sheets
    return stage


def learned_before(truths: list[Truth], at: datetime) -> Calibration:
    history = Calibration()
    finished = sorted(
        (s for t in truths for s in t.stages if s.ended and s.ended <= at),
        key=lambda s: s.ended or at,
    )
    for s in finished:
        if s.kind is StageKind.MANUAL and s.started and s.ended:
            history = history.learn(
                s.code, s.standard_hours, SHOP.calendar.between(s.started, s.ended)
            )
    return history


def run(orders: int, seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    truths = [simulate_order(rng, n) for n in range(orders)]
    errors: dict[str, dict[float, list[float]]] = {"presstrack": {}, "standard_hours": {}}
    for truth in truths:
        shipped = truth.delivered - timedelta(hours=SHOP.logistics_hours)
        lead = shipped - truth.order.created  # production: order received to goods shipped
        for point in POINTS:
            at = truth.order.created + lead * point
            stages = seen_at(truth, at, rng)
            ours = estimate(
                truth.order, stages, at, SHOP, learned_before(truths, at), {truth.press: RATED}
            )
            plain = estimate(
                truth.order,
                [replace(s, rate=0.0) for s in stages],
                at,
                SHOP,
                Calibration(),
                {truth.press: RATED},
            )
            for name, guess in (("presstrack", ours), ("standard_hours", plain)):
                error = abs((guess.delivery - truth.delivered).total_seconds()) / 3600
                errors[name].setdefault(point, []).append(error)
    table = {
        name: {f"{int(p * 100)}%": round(statistics.median(v), 2) for p, v in by.items()}
        for name, by in errors.items()
    }
    return {
        "orders": orders,
        "seed": seed,
        "median_abs_error_hours": table,
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
        "date": datetime.now(UTC).date().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=160)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    result = run(args.orders, args.seed)
    table = result["median_abs_error_hours"]
    assert isinstance(table, dict)
    print(f"{args.orders} orders, seed {args.seed}: median absolute error of the delivery estimate")
    print(f"{'progress':>10} {'presstrack':>12} {'std hours':>12} {'ratio':>7}")
    for point in ("25%", "50%", "75%"):
        ours, plain = table["presstrack"][point], table["standard_hours"][point]
        ratio = f"{plain / ours:.1f}x" if ours else "-"
        print(f"{point:>10} {ours:>10.2f} h {plain:>10.2f} h {ratio:>7}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(result, out, indent=2)


if __name__ == "__main__":
    main()
