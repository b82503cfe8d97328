"""Report by exception: decide when a reading becomes a published snapshot."""

from __future__ import annotations

from dataclasses import dataclass

from presstrack.wire import MachineState


@dataclass(frozen=True)
class Reading:
    """One normalised reading of a machine."""

    available: bool
    state: MachineState | None = None
    total: int | None = None
    job_raw: int | None = None


@dataclass(frozen=True)
class Published:
    """What was last published for a machine, and when (monotonic seconds)."""

    reading: Reading
    at: float


def should_report(
    last: Published | None,
    reading: Reading,
    now: float,
    counter_seconds: float,
    heartbeat_seconds: float,
) -> bool:
    """A state change at once; a counter change at most every `counter_seconds`; a heartbeat."""
    if last is None:
        return True
    before = last.reading
    if reading.available != before.available or reading.state != before.state:
        return True
    elapsed = now - last.at
    counted = reading.total != before.total or reading.job_raw != before.job_raw
    if counted and elapsed >= counter_seconds:
        return True
    return elapsed >= heartbeat_seconds
