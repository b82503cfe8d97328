"""`presstrack edge check`: read every configured machine once and print what it says."""

from __future__ import annotations

from typing import TextIO

from edge.app import normalise_state
from edge.config import EdgeConfig
from edge.sources.modbus import ModbusHub, ModbusMachineReader, SourceError


async def check_machines(config: EdgeConfig, out: TextIO) -> int:
    """Print one row per machine; exit status 1 if any machine could not be read."""
    hubs: dict[tuple[str, int], ModbusHub] = {}
    failed = 0
    out.write(f"{'machine':<20} {'endpoint':<24} {'counter':>12} {'job':>8}  state\n")
    for machine in config.machines:
        key = (machine.modbus.host, machine.modbus.port)
        hub = hubs.setdefault(key, ModbusHub(*key, machine.modbus.timeout_seconds))
        endpoint = f"{key[0]}:{key[1]}/{machine.modbus.unit}"
        try:
            raw = await ModbusMachineReader(machine, hub).read()
        except SourceError as error:
            failed += 1
            out.write(f"{machine.id:<20} {endpoint:<24} {'-':>12} {'-':>8}  ERROR {error}\n")
            continue
        state = normalise_state(machine, raw)
        words = (
            f"{state.item}/{state.mode}" + (f"/{state.detail}" if state.detail else "")
            if state
            else "-"
        )
        job = "-" if raw.job is None else str(raw.job)
        out.write(f"{machine.id:<20} {endpoint:<24} {raw.counter:>12} {job:>8}  {words}\n")
    for hub in hubs.values():
        hub.close()
    return 1 if failed else 0
