"""The edge-agent configuration that reads the simulated press (its register map and states)."""

from __future__ import annotations

from typing import Any

from simulators.press_model import (
    REG_FAULT,
    REG_JOB,
    REG_LIFETIME_16,
    REG_LIFETIME_32,
    REG_STATE,
    PressState,
)

STATE_MAP: dict[int, dict[str, str]] = {
    PressState.OFF: {"item": "NotAvailable"},
    PressState.IDLE: {"item": "NotExecuting", "mode": "Processing"},
    PressState.RUNNING: {"item": "Executing", "mode": "Processing", "detail": "Good"},
    PressState.MAKEREADY: {"item": "Executing", "mode": "Setup", "detail": "FormChange"},
    PressState.FAULT: {"item": "OutOfService", "mode": "Processing", "detail": "Breakdown"},
    PressState.MAINTENANCE: {"item": "OutOfService", "mode": "Maintenance", "detail": "Repair"},
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
        "job_counter": {"address": REG_JOB, "type": "uint16"},
        "state": {
            "address": REG_STATE,
            "map": {int(k): dict(v) for k, v in STATE_MAP.items()},
            "fault_code": {"address": REG_FAULT},
        },
    }
