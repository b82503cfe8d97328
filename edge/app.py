"""The edge agent: machines are polled, readings normalised, snapshots committed and published."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from edge.config import EdgeConfig, MachineConfig
from edge.domain.counters import OdometerState, advance_odometer
from edge.domain.reporting import Published, Reading, should_report
from edge.outbox import Outbox
from edge.publisher import MqttPublisher
from edge.sources.modbus import ModbusHub, ModbusMachineReader, RawReading, SourceError
from presstrack.wire import Counters, ItemState, MachineSnapshot, MachineState

log = logging.getLogger(__name__)


def normalise_state(machine: MachineConfig, raw: RawReading) -> MachineState | None:
    """Map the raw state register through the machine's value map."""
    if machine.state is None or raw.state is None:
        return None
    mapped = machine.state.map.get(raw.state)
    if mapped is None:
        log.warning("%s: state value %d not in its map", machine.id, raw.state)
        return MachineState(item=ItemState.NOT_AVAILABLE)
    if raw.fault is not None and raw.fault != 0:
        return mapped.model_copy(update={"fault_code": raw.fault})
    return mapped


class MachineWorker:
    """Polls one machine on a fixed period and turns readings into outbox messages."""

    def __init__(
        self,
        config: EdgeConfig,
        machine: MachineConfig,
        hub: ModbusHub,
        outbox: Outbox,
        publisher: MqttPublisher,
    ) -> None:
        self.config, self.machine, self.outbox, self.publisher = config, machine, outbox, publisher
        self.reader = ModbusMachineReader(machine, hub)
        self.odometer: OdometerState = outbox.machine(machine.id).odometer
        self.last: Published | None = None
        self.reads = 0
        self.errors = 0

    async def run(self) -> None:
        """Poll forever on a drift-free schedule."""
        loop = asyncio.get_running_loop()
        period = self.machine.poll_seconds
        next_at = loop.time()
        while True:
            await self.poll_once()
            next_at += period
            delay = next_at - loop.time()
            if delay < 0:  # fell behind: skip missed slots rather than burst
                next_at = loop.time()
                delay = 0
            await asyncio.sleep(delay)

    async def poll_once(self) -> None:
        """Read the machine once and commit a snapshot if the report policy says so."""
        self.reads += 1
        try:
            raw = await self.reader.read()
        except SourceError as error:
            self.errors += 1
            log.debug("%s: %s", self.machine.id, error)
            reading = Reading(available=False)
        else:
            step = advance_odometer(
                self.odometer,
                raw.counter,
                time.time(),
                self.machine.counter.bits,
                self.machine.rated_per_hour,
            )
            if step.kind in ("wrap", "reset"):
                log.info("%s: counter %s, +%d", self.machine.id, step.kind, step.added)
            self.odometer = step.state
            reading = Reading(True, normalise_state(self.machine, raw), step.state.total, raw.job)
        now = time.monotonic()
        report = self.config.report
        if should_report(self.last, reading, now, report.counter_seconds, report.heartbeat_seconds):
            self._commit(reading)
            self.last = Published(reading, now)

    def _commit(self, reading: Reading) -> None:
        def message(seq: int) -> tuple[str, bytes]:
            counters = None
            if reading.total is not None:
                counters = Counters(
                    lifetime=reading.total, unit=self.machine.counter.unit, job=reading.job_raw
                )
            snapshot = MachineSnapshot(
                site=self.config.site,
                machine=self.machine.id,
                agent=self.config.agent,
                seq=seq,
                ts=datetime.now(UTC),
                available=reading.available,
                state=reading.state,
                counters=counters,
            )
            return snapshot.topic, snapshot.to_json()

        self.outbox.record(self.machine.id, self.odometer, message)
        self.publisher.wake()


class EdgeAgent:
    """Wires sources, outbox and publisher for one config."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.outbox = Outbox(config.state_dir / "outbox.sqlite3", config.outbox.max_messages)
        self.publisher = MqttPublisher(config.mqtt, config.site, config.agent, self.outbox)
        self.hubs: dict[tuple[str, int], ModbusHub] = {}
        self.workers = []
        for machine in config.machines:
            key = (machine.modbus.host, machine.modbus.port)
            if key not in self.hubs:
                self.hubs[key] = ModbusHub(key[0], key[1], machine.modbus.timeout_seconds)
            self.workers.append(
                MachineWorker(config, machine, self.hubs[key], self.outbox, self.publisher)
            )

    async def run(self) -> None:
        """Run until cancelled; the outbox is closed cleanly on the way out."""
        log.info(
            "agent %s/%s: %d machines, outbox depth %d",
            self.config.site,
            self.config.agent,
            len(self.workers),
            self.outbox.depth(),
        )
        tasks = [asyncio.create_task(self.publisher.run(), name="publisher")]
        tasks += [asyncio.create_task(w.run(), name=w.machine.id) for w in self.workers]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for hub in self.hubs.values():
                hub.close()
            self.outbox.close()
