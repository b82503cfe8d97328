"""The edge-agent configuration that reads the simulated press (its register map and states)."""

from __future__ import annotations

from typing import Any

from simulators.machine_model import (
    JOB_ID_REGISTERS,
    REG_FAULT,
    REG_GOOD,
    REG_JOB,
    REG_JOB_ID,
    REG_LIFETIME_16,
    REG_LIFETIME_32,
    REG_STATE,
    REG_WASTE,
    MachineStateCode,
)

STATE_MAP: dict[int, dict[str, str]] = {
    MachineStateCode.OFF: {"item": "NotAvailable"},
    MachineStateCode.IDLE: {"item": "NotExecuting", "mode": "Processing"},
    MachineStateCode.RUNNING: {"item": "Executing", "mode": "Processing", "detail": "Good"},
    MachineStateCode.MAKEREADY: {"item": "Executing", "mode": "Setup", "detail": "FormChange"},
    MachineStateCode.FAULT: {"item": "OutOfService", "mode": "Processing", "detail": "Breakdown"},
    MachineStateCode.MAINTENANCE: {
        "item": "OutOfService",
        "mode": "Maintenance",
        "detail": "Repair",
    },
}


def press_machine(
    machine_id: str,
    port: int,
    unit: int = 1,
    counter_bits: int = 32,
    poll_seconds: float = 0.5,
    rated_per_hour: int = 36_000,
) -> dict[str, Any]:
    """One `machines:` entry of an edge config for a simulated press."""
    counter = (
        {"address": REG_LIFETIME_32, "type": "uint32"}
        if counter_bits == 32
        else {"address": REG_LIFETIME_16, "type": "uint16"}
    )
    return {
        "id": machine_id,
        "kind": "press",
        "poll_seconds": poll_seconds,
        "rated_per_hour": rated_per_hour,
        "modbus": {"host": "127.0.0.1", "port": port, "unit": unit, "timeout_seconds": 1.0},
        "counter": {**counter, "unit": "sheet"},
        "good": {"address": REG_GOOD, "type": "uint32", "unit": "sheet"},
        "waste": {"address": REG_WASTE, "type": "uint32", "unit": "sheet"},
        "job_counter": {"address": REG_JOB, "type": "uint16"},
        "job_id": {"address": REG_JOB_ID, "type": "string", "length": JOB_ID_REGISTERS},
        "state": {
            "address": REG_STATE,
            "map": {int(k): dict(v) for k, v in STATE_MAP.items()},
            "fault_code": {"address": REG_FAULT},
        },
    }
