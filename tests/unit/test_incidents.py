"""Incident rules and who hears what: hysteresis, flapping, stalls, gaps, overdue, risk, quiet
hours, retries. Pure: every function takes the time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from cloud.domain.alert_rules import QuietHours, Rules
from cloud.domain.alerts import (
    Attempt,
    Audience,
    Notice,
    NoticeState,
    Routing,
    customers_to_tell,
    delay_notices,
    incident_notices,
    key_node_notices,
    resolution_notices,
)
from cloud.domain.estimate import Calibration, ShopSettings, estimate
from cloud.domain.incidents import (
    Incident,
    IncidentKind,
    machine_findings,
    order_findings,
    reconcile,
)
from cloud.domain.machines import JobRef, Machine, apply_snapshot
from cloud.domain.messages import Channel, Subscription
from cloud.domain.orders import Order, StageState, plan_stages, route_for
from presstrack.wire import (
    Counters,
    ItemState,
    MachineSnapshot,
    MachineState,
    OperationMode,
    StatusDetail,
)

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
RUNNING = MachineState(item=ItemState.EXECUTING, detail=StatusDetail.GOOD)
JAMMED = MachineState(item=ItemState.OUT_OF_SERVICE, detail=StatusDetail.PAPER_JAM, fault_code=101)
RULES = Rules()
ROUTING = Routing(robots=frozenset({"maintenance", "lead"}), sms=True)
SUBS = [Subscription("A-1", Channel.SMS, "8613800138000", T0)]


class Line:
    """A press on order A-1 fed snapshots, and the incidents and notices they lead to."""

    def __init__(self) -> None:
        self.machine = replace(Machine("shop", "press-1"), job=JobRef("A-1", "printing"))
        self.seq, self.count = 0, 10_000
        self.open: list[Incident] = []
        self.opened: list[Incident] = []
        self.closed: list[Incident] = []
        self.notices: dict[str, Notice] = {}

    def snapshot(self, at: datetime, state: MachineState, sheets: int = 0) -> None:
        self.seq += 1
        self.count += sheets
        applied = apply_snapshot(
            self.machine,
            MachineSnapshot(
                site="shop",
                machine="press-1",
                agent="edge-1",
                seq=self.seq,
                ts=at,
                state=state,
                counters=Counters(lifetime=self.count),
            ),
        )
        assert applied is not None
        self.machine = applied.machine

    def detect(self, now: datetime) -> None:
        """What the detector does at `now`: reconcile, tell staff, tell customers once."""
        changes = reconcile(self.open, machine_findings(self.machine, now, RULES), now, RULES)
        for incident in changes.opened:
            self._notify(incident_notices(incident, now, ROUTING))
        for incident in changes.closed:
            self._notify(incident_notices(incident, now, ROUTING, closed=True))
            if incident.customer_told:
                self._notify(resolution_notices(incident, SUBS, now, ROUTING, None))
        updated = {i.key: i for i in changes.updated}
        gone = {i.key for i in changes.closed}
        self.open = [updated.get(i.key, i) for i in self.open if i.key not in gone]
        self.open += changes.opened
        self.opened += changes.opened
        self.closed += changes.closed
        tell = {i.key for i in customers_to_tell(self.open, now, after_minutes=10)}
        for incident in self.open:
            if incident.key in tell:
                self._notify(
                    delay_notices(incident, SUBS, now + timedelta(hours=3), now, ROUTING, None)
                )
        if tell:  # the order's customer knows: every open incident of it counts as told
            self.open = [replace(i, customer_told=True) for i in self.open]

    def _notify(self, notices: list[Notice]) -> None:
        for notice in notices:
            self.notices.setdefault(notice.key, notice)  # one per key: dedup

    def heard(self, audience: Audience) -> int:
        return sum(1 for n in self.notices.values() if n.audience is audience)


def test_a_machine_faulting_100_times_in_10_minutes_is_one_incident() -> None:
    line = Line()
    at = T0
    for _ in range(100):  # 4 s jammed, 2 s running: 100 faults in 10 minutes
        line.snapshot(at, JAMMED)
        line.detect(at + timedelta(seconds=3))  # the delayed fault check
        line.snapshot(at + timedelta(seconds=4), RUNNING, sheets=10)
        at += timedelta(seconds=6)
        if (at - T0).total_seconds() % 60 < 6:
            line.detect(at)  # the minute schedule
    assert at - T0 == timedelta(minutes=10)
    assert len(line.opened) == 1
    assert line.open[0].flaps >= 1  # came back while open: the same incident
    during = {a.value: line.heard(a) for a in (Audience.CUSTOMER, Audience.MAINTENANCE)}
    assert during["customer"] <= 1
    assert during["maintenance"] == 1
    for minute in range(1, 4):  # running cleanly again: the incident ends, once
        line.snapshot(at + timedelta(minutes=minute), RUNNING, sheets=100)
        line.detect(at + timedelta(minutes=minute))
    assert len(line.closed) == 1
    assert line.heard(Audience.MAINTENANCE) == 2  # the fault, and that it is over
    print(f"10 minutes of flapping: {during}; after: customer {line.heard(Audience.CUSTOMER)}")


def test_a_fault_shorter_than_the_threshold_is_not_an_incident() -> None:
    line = Line()
    line.snapshot(T0, JAMMED)
    line.detect(T0 + timedelta(seconds=2))
    line.snapshot(T0 + timedelta(seconds=2), RUNNING, sheets=5)
    line.detect(T0 + timedelta(seconds=3))
    assert line.opened == []


def test_a_long_fault_tells_maintenance_at_once_and_the_customer_once_after_ten_minutes() -> None:
    line = Line()
    line.snapshot(T0, JAMMED)
    line.detect(T0 + timedelta(seconds=3))
    assert line.heard(Audience.MAINTENANCE) == 1
    assert line.heard(Audience.CUSTOMER) == 0
    assert "卡纸" in line.opened[0].reason
    for minute in range(1, 16):
        line.snapshot(T0 + timedelta(minutes=minute), JAMMED)  # the agent's heartbeat
        line.detect(T0 + timedelta(minutes=minute))
    assert line.heard(Audience.CUSTOMER) == 1
    line.snapshot(T0 + timedelta(minutes=16), RUNNING, sheets=50)
    for second in (0, 60, 121):
        line.detect(T0 + timedelta(minutes=16, seconds=second))
    assert line.heard(Audience.CUSTOMER) == 2  # the delay, then that it is over
    assert line.closed[0].ended == T0 + timedelta(minutes=16)


def test_planned_maintenance_is_not_a_fault() -> None:
    line = Line()
    maintenance = MachineState(item=ItemState.OUT_OF_SERVICE, mode="Maintenance")
    for minute in range(6):
        line.snapshot(T0 + timedelta(minutes=minute), maintenance)
        line.detect(T0 + timedelta(minutes=minute, seconds=10))
    assert line.opened == []


def test_a_running_press_with_a_flat_counter_stalls_and_a_silent_one_is_a_gap() -> None:
    line = Line()
    line.snapshot(T0, RUNNING, sheets=0)
    line.snapshot(T0 + timedelta(seconds=5), RUNNING, sheets=20)
    line.snapshot(T0 + timedelta(minutes=11), RUNNING, sheets=0)
    kinds = {f.kind for f in machine_findings(line.machine, T0 + timedelta(minutes=11), RULES)}
    assert kinds == {IncidentKind.STALL}
    later = {f.kind for f in machine_findings(line.machine, T0 + timedelta(minutes=17), RULES)}
    assert IncidentKind.DATA_GAP in later


def test_makeready_and_the_minutes_after_a_break_are_not_stalls() -> None:
    # GIVEN a press that printed, then made ready for 40 minutes (executing, setup mode)
    line = Line()
    makeready = MachineState(
        item=ItemState.EXECUTING, mode=OperationMode.SETUP, detail=StatusDetail.FORM_CHANGE
    )
    line.snapshot(T0, RUNNING, sheets=0)
    line.snapshot(T0 + timedelta(seconds=5), RUNNING, sheets=20)
    for minute in range(1, 41, 2):  # the state at once, then heartbeats
        line.snapshot(T0 + timedelta(minutes=minute), makeready)
    at = T0 + timedelta(minutes=41)
    assert machine_findings(line.machine, at, RULES) == []
    # WHEN it starts printing again, its counter not reported yet
    line.snapshot(at, RUNNING)
    # THEN it has not stalled; only ten flat minutes of running are a stall
    assert machine_findings(line.machine, at + timedelta(seconds=30), RULES) == []
    for minute in range(2, 11, 2):
        line.snapshot(at + timedelta(minutes=minute), RUNNING)
    stalled = machine_findings(line.machine, at + timedelta(minutes=10), RULES)
    assert {f.kind for f in stalled} == {IncidentKind.STALL}


def test_an_overdue_stage_and_an_order_at_risk() -> None:
    order = Order("A-1", "c", "p", 5000, date(2026, 12, 3), T0 - timedelta(days=1))
    stages = plan_stages("A-1", route_for("sheet_job", 5000))
    stages = [
        replace(s, state=StageState.ACTIVE, started=T0) if s.code == "design" else s for s in stages
    ]
    guess = estimate(order, stages, T0, ShopSettings(), Calibration())
    found = order_findings(order, stages, T0, RULES, {"design": 3.0}, guess)
    assert {f.kind for f in found} == {IncidentKind.OVERDUE, IncidentKind.AT_RISK}
    overdue = next(f for f in found if f.kind is IncidentKind.OVERDUE)
    notices = incident_notices(Incident.open(overdue), T0, ROUTING)
    assert [n.audience for n in notices] == [Audience.LEAD]


def test_customers_are_not_woken_and_failed_sends_back_off() -> None:
    night = datetime(2026, 12, 3, 15, tzinfo=UTC)  # 23:00 in Shanghai
    incident = Incident(IncidentKind.FAULT, "shop/press-1", night, "卡纸", order_no="A-1")
    held = delay_notices(incident, SUBS, None, night, ROUTING, None)[0]
    assert held.state is NoticeState.HELD
    assert held.not_before == datetime(2026, 12, 4, 0, tzinfo=UTC)  # 08:00 Shanghai
    assert QuietHours().release(T0) is None
    tried = held
    waits = []
    for n in range(5):
        at = night + timedelta(minutes=n)
        tried = tried.tried(Attempt(at, "sms", False, "timeout"))
        if tried.not_before:
            waits.append((tried.not_before - at).total_seconds())
    assert waits == [30, 60, 120, 240]
    assert tried.state is NoticeState.FAILED
    assert len(tried.attempts) == 5


def test_key_nodes_reach_subscribers_once_per_event() -> None:
    printing = plan_stages("A-1", route_for("sheet_job", 5000))[2]
    started = printing.credit(10, T0)
    notices = key_node_notices(printing, started, SUBS, T0, ROUTING, "https://x/t/abc")
    assert [n.text for n in notices] == ["您的订单 A-1 已开始印刷。"]
    more = started.credit(10, T0 + timedelta(seconds=5))
    assert key_node_notices(started, more, SUBS, T0, ROUTING, None) == []


def test_an_agents_birth_and_will_are_kept_and_a_bad_one_is_quarantined() -> None:
    from cloud.service.ingest import ingest_body
    from tests.fakes import MemoryStore

    store, lost = MemoryStore(), list[str]()
    will = '{"v":1,"site":"shop","agent":"edge-1","online":false}'
    ingest_body(store, will, "m1", on_agent_lost=lost.append, now=T0)
    assert store.offline_agents() == {"shop/edge-1"}
    assert lost == ["shop/edge-1"]
    ingest_body(store, will.replace("false", "true"), "m2", now=T0)
    assert store.offline_agents() == set()
    ingest_body(store, '{"v":1,"site":"shop","agent":"x y","online":true}', "m3", now=T0)
    assert store.quarantined[0][0].startswith("agent:")
    found = machine_findings(
        replace(Line().machine, seen=T0), T0 + timedelta(seconds=31), RULES, agent_offline=True
    )
    assert [f.reason for f in found] == ["press-1:采集终端离线"]


def test_the_notifier_skips_what_cannot_concern_anyone() -> None:
    from cloud.service.notifier import Change, matters

    stage = {"pk": "ORDER#A-1", "sk": "STAGE#printing", "state": "pending", "key_node": True}
    started = {**stage, "state": "active"}
    assert matters(Change("MODIFY", started, stage))
    assert not matters(Change("MODIFY", {**stage, "good": 5}, stage))  # sheets, same state
    assert not matters(Change("MODIFY", {"pk": "MACHINE#shop/p1", "sk": "MACHINE"}, None))
    assert not matters(Change("INSERT", {"pk": "RATE#lookup#x", "sk": "1"}, None))
    assert matters(Change("INSERT", {"pk": "ORDER#A-1", "sk": "MSG#2026#ab"}, None))
    assert matters(Change("MODIFY", {"pk": "NOTICE#k", "sk": "NOTICE"}, None))
