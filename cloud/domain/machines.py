"""A machine as the cloud knows it, and how a snapshot moves it forward exactly once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from presstrack.wire import CounterUnit, MachineSnapshot, MachineState


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
    version: int = 0

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
    updated = replace(
        machine,
        seq=snapshot.seq,
        lifetime=lifetime,
        waste_total=waste_total,
        carry=carry,
        available=snapshot.available,
        state=snapshot.state if snapshot.available else machine.state,
        seen=snapshot.ts,
        reported_job=snapshot.job_id if snapshot.job_id is not None else machine.reported_job,
        unattributed=machine.unattributed + (credit if machine.job is None else 0),
    )
    if machine.job is None:
        return Applied(updated, 0, None)
    return Applied(updated, credit, machine.job, waste)
