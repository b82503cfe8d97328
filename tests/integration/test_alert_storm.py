"""Not a storm: a press faulting 100 times in 10 minutes, through the real table, the detector's
use cases and the notifier on the table's stream, with machine time compressed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cloud.service import detector
from cloud.service.ingest import ingest_snapshot
from cloud.settings import store
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient
from presstrack.wire import (
    AgentStatus,
    Counters,
    ItemState,
    MachineSnapshot,
    MachineState,
    StatusDetail,
    agent_status_topic,
)
from tests.helpers import publish, publish_raw, wait_for

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai: no quiet hours
RUNNING = MachineState(item=ItemState.EXECUTING, detail=StatusDetail.GOOD)
JAMMED = MachineState(item=ItemState.OUT_OF_SERVICE, detail=StatusDetail.PAPER_JAM, fault_code=7)


def test_100_faults_in_10_minutes_make_one_customer_message_and_few_for_maintenance(
    stack: LocalStack, api_key: str
) -> None:
    api = ApiClient(stack.base_url, api_key)
    created = api.call(
        "POST",
        "/api/orders",
        {
            "order_no": "STORM-1",
            "customer": "C",
            "product": "Poster",
            "quantity": 50_000,
            "due": "2026-12-31",
        },
    )
    ApiClient(stack.base_url).call(
        "POST",
        f"/api/track/{created['token']}/subscriptions",
        {"channel": "sms", "phone": "13700000000"},
    )
    api.call(
        "PUT", "/api/orders/STORM-1/stages/printing/machine", {"site": "storm", "machine": "p1"}
    )
    shop, seq, count = store(), 0, 1000
    rules = shop.get_settings().rules

    def snapshot(at: datetime, state: MachineState, sheets: int = 0) -> None:
        nonlocal seq, count
        seq, count = seq + 1, count + sheets
        ingest_snapshot(
            shop,
            MachineSnapshot(
                site="storm",
                machine="p1",
                agent="e",
                seq=seq,
                ts=at,
                state=state,
                counters=Counters(lifetime=count),
            ),
        )

    at = T0
    snapshot(at, RUNNING)
    for n in range(100):  # 4 s jammed, 2 s printing
        snapshot(at, JAMMED)
        detector.check_machines(shop, ["storm/p1"], at + timedelta(seconds=rules.fault_seconds))
        snapshot(at + timedelta(seconds=4), RUNNING, sheets=10)
        at += timedelta(seconds=6)
        if n % 10 == 9:  # the minute schedule, for this machine and its customers
            detector.check_machines(shop, ["storm/p1"], at)
            detector.tell_customers(shop, at, rules)

    def heard() -> dict[str, int]:
        notices = [n for n in api.call("GET", "/api/notices") if n["order_no"] == "STORM-1"]
        return {
            who: sum(1 for n in notices if n["audience"] == who)
            for who in ("customer", "maintenance")
        }

    wait_for(lambda: heard()["customer"] == 1, 15, "the customer's one message")
    during = heard()
    for minute in range(1, 4):  # printing cleanly again
        snapshot(at + timedelta(minutes=minute), RUNNING, sheets=500)
        detector.check_machines(shop, ["storm/p1"], at + timedelta(minutes=minute))
    wait_for(lambda: heard()["maintenance"] == 2, 15, "maintenance told it is over")
    after = heard()
    print(f"10 minutes of 100 faults: {during}; once it ended: {after}")
    assert during == {"customer": 1, "maintenance": 1}
    assert after == {"customer": 2, "maintenance": 2}  # plus: the delay is over
    view = api.call("GET", created["tracking_json"])
    printing = next(s for s in view["stages"] if s["code"] == "printing")
    assert printing["state"] == "active"  # red while it lasted, back to work after
    incidents = [i for i in api.call("GET", "/api/incidents") if i["machine"] == "storm/p1"]
    assert len(incidents) == 1
    assert incidents[0]["ended"] is not None


def test_an_agents_last_will_makes_its_silent_machine_a_data_gap_at_once(
    stack: LocalStack, api_key: str
) -> None:
    api = ApiClient(stack.base_url, api_key)
    settings = api.call("GET", "/api/settings")
    alerts = {**settings["alerts"], "orphan_seconds": 1}
    api.call("PUT", "/api/settings", {**settings, "alerts": alerts})
    try:
        api.call(
            "POST",
            "/api/orders",
            {
                "order_no": "GAP-1",
                "customer": "C",
                "product": "Poster",
                "quantity": 5000,
                "due": "2026-12-31",
            },
        )
        api.call(
            "PUT", "/api/orders/GAP-1/stages/printing/machine", {"site": "gap", "machine": "p2"}
        )
        now = datetime.now(UTC)
        publish(
            stack.mqtt_url,
            [
                MachineSnapshot(
                    site="gap",
                    machine="p2",
                    agent="edge-7",
                    seq=1,
                    ts=now,
                    state=RUNNING,
                    counters=Counters(lifetime=100),
                )
            ],
        )
        wait_for(lambda: store().get_machine("gap/p2") is not None, 15, "the machine")
        will = AgentStatus(site="gap", agent="edge-7", online=False, ts=now)
        publish_raw(stack.mqtt_url, agent_status_topic("gap", "edge-7"), will.to_json())

        wait_for(
            lambda: any(
                i["kind"] == "data_gap" and i["machine"] == "gap/p2"
                for i in api.call("GET", "/api/incidents")
            ),
            15,
            "a data gap from the last will",
        )

        def printing() -> Any:
            return store().get_stage("GAP-1", "printing")

        wait_for(lambda: printing().state.value == "delayed", 10, "the stage to turn red")
        assert "采集终端离线" in str(printing().delay_reason)
    finally:
        api.call("PUT", "/api/settings", settings)
