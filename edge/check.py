"""`presstrack edge check`: read every configured machine once and print what it says."""

from __future__ import annotations

from typing import TextIO

from edge.app import normalise_state
from edge.config import EdgeConfig, MachineConfig, ModbusTcp
from edge.sources.base import MachineSource, SourceError
from edge.sources.modbus import ModbusHub, ModbusSource
from edge.sources.opcua import OpcUaSource


def _endpoint(machine: MachineConfig) -> str:
    link = machine.link
    if link is None:
        assert machine.opcua is not None
        return machine.opcua.url
    where = f"{link.host}:{link.port}" if isinstance(link, ModbusTcp) else link.serial
    return f"{where}/{link.unit}"


async def check_machines(config: EdgeConfig, out: TextIO) -> int:
    """Print one row per machine; exit status 1 if any machine could not be read."""
    hubs: dict[str, ModbusHub] = {}
    failed = 0
    out.write(f"{'machine':<16} {'endpoint':<36} {'counter':>12} {'job':>8}  state\n")
    for machine in config.machines:
        source: MachineSource
        if machine.link is not None:
            hub = hubs.setdefault(ModbusHub.key(machine.link), ModbusHub(machine.link))
            source = ModbusSource(machine, hub)
        else:
            source = OpcUaSource(machine)
        endpoint = _endpoint(machine)
        try:
            values = await source.read(tuple(machine.points()))
        except SourceError as error:
            failed += 1
            out.write(f"{machine.id:<16} {endpoint:<36} {'-':>12} {'-':>8}  ERROR {error}\n")
            continue
        finally:
            await source.close()
        state = normalise_state(machine, values)
        words = "-"
        if state is not None:
            words = f"{state.item}/{state.mode}" + (f"/{state.detail}" if state.detail else "")
            if state.fault_code:
                words += f" fault {state.fault_code}"
        job = values.get("job_counter", "-")
        out.write(
            f"{machine.id:<16} {endpoint:<36} {values['counter']!s:>12} {job!s:>8}  {words}\n"
        )
    for hub in hubs.values():
        hub.close()
    return 1 if failed else 0
