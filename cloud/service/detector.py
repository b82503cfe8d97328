"""Use cases of the stall detector: find incidents, keep one per cause, turn the stage red while
one is open, decide when customers should hear, and release held and retried notices."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from cloud.domain.alert_rules import Rules
from cloud.domain.alerts import Notice, NoticeState, customers_to_tell, digest
from cloud.domain.incidents import (
    MACHINE_KINDS,
    Changes,
    Finding,
    Incident,
    IncidentKind,
    machine_findings,
    order_findings,
    reconcile,
)
from cloud.domain.orders import StageKind, StageState
from cloud.service import orders
from cloud.service.ports import AlertStore, ConflictError, RateLimitedError
from cloud.service.tracking import estimate_order

log = logging.getLogger(__name__)

SYSTEM = "presstrack"  # who the stage's delay is recorded as
ACTIONS = {
    IncidentKind.FAULT: "已通知设备维修人员处理",
    IncidentKind.STALL: "已通知机长检查",
    IncidentKind.DATA_GAP: "已通知设备维修人员检查",
    IncidentKind.OVERDUE: "已通知车间主管跟进",
}
BUDGETS = {"wecom": (60, 20), "sms": (86_400, 50)}  # per robot a minute; per number a day
DIGEST = "digest#"  # a digest's budget was taken when it was made


@dataclass(frozen=True)
class Pass:
    """What one run of the detector did."""

    opened: int = 0
    closed: int = 0
    customers: int = 0
    released: int = 0
    digests: int = 0


def check_machines(store: AlertStore, keys: list[str], now: datetime) -> Pass:
    """The fast path after a fault begins: only these machines, faults only confirmed once they
    lasted the threshold."""
    rules = store.get_settings().rules
    offline = store.offline_agents()
    findings: list[Finding] = []
    for key in keys:
        machine = store.get_machine(key)
        if machine is not None:
            lost = f"{machine.site}/{machine.agent}" in offline
            findings += machine_findings(machine, now, rules, lost)
    subjects = {f"{kind.value}#{key}" for key in keys for kind in MACHINE_KINDS}
    changes = reconcile(store.list_open_incidents(), findings, now, rules, subjects)
    return _apply(store, changes, now)


def run(store: AlertStore, now: datetime) -> Pass:
    """The scheduled pass over every machine and open order."""
    settings = store.get_settings()
    rules, calendar = settings.rules, settings.calendar
    offline = store.offline_agents()
    findings = [
        f
        for m in store.list_machines()
        for f in machine_findings(m, now, rules, f"{m.site}/{m.agent}" in offline)
    ]
    for order, stages in orders.all_orders(store, open_only=True):
        done = all(s.state in (StageState.DONE, StageState.SKIPPED) for s in stages)
        if order.cancelled is not None or done:
            store.close_order(order.order_no)  # read once more, not every minute forever
            continue
        worked = {
            s.code: calendar.between(s.started, now)
            for s in stages
            if s.kind is StageKind.MANUAL and s.state is StageState.ACTIVE and s.started
        }
        guess = estimate_order(store, order, stages, now, settings)
        findings += order_findings(order, stages, now, rules, worked, guess)
    opened = store.list_open_incidents()
    result = _apply(store, reconcile(opened, findings, now, rules), now)
    told = tell_customers(store, now, rules)
    released, digests = release_notices(store, now)
    return replace(result, customers=told, released=released, digests=digests)


def _apply(store: AlertStore, changes: Changes, now: datetime) -> Pass:
    opened = closed = 0
    for incident in changes.opened:
        try:
            store.save_incident(incident)
        except ConflictError:  # another pass opened it first
            continue
        opened += 1
        _mark_stage(store, incident, now)
    for incident in changes.updated:
        try:
            store.save_incident(incident)
        except ConflictError:
            continue
    for incident in changes.closed:
        try:
            store.save_incident(incident)
        except ConflictError:
            continue
        closed += 1
        _clear_stage(store, incident, now)
    return Pass(opened, closed)


def _mark_stage(store: AlertStore, incident: Incident, now: datetime) -> None:
    """The stage turns red with the reason while the incident is open."""
    if incident.order_no is None or incident.stage is None or incident.kind not in ACTIONS:
        return
    orders.delay_stage(
        store,
        incident.order_no,
        incident.stage,
        SYSTEM,
        incident.reason,
        incident.expected_recovery,
        now,
        ACTIONS[incident.kind],
    )


def _clear_stage(store: AlertStore, incident: Incident, now: datetime) -> None:
    """The stage carries on when the incident is over, unless a person put the delay there."""
    if incident.order_no is None or incident.stage is None:
        return
    stage = store.get_stage(incident.order_no, incident.stage)
    if stage is not None and stage.state is StageState.DELAYED and stage.by == SYSTEM:
        orders.resolve_delay(store, incident.order_no, incident.stage, SYSTEM, now)


def tell_customers(store: AlertStore, now: datetime, rules: Rules) -> int:
    """Mark the incidents whose customers should hear now; the notifier writes to them."""
    open_now = store.list_open_incidents()
    chosen = {i.key for i in customers_to_tell(open_now, now, rules.customer_after_minutes)}
    orders_told = {i.order_no for i in open_now if i.key in chosen}
    told = 0
    for incident in open_now:
        if incident.order_no in orders_told and not incident.customer_told:
            try:  # only the chosen one goes out: the others count as told with it
                store.save_incident(replace(incident, customer_told=True))
            except ConflictError:
                continue
            told += incident.key in chosen
    return told


def release_notices(store: AlertStore, now: datetime) -> tuple[int, int]:
    """Held (quiet hours) and retried notices whose time has come go out again; notices over a
    channel's budget go out as one digest per recipient when the budget allows."""
    released = 0
    waiting: dict[tuple[str, str], list[Notice]] = {}
    for notice in store.list_notices(now - timedelta(days=2)):
        if notice.state in (NoticeState.HELD, NoticeState.RETRY):
            if notice.not_before is not None and notice.not_before <= now:
                try:
                    store.save_notice(replace(notice, state=NoticeState.DUE))
                    released += 1
                except ConflictError:
                    continue
        elif notice.state is NoticeState.DIGEST:
            waiting.setdefault((notice.channel, notice.address), []).append(notice)
    digests = 0
    for (channel, address), held in waiting.items():
        window, limit = BUDGETS.get(channel, (60, 1000))
        try:
            store.count(f"budget#{channel}#{address}", window, limit, now)
        except RateLimitedError:
            continue
        title, text = digest(held)
        summary = replace(
            held[0],
            key=f"{DIGEST}{channel}#{address}#{now:%Y%m%d%H%M}",
            title=title,
            text=text,
            created=now,
            state=NoticeState.DUE,
            attempts=(),
            version=0,
        )
        if store.add_notice(summary):
            digests += 1
            for notice in held:
                try:
                    store.save_notice(replace(notice, state=NoticeState.DIGESTED))
                except ConflictError:
                    continue
    return released, digests
