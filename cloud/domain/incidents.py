"""Incidents: what went wrong, where, since when, why, and how it ended; and the rules that find
them. Pure: the time `now` is passed in.

One incident per subject and kind however often the cause flaps: a fault must last
`fault_seconds` before it counts, and an open incident closes only after its cause has been
gone for `clear_seconds`; a return within that time counts as a flap of the same incident.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from cloud.domain.alert_rules import Rules
from cloud.domain.estimate import Estimate
from cloud.domain.machines import Machine, producing
from cloud.domain.orders import Order, Stage, StageKind, StageState


class IncidentKind(StrEnum):
    """What kind of trouble."""

    FAULT = "fault"  # a machine broke down
    STALL = "stall"  # running but no sheets
    DATA_GAP = "data_gap"  # the machine or its agent went silent
    OVERDUE = "overdue"  # a stage past its standard hours
    AT_RISK = "at_risk"  # the estimate is after the due date


MACHINE_KINDS = (IncidentKind.FAULT, IncidentKind.STALL, IncidentKind.DATA_GAP)


@dataclass(frozen=True)
class Finding:
    """Something wrong now, as the rules see it."""

    kind: IncidentKind
    subject: str  # machine key, or order/stage, or order
    reason: str
    since: datetime
    machine: str | None = None
    order_no: str | None = None
    stage: str | None = None
    expected_recovery: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.kind.value}#{self.subject}"


@dataclass(frozen=True)
class Incident:
    """One incident from start to end."""

    kind: IncidentKind
    subject: str
    started: datetime
    reason: str
    machine: str | None = None
    order_no: str | None = None
    stage: str | None = None
    expected_recovery: datetime | None = None
    ended: datetime | None = None
    resolution: str | None = None
    clear_since: datetime | None = None  # the cause went away at; closes after clear_seconds
    flaps: int = 0  # times the cause came back before the incident closed
    customer_told: bool = False
    version: int = 0

    @property
    def key(self) -> str:
        return f"{self.kind.value}#{self.subject}"

    @property
    def id(self) -> str:
        return f"{self.key}#{self.started.isoformat()}"

    @classmethod
    def open(cls, finding: Finding) -> Incident:
        return cls(
            finding.kind,
            finding.subject,
            finding.since,
            finding.reason,
            finding.machine,
            finding.order_no,
            finding.stage,
            finding.expected_recovery,
        )


def machine_findings(
    machine: Machine, now: datetime, rules: Rules, agent_offline: bool = False
) -> list[Finding]:
    """A machine's faults, stalls and silences, as of `now`. When its agent's last will has
    arrived (`agent_offline`), a short silence is enough."""
    found = []
    job = machine.job
    where = {
        "machine": machine.key,
        "order_no": job.order_no if job else None,
        "stage": job.stage if job else None,
    }
    name = machine.name or machine.machine
    if machine.fault_since and now - machine.fault_since >= timedelta(seconds=rules.fault_seconds):
        found.append(
            Finding(
                IncidentKind.FAULT,
                machine.key,
                f"{name}:{machine.fault_reason()}",
                machine.fault_since,
                expected_recovery=machine.fault_since + timedelta(minutes=rules.recovery_minutes),
                **where,
            )
        )
    flat_since = machine.counted_at
    if (
        producing(machine.state)
        and job is not None
        and flat_since is not None
        and now - flat_since >= timedelta(minutes=rules.stall_minutes)
    ):
        found.append(
            Finding(
                IncidentKind.STALL,
                machine.key,
                f"{name}:运行中但 {int((now - flat_since).total_seconds() // 60)} 分钟没有出纸",
                flat_since,
                expected_recovery=now + timedelta(minutes=rules.recovery_minutes),
                **where,
            )
        )
    quiet_for = now - machine.seen if machine.seen is not None else timedelta()
    silent = quiet_for >= timedelta(minutes=rules.silent_minutes)
    orphaned = agent_offline and quiet_for >= timedelta(seconds=rules.orphan_seconds)
    if job is not None and (silent or orphaned or not machine.available) and machine.seen:
        why = (
            "设备离线"
            if not machine.available
            else "采集终端离线"
            if orphaned
            else "采集终端无数据"
        )
        found.append(
            Finding(
                IncidentKind.DATA_GAP,
                machine.key,
                f"{name}:{why}",
                machine.seen,
                machine.key,
                job.order_no,
                job.stage,
            )
        )
    return found


def order_findings(
    order: Order,
    stages: list[Stage],
    now: datetime,
    rules: Rules,
    worked_hours: dict[str, float],
    estimate: Estimate | None,
) -> list[Finding]:
    """An open order's overdue manual stages and its risk of being late.

    `worked_hours` gives, per active stage code, the working hours since it started.
    """
    if order.cancelled is not None:
        return []
    found = []
    for s in stages:
        if s.kind is not StageKind.MANUAL or s.state is not StageState.ACTIVE:
            continue
        limit = s.standard_hours * (1 + rules.overdue_grace)
        worked = worked_hours.get(s.code, 0.0)
        if s.standard_hours > 0 and worked > limit and s.started is not None:
            found.append(
                Finding(
                    IncidentKind.OVERDUE,
                    f"{order.order_no}/{s.code}",
                    f"{s.name}:已用 {worked:.1f} 小时,标准 {s.standard_hours:g} 小时",
                    s.started,
                    order_no=order.order_no,
                    stage=s.code,
                )
            )
    if estimate is not None and estimate.at_risk:
        found.append(
            Finding(
                IncidentKind.AT_RISK,
                order.order_no,
                f"预计 {estimate.delivery:%m-%d %H:%M} 送达,晚于交期 {order.due.isoformat()}",
                now,
                order_no=order.order_no,
            )
        )
    return found


@dataclass(frozen=True)
class Changes:
    """What reconciling the findings with the open incidents does."""

    opened: list[Incident]
    updated: list[Incident]
    closed: list[Incident]


def reconcile(
    open_now: list[Incident],
    findings: list[Finding],
    now: datetime,
    rules: Rules,
    subjects: set[str] | None = None,
) -> Changes:
    """Open, keep, flap or close incidents. When `subjects` (incident keys) limits the run,
    other open incidents are left as they are."""
    by_key = {f.key: f for f in findings}
    opened, updated, closed = [], [], []
    for incident in open_now:
        if subjects is not None and incident.key not in subjects:
            by_key.pop(incident.key, None)
            continue
        finding = by_key.pop(incident.key, None)
        if finding is not None:
            if incident.clear_since is not None:  # it came back: the same incident
                updated.append(replace(incident, clear_since=None, flaps=incident.flaps + 1))
            elif finding.reason != incident.reason:
                updated.append(replace(incident, reason=finding.reason))
            continue
        if incident.clear_since is None:
            updated.append(replace(incident, clear_since=now))
        elif now - incident.clear_since >= timedelta(seconds=rules.clear_seconds):
            closed.append(
                replace(incident, ended=incident.clear_since, resolution=_resolved(incident))
            )
    opened = [Incident.open(f) for f in by_key.values()]
    return Changes(opened, updated, closed)


def _resolved(incident: Incident) -> str:
    return {
        IncidentKind.FAULT: "故障已排除,设备恢复生产",
        IncidentKind.STALL: "设备恢复出纸",
        IncidentKind.DATA_GAP: "数据恢复",
        IncidentKind.OVERDUE: "工序已完成",
        IncidentKind.AT_RISK: "预计交期已恢复",
    }[incident.kind]
