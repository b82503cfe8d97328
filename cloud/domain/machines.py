"""A machine as the cloud knows it, and how a snapshot moves it forward exactly once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from presstrack.wire import MachineSnapshot, MachineState


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
    seq: int = 0
    lifetime: int | None = None
    available: bool = True
    state: MachineState | None = None
    seen: datetime | None = None
    job: JobRef | None = None
    unattributed: int = 0
    version: int = 0

    @property
    def key(self) -> str:
        """Site-qualified machine id."""
        return f"{self.site}/{self.machine}"


@dataclass(frozen=True)
class Applied:
    """The machine after a snapshot, and the sheets the snapshot adds to its job."""

    machine: Machine
    credit: int
    job: JobRef | None


def apply_snapshot(current: Machine | None, snapshot: MachineSnapshot) -> Applied | None:
    """Apply a snapshot; None when it is a duplicate or older than what was applied.

    Counters are cumulative, so skipping an old snapshot loses nothing: the newer one
    already contains its increments. The first counter value only sets the baseline.
    """
    machine = current or Machine(site=snapshot.site, machine=snapshot.machine)
    if current is not None and snapshot.seq <= current.seq:
        return None
    credit = 0
    lifetime = machine.lifetime
    if snapshot.counters is not None:
        if lifetime is not None:
            credit = max(0, snapshot.counters.lifetime - lifetime)
        lifetime = snapshot.counters.lifetime
    updated = replace(
        machine,
        seq=snapshot.seq,
        lifetime=lifetime,
        available=snapshot.available,
        state=snapshot.state if snapshot.available else machine.state,
        seen=snapshot.ts,
        unattributed=machine.unattributed + (credit if machine.job is None else 0),
    )
    return Applied(updated, credit if machine.job is not None else 0, machine.job)
