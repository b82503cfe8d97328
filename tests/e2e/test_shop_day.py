"""A scripted shop day through the local stack: 10 orders, 3 presses, manual and machine stages.

The presses' snapshots go over MQTT to the topic rule, SQS and the ingest function, exactly as
an edge agent's would; operators tap their stages through the API with the time they did it.
Each press changes jobs while running by showing the next order number at its console.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient
from presstrack.wire import Counters, ItemState, MachineSnapshot, MachineState, OperationMode
from tests.helpers import publish, wait_for

DAY = datetime(2026, 11, 2, tzinfo=UTC)
SHEETS = 400
STEP = timedelta(minutes=15)  # a snapshot every 15 minutes, 100 sheets each
PRESSES = ("press-1", "press-2", "press-3")
ORDERS = [f"DAY-{n:02d}" for n in range(1, 11)]
LATE = {"DAY-05", "DAY-09"}  # due the day before: delivered late


def hour(h: float) -> datetime:
    return DAY + timedelta(hours=h)


def press_day(press: str, jobs: list[str]) -> list[MachineSnapshot]:
    """A press printing its jobs back to back from 10:00, showing each job's number."""
    running = MachineState(item=ItemState.EXECUTING, mode=OperationMode.PROCESSING)

    def reading(seq: int, job: str | None) -> MachineSnapshot:
        return MachineSnapshot(
            site="day",
            machine=press,
            agent="edge-1",
            seq=seq,
            ts=hour(10) + STEP * (seq - 1),
            state=running,
            counters=Counters(lifetime=1_000_000 + 100 * (seq - 1)),
            job_id=job,
        )

    per_job = SHEETS // 100
    return [reading(1, None)] + [
        reading(2 + n * per_job + k, job) for n, job in enumerate(jobs) for k in range(per_job)
    ]


def tap(api: ApiClient, order_no: str, code: str, by: str, start: float, end: float) -> None:
    """An operator starts and finishes a stage at the given hours of the day."""
    for action, at in (("start", start), ("complete", end)):
        api.call(
            "POST",
            f"/api/orders/{order_no}/stages/{code}/{action}",
            {"by": by, "at": hour(at).isoformat()},
        )


def test_a_shop_day(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    links = {}
    for n, order_no in enumerate(ORDERS):
        due = DAY.date() - timedelta(days=1) if order_no in LATE else DAY.date()
        links[order_no] = api.call(
            "POST",
            "/api/orders",
            {
                "order_no": order_no,
                "customer": "Shop day",
                "product": "Leaflet",
                "quantity": SHEETS,
                "due": due.isoformat(),
            },
        )["tracking_json"]
        tap(api, order_no, "design", "prepress", 7.0, 8.0)
        tap(api, order_no, "ctp", "prepress", 8.0, 9.0 + n * 0.1)
    jobs = {press: ORDERS[i::3] for i, press in enumerate(PRESSES)}
    publish(stack.mqtt_url, [s for press in PRESSES for s in press_day(press, jobs[press])])

    def printed_all() -> bool:
        return all(api.call("GET", links[o])["printed"] == SHEETS for o in ORDERS)

    wait_for(printed_all, 60, "every order printed")
    for order_no in ORDERS:  # post-press, QC and shipping by hand, after printing
        for code, start, end in (("post_press", 20, 21), ("qc", 21, 21.5), ("shipped", 22, 22.5)):
            tap(api, order_no, code, "finishing", start, end)

    # timelines and durations
    history = {
        o: {t["code"]: t for t in api.call("GET", f"/api/orders/{o}/history")} for o in ORDERS
    }
    for order_no, stages in history.items():
        assert all(t["state"] == "done" for t in stages.values()), order_no
        assert stages["design"]["hours"] == 1.0
        assert stages["qc"]["hours"] == 0.5
        # first counted sheets 15 min into the job, plan reached 45 min later
        assert stages["printing"]["hours"] == 0.75
        assert stages["printing"]["machine"].startswith("day/press-")
    assert history["DAY-04"]["printing"]["machine"] == "day/press-1"  # its second job
    assert datetime.fromisoformat(history["DAY-04"]["printing"]["started"]) == hour(11) + STEP
    # every sheet went to an order: the job changes lost or doubled nothing
    machines = {m["machine"]: m for m in api.call("GET", "/api/machines")}
    for press in PRESSES:
        assert machines[f"day/{press}"]["unattributed"] == 0
        assert machines[f"day/{press}"]["lifetime"] == 1_000_000 + SHEETS * len(jobs[press])
    # on-time delivery: 8 of 10
    rows = [
        r
        for r in csv.DictReader(io.StringIO(api.call("GET", "/api/export/orders.csv")))
        if r["order_no"] in ORDERS
    ]
    assert sorted(r["order_no"] for r in rows if r["on_time"] == "no") == sorted(LATE)
    assert sum(r["on_time"] == "yes" for r in rows) == 8
    assert all(r["status"] == "completed" for r in rows)
    assert date.fromisoformat(rows[0]["due"]) <= DAY.date()
