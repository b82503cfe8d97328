"""Modbus TCP and RTU: one hub per connection, one request at a time, every request timed out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from edge.config import MachineConfig, ModbusSerial, ModbusTcp, Point
from edge.domain.registers import DecodeError, Value, decode
from edge.sources.base import PollingSource, SourceError

log = logging.getLogger(__name__)

MAX_REGISTERS_PER_READ = 125
MAX_BITS_PER_READ = 2000
MERGE_GAP = 8  # read across a gap of up to this many unused registers rather than twice
MAX_BACKOFF_SECONDS = 30.0


class ModbusHub:
    """Owns the client for one TCP endpoint or serial line; serialises requests."""

    def __init__(self, link: ModbusTcp | ModbusSerial) -> None:
        self.name = link.host + f":{link.port}" if isinstance(link, ModbusTcp) else link.serial
        self.timeout = link.timeout_seconds
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient
        if isinstance(link, ModbusTcp):
            self._client = AsyncModbusTcpClient(
                link.host, port=link.port, timeout=link.timeout_seconds, retries=0
            )
        else:
            self._client = AsyncModbusSerialClient(
                link.serial,
                baudrate=link.baudrate,
                parity=link.parity,
                stopbits=link.stopbits,
                bytesize=link.bytesize,
                timeout=link.timeout_seconds,
                retries=0,
            )
        self._lock = asyncio.Lock()
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._down_logged = False

    @staticmethod
    def key(link: ModbusTcp | ModbusSerial) -> str:
        """Machines with the same key share a hub."""
        return f"tcp:{link.host}:{link.port}" if isinstance(link, ModbusTcp) else link.serial

    async def _ensure_connected(self) -> None:
        if self._client.connected:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_attempt:
            raise SourceError(f"{self.name} unreachable, retrying later")
        try:
            ok = await asyncio.wait_for(self._client.connect(), self.timeout)
        except (TimeoutError, OSError, ModbusException):
            ok = False
        if not ok:
            self._client.close()
            self._backoff = min(MAX_BACKOFF_SECONDS, max(0.5, self._backoff * 2))
            self._next_attempt = loop.time() + self._backoff
            if not self._down_logged:
                log.warning("modbus %s unreachable; retrying quietly", self.name)
                self._down_logged = True
            raise SourceError(f"{self.name} unreachable")
        if self._down_logged:
            log.info("modbus %s reachable again", self.name)
        self._backoff, self._down_logged = 0.0, False

    async def read(self, table: str, address: int, count: int, unit: int) -> list[int]:
        """Read `count` registers (or bits, as 0/1); raises SourceError on any failure."""
        async with self._lock:
            await self._ensure_connected()
            client = self._client
            reader = {
                "holding": client.read_holding_registers,
                "input": client.read_input_registers,
                "coil": client.read_coils,
                "discrete": client.read_discrete_inputs,
            }[table]
            try:
                async with asyncio.timeout(self.timeout):  # no extra task, unlike wait_for
                    response = await reader(address, count=count, device_id=unit)
            except TimeoutError as error:
                # a late answer would be taken for the next request's: start a clean connection
                self._client.close()
                raise SourceError(f"unit {unit} timed out after {self.timeout}s") from error
            except (ModbusException, OSError) as error:
                self._client.close()
                raise SourceError(f"unit {unit}: {error}") from error
            if response.isError():
                raise SourceError(f"unit {unit} answered {response}")
            if table in ("coil", "discrete"):
                return [int(bit) for bit in response.bits[:count]]
            return list(response.registers)

    def close(self) -> None:
        """Drop the connection."""
        self._client.close()


@dataclass(frozen=True)
class Block:
    """One request: neighbouring points of one table."""

    table: str
    start: int
    count: int
    names: tuple[str, ...]


def plan_blocks(points: dict[str, Point]) -> list[Block]:
    """Group points into as few requests as the protocol's limits allow."""
    blocks: list[Block] = []
    for table in ("holding", "input", "coil", "discrete"):
        limit = MAX_BITS_PER_READ if table in ("coil", "discrete") else MAX_REGISTERS_PER_READ
        items = sorted(
            ((n, p) for n, p in points.items() if p.table == table and p.address is not None),
            key=lambda item: item[1].address or 0,
        )
        current: list[tuple[str, Point]] = []
        start = end = 0
        for name, point in items:
            address = point.address or 0
            if current and address - end <= MERGE_GAP and address + point.width - start <= limit:
                current.append((name, point))
                end = max(end, address + point.width)
                continue
            if current:
                blocks.append(Block(table, start, end - start, tuple(n for n, _ in current)))
            current, start, end = [(name, point)], address, address + point.width
        if current:
            blocks.append(Block(table, start, end - start, tuple(n for n, _ in current)))
    return blocks


class ModbusSource(PollingSource):
    """One machine on a hub; after a failure it backs off so it never holds up the line."""

    def __init__(self, machine: MachineConfig, hub: ModbusHub) -> None:
        assert machine.link is not None
        self.machine, self.hub, self.unit = machine, hub, machine.link.unit
        self.points = machine.points()
        self._plans: dict[frozenset[str], list[Block]] = {}
        self._backoff = 0.0
        self._next_attempt = 0.0

    def _plan(self, names: Collection[str]) -> list[Block]:
        key = frozenset(names)
        if key not in self._plans:
            self._plans[key] = plan_blocks({n: self.points[n] for n in key if n in self.points})
        return self._plans[key]

    async def read(self, names: Collection[str]) -> dict[str, Value]:
        """Read the named points, neighbouring ones in one request."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_attempt:
            raise SourceError(f"{self.machine.id} did not answer; next try in a moment")
        values: dict[str, Value] = {}
        try:
            for block in self._plan(names):
                words = await self.hub.read(block.table, block.start, block.count, self.unit)
                for name in block.names:
                    point = self.points[name]
                    at = (point.address or 0) - block.start
                    values[name] = decode(
                        words[at : at + point.width],
                        point.type,
                        point.word_order,
                        point.byte_order,
                        point.scale,
                        point.offset,
                    )
        except (SourceError, DecodeError) as error:
            self._backoff = min(MAX_BACKOFF_SECONDS, max(1.0, self._backoff * 2))
            self._next_attempt = loop.time() + self._backoff
            raise SourceError(str(error)) from error
        self._backoff = 0.0
        return values

    async def close(self) -> None:
        """The hub is closed by its owner."""
