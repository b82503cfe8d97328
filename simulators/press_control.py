"""Operate a simulated press over Modbus: what an operator's buttons do."""

from __future__ import annotations

from pymodbus.client import ModbusTcpClient

from simulators.machine_model import REG_COMMAND, REG_LIFETIME_32, Command


class PressControlError(Exception):
    """The press did not take the command."""


def send_command(port: int, command: Command, unit: int = 1, host: str = "127.0.0.1") -> None:
    """Write one command to the press's command register."""
    modbus = ModbusTcpClient(host, port=port, timeout=2)
    try:
        if not modbus.connect():
            raise PressControlError(f"press at {host}:{port} is not answering")
        answer = modbus.write_register(REG_COMMAND, int(command), device_id=unit)
        if answer.isError():
            raise PressControlError(f"press refused {command.name}: {answer}")
    finally:
        modbus.close()


def read_lifetime(port: int, unit: int = 1, host: str = "127.0.0.1") -> int:
    """The press's lifetime impression counter (uint32, high word first)."""
    modbus = ModbusTcpClient(host, port=port, timeout=2)
    try:
        if not modbus.connect():
            raise PressControlError(f"press at {host}:{port} is not answering")
        answer = modbus.read_holding_registers(REG_LIFETIME_32, count=2, device_id=unit)
        if answer.isError():
            raise PressControlError(f"press refused a read: {answer}")
        high, low = answer.registers
        return int(high) << 16 | int(low)
    finally:
        modbus.close()
