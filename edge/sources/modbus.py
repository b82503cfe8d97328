"""Modbus TCP source: one hub per connection, one request at a time, every request timed out."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from edge.config import MachineConfig, RegisterPoint
from edge.domain.counters import decode

log = logging.getLogger(__name__)

MAX_REGISTERS_PER_READ = 125
MAX_BACKOFF_SECONDS = 30.0


class SourceError(Exception):
    """A machine could not be read; the message says why."""


class ModbusHub:
    """Owns the client for one host:port; serialises requests and reconnects with backoff."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._client = AsyncModbusTcpClient(host, port=port, timeout=timeout, retries=0)
        self._lock = asyncio.Lock()
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._down_logged = False

    async def _ensure_connected(self) -> None:
        if self._client.connected:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_attempt:
            raise SourceError(f"{self.host}:{self.port} unreachable, retrying later")
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.timeout)
        except (TimeoutError, OSError, ModbusException):
            ok = False
        if not ok:
            self._backoff = min(MAX_BACKOFF_SECONDS, max(0.5, self._backoff * 2))
            self._next_attempt = loop.time() + self._backoff
            if not self._down_logged:
                log.warning("modbus %s:%d unreachable; retrying quietly", self.host, self.port)
                self._down_logged = True
            raise SourceError(f"{self.host}:{self.port} unreachable")
        if self._down_logged:
            log.info("modbus %s:%d reachable again", self.host, self.port)
        self._backoff, self._down_logged = 0.0, False

    async def read(self, table: str, address: int, count: int, unit: int) -> list[int]:
        """Read `count` registers; raises SourceError on any failure."""
        async with self._lock:
            await self._ensure_connected()
            reader = (
                self._client.read_holding_registers
                if table == "holding"
                else self._client.read_input_registers
            )
            try:
                response = await asyncio.wait_for(
                    reader(address, count=count, device_id=unit), self.timeout
                )
            except TimeoutError as error:
                self._client.close()
                raise SourceError(f"unit {unit} timed out after {self.timeout}s") from error
            except (ModbusException, OSError) as error:
                self._client.close()
                raise SourceError(f"unit {unit}: {error}") from error
            if response.isError():
                raise SourceError(f"unit {unit} answered exception {response}")
            return list(response.registers)

    def close(self) -> None:
        """Drop the connection."""
        self._client.close()


@dataclass(frozen=True)
class RawReading:
    """Decoded raw values of one machine's points (None where not configured)."""

    counter: int
    job: int | None
    state: int | None
    fault: int | None


class ModbusMachineReader:
    """Reads one machine's points, neighbouring registers in one request."""

    def __init__(self, machine: MachineConfig, hub: ModbusHub) -> None:
        self.machine, self.hub = machine, hub
        points: dict[str, RegisterPoint] = {"counter": machine.counter}
        if machine.job_counter is not None:
            points["job"] = machine.job_counter
        if machine.state is not None:
            points["state"] = machine.state
            if machine.state.fault_code is not None:
                points["fault"] = machine.state.fault_code
        self.points = points

    async def read(self) -> RawReading:
        """Read every configured point once."""
        values: dict[str, int] = {}
        for table in ("holding", "input"):
            names = [name for name, p in self.points.items() if p.table == table]
            if not names:
                continue
            start = min(self.points[n].address for n in names)
            end = max(self.points[n].address + self.points[n].width for n in names)
            if end - start <= MAX_REGISTERS_PER_READ:
                block = await self.hub.read(table, start, end - start, self.machine.modbus.unit)
                for name in names:
                    point = self.points[name]
                    offset = point.address - start
                    values[name] = decode(
                        block[offset : offset + point.width], point.type, point.word_order
                    )
            else:
                for name in names:
                    point = self.points[name]
                    regs = await self.hub.read(
                        table, point.address, point.width, self.machine.modbus.unit
                    )
                    values[name] = decode(regs, point.type, point.word_order)
        return RawReading(
            counter=values["counter"],
            job=values.get("job"),
            state=values.get("state"),
            fault=values.get("fault"),
        )
