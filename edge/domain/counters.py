"""The counter odometer: cumulative counts from raw registers that wrap and reset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: A counter drop is taken for a wrap only if the implied increase fits within the rated
#: speed over the elapsed time, with this much slack for clock jitter and short bursts.
WRAP_SPEED_SLACK = 1.5
#: ... and only if the previous reading was in the top part of the register's range.
WRAP_NEAR_MAX = 0.5


@dataclass(frozen=True)
class OdometerState:
    """What must survive an agent restart to keep counting exactly."""

    total: int
    last_raw: int | None
    last_time: float | None


@dataclass(frozen=True)
class CounterStep:
    """The outcome of one reading: how much was added and how the drop (if any) was read."""

    state: OdometerState
    added: int
    kind: Literal["first", "steady", "increase", "wrap", "reset"]


def advance_odometer(
    state: OdometerState, raw: int, now: float, bits: int, rated_per_hour: float
) -> CounterStep:
    """Fold one raw counter reading into the cumulative odometer.

    A drop in the raw value is a wrap only when it is plausible: the last reading was near the
    register maximum and the increase through the wrap fits the rated speed over the elapsed
    time. Otherwise the counter was reset (job change, PLC restart) and counted up from zero.
    """
    modulus = 1 << bits
    if raw < 0 or raw >= modulus:
        raise ValueError(f"raw counter {raw} out of range for {bits} bits")
    if state.last_raw is None:
        return CounterStep(OdometerState(state.total, raw, now), 0, "first")
    if raw >= state.last_raw:
        added = raw - state.last_raw
        return CounterStep(
            OdometerState(state.total + added, raw, now), added, "increase" if added else "steady"
        )
    through_wrap = raw + modulus - state.last_raw
    elapsed = max(0.0, now - (state.last_time if state.last_time is not None else now))
    ceiling = rated_per_hour * elapsed / 3600.0 * WRAP_SPEED_SLACK + 1
    if state.last_raw >= modulus * WRAP_NEAR_MAX and through_wrap <= ceiling:
        return CounterStep(
            OdometerState(state.total + through_wrap, raw, now), through_wrap, "wrap"
        )
    return CounterStep(OdometerState(state.total + raw, raw, now), raw, "reset")
