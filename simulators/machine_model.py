"""A press or finisher as a pure model: counts, job counter, state and faults over time."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class MachineStateCode(IntEnum):
    """State codes the machine shows (the press in its state register)."""

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
REG_STATE = 4  # uint16: MachineStateCode
REG_FAULT = 5  # uint16: fault code, 0 when healthy
REG_SPEED = 6  # uint16: rated speed in sheets per hour / 10
REG_COMMAND = 10  # uint16: write a Command here
REG_GOOD = 12  # uint32, high word first: good sheets (lifetime, mod 2**32)
REG_WASTE = 14  # uint32, high word first: waste sheets (lifetime, mod 2**32)
REG_JOB_ID = 20  # 8 registers: job id as ASCII, two characters a register, NUL padded
JOB_ID_REGISTERS = 8
REGISTER_COUNT = 32

FAULT_PAPER_JAM = 101


@dataclass
class MachineModel:
    """Ground truth of one machine; `advance` moves time forward, `command` is an operator."""

    sheets_per_hour: float
    lifetime: int = 0
    job_count: int = 0
    state: MachineStateCode = MachineStateCode.IDLE
    fault_code: int = 0
    job_target: int | None = None
    job_id: str = ""
    waste_every: int = 0
    good: int = 0
    waste: int = 0
    _fraction: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        if self.good == 0 and self.waste == 0:
            self.good = self.lifetime  # what was printed before the simulation started

    def advance(self, seconds: float) -> int:
        """Run the press for `seconds`; returns the sheets printed."""
        if self.state is not MachineStateCode.RUNNING or seconds <= 0:
            return 0
        exact = self._fraction + self.sheets_per_hour * seconds / 3600.0
        sheets = int(exact)
        self._fraction = exact - sheets
        if self.job_target is not None:
            sheets = min(sheets, max(0, self.job_target - self.job_count))
        for _ in range(sheets):
            self.lifetime += 1
            if self.waste_every and self.lifetime % self.waste_every == 0:
                self.waste += 1
            else:
                self.good += 1
        self.job_count += sheets
        if self.job_target is not None and self.job_count >= self.job_target:
            self.state = MachineStateCode.IDLE
            self._fraction = 0.0
        return sheets

    def command(self, code: int) -> None:
        """Apply an operator command; unknown codes are ignored like a real PLC would."""
        if code == Command.START and self.state in (
            MachineStateCode.IDLE,
            MachineStateCode.MAKEREADY,
        ):
            self.state = MachineStateCode.RUNNING
        elif code == Command.STOP and self.state is MachineStateCode.RUNNING:
            self.state = MachineStateCode.IDLE
        elif code == Command.NEW_JOB:
            self.job_count = 0
            self.state = MachineStateCode.MAKEREADY
        elif code == Command.FAULT:
            self.fault(FAULT_PAPER_JAM)
        elif code == Command.CLEAR_FAULT and self.state is MachineStateCode.FAULT:
            self.state, self.fault_code = MachineStateCode.IDLE, 0
        elif code == Command.MAINTENANCE:
            self.state = MachineStateCode.MAINTENANCE

    def fault(self, code: int) -> None:
        """Stop the press with a fault code."""
        self.state, self.fault_code = MachineStateCode.FAULT, code
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
        for at, value in ((REG_GOOD, self.good), (REG_WASTE, self.waste)):
            regs[at], regs[at + 1] = (value % 2**32) >> 16, value & 0xFFFF
        text = self.job_id.encode("ascii", "replace")[: 2 * JOB_ID_REGISTERS]
        text = text.ljust(2 * JOB_ID_REGISTERS, b"\0")
        for i in range(JOB_ID_REGISTERS):
            regs[REG_JOB_ID + i] = (text[2 * i] << 8) | text[2 * i + 1]
        return regs

    def write_job_id(self, registers: list[int]) -> None:
        """Set the job id from registers written by the operator's terminal."""
        raw = b"".join(r.to_bytes(2, "big") for r in registers)
        self.job_id = raw.split(b"\0", 1)[0].decode("ascii", "replace")

    def truth(self) -> dict[str, object]:
        """What the press really did, for tests to compare against."""
        return {
            "lifetime": self.lifetime,
            "good": self.good,
            "waste": self.waste,
            "job_count": self.job_count,
            "job_id": self.job_id,
            "state": self.state.name,
            "fault_code": self.fault_code,
            "sheets_per_hour": self.sheets_per_hour,
        }
