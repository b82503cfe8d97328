"""The edge-agent configuration that reads the simulated finisher over OPC UA."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulators.finisher_server import OPC_STATES


def finisher_machine(
    machine_id: str,
    url: str,
    name: str = "Laminator",
    security: dict[str, Path | str] | None = None,
    poll_seconds: float = 0.5,
    rated_per_hour: int = 6_000,
    subscribe: bool = True,
) -> dict[str, Any]:
    """One `machines:` entry for a simulated finisher (browse paths and node ids both used)."""
    details = {"Executing": "Good", "OutOfService": "Breakdown"}
    state_map = {
        item: {"item": item, **({"detail": details[item]} if item in details else {})}
        for item, _mode in OPC_STATES.values()
    }
    opcua: dict[str, Any] = {"url": url, "subscribe": subscribe}
    if security is not None:
        opcua["security"] = {k: str(v) for k, v in security.items()}
    return {
        "id": machine_id,
        "kind": "finisher",
        "poll_seconds": poll_seconds,
        "rated_per_hour": rated_per_hour,
        "opcua": opcua,
        "counter": {"browse_path": f"0:Objects/2:{name}/2:LifetimeCounter", "unit": "piece"},
        "job_counter": {"browse_path": f"0:Objects/2:{name}/2:JobCounter"},
        "job_id": {"node": "ns=2;s=JobId"},
        "state": {
            "node": "ns=2;s=MachineryItemState",
            "map": state_map,
            "fault_code": {"node": "ns=2;s=FaultCode"},
        },
        "mode": {"node": "ns=2;s=MachineryOperationMode"},
    }
