"""Report by exception: decide when a reading becomes a published snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field

from presstrack.wire import MachineState


@dataclass(frozen=True)
class Reading:
    """One normalised reading of a machine."""

    available: bool
    state: MachineState | None = None
    totals: dict[str, int] = field(default_factory=dict)  # odometers: counter, good, waste
    job_raw: int | None = None
    job_id: str | None = None
    read_at: float = 0.0  # wall-clock seconds when the values were read


@dataclass(frozen=True)
class Published:
    """What was last published for a machine, and when (monotonic seconds)."""

    reading: Reading
    at: float


@dataclass(frozen=True)
class ReportPolicy:
    """State changes at once; counters every `counter_seconds` or `counter_sheets`; heartbeat."""

    counter_seconds: float
    heartbeat_seconds: float
    counter_sheets: int | None = None


def is_change(last: Published | None, reading: Reading) -> bool:
    """Whether the reading changes what was last published of the machine: whether it runs or
    stands (or why), answers at all, or which job it is on. Such a snapshot takes the fast
    lane; the first one after a start does not (there is nothing to compare it with)."""
    if last is None:
        return False
    before = last.reading
    return (reading.available, reading.state, reading.job_id) != (
        before.available,
        before.state,
        before.job_id,
    )


def should_report(
    last: Published | None, reading: Reading, now: float, policy: ReportPolicy
) -> bool:
    """Whether this reading must be published now."""
    if last is None:
        return True
    before = last.reading
    if is_change(last, reading):
        return True
    if reading.totals.keys() != before.totals.keys():  # a counter became readable: the baseline
        return True
    elapsed = now - last.at
    if elapsed >= policy.heartbeat_seconds:
        return True
    added = reading.totals.get("counter", 0) - before.totals.get("counter", 0)
    counted = reading.totals != before.totals or reading.job_raw != before.job_raw
    if policy.counter_sheets is not None and added >= policy.counter_sheets:
        return True
    return counted and elapsed >= policy.counter_seconds
