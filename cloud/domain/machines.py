"""A machine as the cloud knows it, and how a snapshot moves it forward exactly once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from presstrack.wire import (
    CounterUnit,
    ItemState,
    MachineSnapshot,
    MachineState,
    OperationMode,
    StatusDetail,
)

FAULT_DETAILS = {StatusDetail.BREAKDOWN, StatusDetail.PAPER_JAM, StatusDetail.FAILURE}
SETUP_DETAILS = {
    StatusDetail.FORM_CHANGE,
    StatusDetail.BLANKET_CHANGE,
    StatusDetail.SIZE_CHANGE,
    StatusDetail.WARM_UP,
}
CLEANING_DETAILS = {StatusDetail.WASH_UP, StatusDetail.CLEAN_UP}


def is_fault(state: MachineState | None) -> bool:
    """A breakdown, not planned maintenance: out of service outside Maintenance mode, a fault
    detail, or a fault code."""
    if state is None or state.mode is OperationMode.MAINTENANCE:
        return False
    return (
        state.item is ItemState.OUT_OF_SERVICE
        or state.detail in FAULT_DETAILS
        or bool(state.fault_code)
    )


def producing(state: MachineState | None) -> bool:
    """Executing its job, so its counter should move: not making ready, not faulted."""
    return (
        state is not None
        and state.item is ItemState.EXECUTING
        and state.mode is not OperationMode.SETUP
        and state.detail not in SETUP_DETAILS | CLEANING_DETAILS
        and not is_fault(state)
    )


DETAIL_WORDS = {
    StatusDetail.BREAKDOWN: "设备故障",
    StatusDetail.PAPER_JAM: "卡纸",
    StatusDetail.FAILURE: "设备故障",
    StatusDetail.REPAIR: "维修中",
    StatusDetail.MISSING_RESOURCES: "缺料",
    StatusDetail.WAIT_FOR_APPROVAL: "等待签样",
}


class Activity(StrEnum):
    """What a machine is doing now, in the words a customer is shown."""

    RUNNING = "running"
    MAKEREADY = "makeready"
    WASHUP = "washup"
    STOPPED = "stopped"
    MAINTENANCE = "maintenance"
    OFFLINE = "offline"


def activity(available: bool, state: MachineState | None) -> Activity:
    """The customer's word for a machine state. A fault reads as stopped: only a fault that
    lasts becomes a delay with its reason, so a two-second paper jam alarms nobody."""
    if not available or state is None or state.item is ItemState.NOT_AVAILABLE:
        return Activity.OFFLINE
    if state.mode is OperationMode.MAINTENANCE:  # planned: not a fault
        return Activity.MAINTENANCE
    if is_fault(state):
        return Activity.STOPPED
    if state.detail in CLEANING_DETAILS:
        return Activity.WASHUP
    if state.mode is OperationMode.SETUP or state.detail in SETUP_DETAILS:
        return Activity.MAKEREADY
    if state.item is ItemState.EXECUTING:
        return Activity.RUNNING
    return Activity.STOPPED


@dataclass(frozen=True)
class JobRef:
    """The order stage a machine is working on."""

    order_no: str
    stage: str


@dataclass(frozen=True)
class Machine:
    """Last applied snapshot of a machine, its current job and unattributed sheets."""

    site: str
    machine: str
    seq: int = -1  # the last applied sequence number; -1: none applied yet
    lifetime: int | None = None
    waste_total: int | None = None  # the machine's waste odometer, where it keeps one
    available: bool = True
    state: MachineState | None = None
    seen: datetime | None = None
    job: JobRef | None = None
    reported_job: str | None = None  # the job id the machine itself last showed
    unattributed: int = 0
    # from the machine registry
    name: str | None = None
    kind: str = "press"
    rated_per_hour: int | None = None
    impressions_per_sheet: int = 1  # a perfecting press prints both sides: 2
    carry: int = 0  # impressions counted that do not make a whole sheet yet
    fault_since: datetime | None = None  # machine time the current fault began
    # machine time the counter last moved, or the machine began producing if that is later:
    # a press back from makeready or a break has not stalled because it printed nothing then
    counted_at: datetime | None = None
    fault_words: tuple[tuple[str, str], ...] = ()  # fault code -> what it means, per machine
    agent: str | None = None  # the edge agent that reads it
    version: int = 0

    def fault_reason(self) -> str:
        """The current fault in words: the machine's own table, else the JDF detail."""
        state = self.state
        code = str(state.fault_code) if state and state.fault_code else None
        words = dict(self.fault_words)
        if code and code in words:
            return words[code]
        detail = DETAIL_WORDS.get(state.detail) if state and state.detail else None
        if detail and code:
            return f"{detail}(故障代码 {code})"
        return detail or (f"故障代码 {code}" if code else "设备故障")

    @classmethod
    def from_key(cls, key: str) -> Machine:
        """A machine never seen before, from its site-qualified id."""
        site, _, machine = key.partition("/")
        return cls(site=site, machine=machine)

    @property
    def key(self) -> str:
        """Site-qualified machine id."""
        return f"{self.site}/{self.machine}"


@dataclass(frozen=True)
class Applied:
    """The machine after a snapshot, and the sheets the snapshot adds to its job."""

    machine: Machine
    credit: int  # all counted sheets added (good + waste)
    job: JobRef | None
    waste: int = 0  # of which the machine said were waste


def apply_snapshot(current: Machine | None, snapshot: MachineSnapshot) -> Applied | None:
    """Apply a snapshot; None when it is a duplicate or older than what was applied.

    Counters are cumulative, so skipping an old snapshot loses nothing: the newer one
    already contains its increments. The first counter value only sets the baseline.
    """
    machine = current or Machine(site=snapshot.site, machine=snapshot.machine)
    if current is not None and snapshot.seq <= current.seq:
        return None
    credit = waste = 0
    lifetime, waste_total = machine.lifetime, machine.waste_total
    counters = snapshot.counters
    if counters is not None:
        if lifetime is not None:
            credit = max(0, counters.lifetime - lifetime)
        if counters.waste is not None:
            if waste_total is not None:
                waste = min(credit, max(0, counters.waste - waste_total))
            waste_total = counters.waste
        lifetime = counters.lifetime
    carry = machine.carry
    per_sheet = machine.impressions_per_sheet
    if counters is not None and counters.unit is CounterUnit.IMPRESSION and per_sheet > 1:
        credit, carry = divmod(carry + credit, per_sheet)  # sheets; the rest waits
        waste = min(credit, waste // per_sheet)
    state = snapshot.state if snapshot.available else machine.state
    moved = counters is not None and machine.lifetime is not None and credit > 0
    began = producing(state) and not producing(machine.state)
    updated = replace(
        machine,
        fault_since=(machine.fault_since or snapshot.ts) if is_fault(state) else None,
        counted_at=snapshot.ts
        if moved or began or machine.counted_at is None
        else machine.counted_at,
        seq=snapshot.seq,
        agent=snapshot.agent,
        lifetime=lifetime,
        waste_total=waste_total,
        carry=carry,
        available=snapshot.available,
        state=state,
        seen=snapshot.ts,
        reported_job=snapshot.job_id if snapshot.job_id is not None else machine.reported_job,
        unattributed=machine.unattributed + (credit if machine.job is None else 0),
    )
    if machine.job is None:
        return Applied(updated, 0, None)
    return Applied(updated, credit, machine.job, waste)
