"""A sheet-fed press as a pure model: sheets, job counter, state and faults over time."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class PressState(IntEnum):
    """State codes the press shows in its state register."""

    OFF = 0
    IDLE = 1
    RUNNING = 2
    MAKEREADY = 3
    FAULT = 4
    MAINTENANCE = 5


class Command(IntEnum):
    """Codes an operator (or a test) writes to the command register."""

    NONE = 0
    START = 1
    STOP = 2
    NEW_JOB = 3
    FAULT = 4
    CLEAR_FAULT = 5
    MAINTENANCE = 6


# Holding register map, also documented in docs/edge.md.
REG_LIFETIME_32 = 0  # uint32, high word first: lifetime impressions modulo 2**32
REG_LIFETIME_16 = 2  # uint16: lifetime impressions modulo 2**16 (an older counter box)
REG_JOB = 3  # uint16: job counter, reset by NEW_JOB
REG_STATE = 4  # uint16: PressState
REG_FAULT = 5  # uint16: fault code, 0 when healthy
REG_SPEED = 6  # uint16: rated speed in sheets per hour / 10
REG_COMMAND = 10  # uint16: write a Command here
REGISTER_COUNT = 16

FAULT_PAPER_JAM = 101


@dataclass
class PressModel:
    """Ground truth of one press; `advance` moves time forward, `command` is an operator."""

    sheets_per_hour: float
    lifetime: int = 0
    job_count: int = 0
    state: PressState = PressState.IDLE
    fault_code: int = 0
    job_target: int | None = None
    _fraction: float = field(default=0.0, repr=False)

    def advance(self, seconds: float) -> int:
        """Run the press for `seconds`; returns the sheets printed."""
        if self.state is not PressState.RUNNING or seconds <= 0:
            return 0
        exact = self._fraction + self.sheets_per_hour * seconds / 3600.0
        sheets = int(exact)
        self._fraction = exact - sheets
        if self.job_target is not None:
            sheets = min(sheets, max(0, self.job_target - self.job_count))
        self.lifetime += sheets
        self.job_count += sheets
        if self.job_target is not None and self.job_count >= self.job_target:
            self.state = PressState.IDLE
            self._fraction = 0.0
        return sheets

    def command(self, code: int) -> None:
        """Apply an operator command; unknown codes are ignored like a real PLC would."""
        if code == Command.START and self.state in (PressState.IDLE, PressState.MAKEREADY):
            self.state = PressState.RUNNING
        elif code == Command.STOP and self.state is PressState.RUNNING:
            self.state = PressState.IDLE
        elif code == Command.NEW_JOB:
            self.job_count = 0
            self.state = PressState.MAKEREADY
        elif code == Command.FAULT:
            self.fault(FAULT_PAPER_JAM)
        elif code == Command.CLEAR_FAULT and self.state is PressState.FAULT:
            self.state, self.fault_code = PressState.IDLE, 0
        elif code == Command.MAINTENANCE:
            self.state = PressState.MAINTENANCE

    def fault(self, code: int) -> None:
        """Stop the press with a fault code."""
        self.state, self.fault_code = PressState.FAULT, code
        self._fraction = 0.0

    def registers(self) -> list[int]:
        """The holding registers as the PLC would show them now."""
        regs = [0] * REGISTER_COUNT
        low32 = self.lifetime % 2**32
        regs[REG_LIFETIME_32] = low32 >> 16
        regs[REG_LIFETIME_32 + 1] = low32 & 0xFFFF
        regs[REG_LIFETIME_16] = self.lifetime % 2**16
        regs[REG_JOB] = self.job_count % 2**16
        regs[REG_STATE] = int(self.state)
        regs[REG_FAULT] = self.fault_code
        regs[REG_SPEED] = min(0xFFFF, int(self.sheets_per_hour / 10))
        return regs

    def truth(self) -> dict[str, object]:
        """What the press really did, for tests to compare against."""
        return {
            "lifetime": self.lifetime,
            "job_count": self.job_count,
            "state": self.state.name,
            "fault_code": self.fault_code,
            "sheets_per_hour": self.sheets_per_hour,
        }
