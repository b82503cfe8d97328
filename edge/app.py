"""The edge agent: machines are polled, readings normalised, snapshots committed and published."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from edge.config import EdgeConfig, MachineConfig
from edge.domain.counters import OdometerState, advance_odometer
from edge.domain.registers import DecodeError, Value, as_count
from edge.domain.reporting import Published, Reading, ReportPolicy, is_change, should_report
from edge.metrics import EdgeMetrics
from edge.outbox import Outbox
from edge.outbox_writer import OutboxWriter
from edge.publisher import MqttPublisher
from edge.sources.base import MachineSource, SourceError
from edge.sources.modbus import ModbusHub, ModbusSource
from presstrack.wire import Counters, ItemState, MachineSnapshot, MachineState, OperationMode

log = logging.getLogger(__name__)

ODOMETER_POINTS = ("counter", "good", "waste")
STATE_POINTS = ("state", "fault", "mode")


def normalise_state(machine: MachineConfig, values: dict[str, Value]) -> MachineState | None:
    """Map the raw state value through the machine's value map, adding the fault code."""
    if machine.state is None or "state" not in values:
        return None
    mapped = machine.state.lookup(values["state"])
    if mapped is None:
        log.warning("%s: state value %r is not in its map", machine.id, values["state"])
        return MachineState(item=ItemState.NOT_AVAILABLE)
    update: dict[str, object] = {}
    mode = values.get("mode")
    if isinstance(mode, str) and mode in OperationMode.__members__.values():
        update["mode"] = OperationMode(mode)
    fault = values.get("fault")
    if fault not in (None, 0, "", False) and isinstance(fault, int | float):
        update["fault_code"] = int(fault)
    return mapped.model_copy(update=update) if update else mapped


class MachineWorker:
    """Reads one machine (state often, counters on their period) and commits snapshots."""

    def __init__(
        self,
        config: EdgeConfig,
        machine: MachineConfig,
        source: MachineSource,
        outbox: Outbox,
        writer: OutboxWriter,
        metrics: EdgeMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` is the wall clock readings are stamped with (a simulated day runs its own)."""
        self.config, self.machine, self.source = config, machine, source
        self.clock = clock
        self.writer, self.metrics = writer, metrics
        self.policy = ReportPolicy(
            config.report.counter_seconds,
            config.report.heartbeat_seconds,
            config.report.counter_sheets,
        )
        self.odometers: dict[str, OdometerState] = outbox.machine(machine.id).odometers
        self.points = machine.points()
        self.all_points = tuple(self.points)
        self.state_points = tuple(n for n in STATE_POINTS if n in self.all_points)
        self.current = Reading(available=False)
        self.last: Published | None = None
        self.last_full = float("-inf")
        # metric children looked up once, not on every read
        self._m_reads = metrics.reads.labels(machine.id)
        self._m_errors = metrics.errors.labels(machine.id)
        self._m_available = metrics.available.labels(machine.id)
        self._m_latency = metrics.latency.labels(machine.id)
        self._m_points = metrics.points.labels(machine.id)
        self._now = 0.0
        self._read_at = 0.0

    async def run(self, offset: float = 0.0) -> None:
        """Read forever on a drift-free schedule; a late read skips slots rather than bursting.

        `offset` (a fraction of the period) spreads machines over the period instead of
        reading them all at the same instant.
        """
        loop = asyncio.get_running_loop()
        period = min(self.machine.poll_seconds, self.machine.state_period)
        next_at = loop.time() + offset * period
        await asyncio.sleep(offset * period)
        while True:
            self.metrics.lateness.observe(max(0.0, loop.time() - next_at))
            await self.poll_once(next_at)  # the slot, not the clock: jitter must not skip reports
            next_at += period
            next_at = max(next_at, loop.time())
            await self.source.wait_change(max(0.0, next_at - loop.time()))

    async def poll_once(self, now: float) -> None:
        """One read at slot time `now`: everything when the counters are due, else the state."""
        self._now = now
        full = now - self.last_full >= self.machine.poll_seconds - 1e-6 or not self.state_points
        names = self.all_points if full else self.state_points
        machine_id = self.machine.id
        self._m_reads.inc()
        started = time.perf_counter()
        try:
            values = await self.source.read(names)
        except SourceError as error:
            self._m_errors.inc()
            self._m_available.set(0)
            log.debug("%s: %s", machine_id, error)
            self._consider(Reading(available=False, read_at=self.clock()))
            return
        self._read_at = self.clock()
        self._m_latency.observe(time.perf_counter() - started)
        self._m_points.inc(len(values))
        self._m_available.set(1)
        for transition in self.source.take_transitions():
            self._consider(self._with_state(self.current, transition))
        reading = self._with_state(self.current, values)
        if full:
            self.last_full = now
            try:
                reading = self._with_counts(reading, values)
            except DecodeError as error:
                self._m_errors.inc()
                log.warning("%s: %s", machine_id, error)
                return
        self._consider(reading)

    def _with_state(self, base: Reading, values: dict[str, Value]) -> Reading:
        state = normalise_state(self.machine, values) if "state" in values else base.state
        return Reading(True, state, base.totals, base.job_raw, base.job_id, self._read_at)

    def _with_counts(self, base: Reading, values: dict[str, Value]) -> Reading:
        totals = dict(base.totals)
        wall = self.clock()
        for name in ODOMETER_POINTS:
            if name not in values:
                continue
            point = self.points[name]
            odometer = self.odometers.get(name, OdometerState(0, None, None))
            step = advance_odometer(
                odometer,
                as_count(values[name]),
                wall,
                point.counter_bits,
                self.machine.rated_per_hour,
            )
            if step.kind in ("wrap", "reset"):
                log.info("%s: %s %s, +%d", self.machine.id, name, step.kind, step.added)
            self.odometers[name] = step.state
            totals[name] = step.state.total
        job = values.get("job_counter")
        job_id = values.get("job_id")
        return Reading(
            True,
            base.state,
            totals,
            as_count(job) if job is not None else None,
            str(job_id) if job_id not in (None, "") else None,
            self._read_at,
        )

    def _consider(self, reading: Reading) -> None:
        if reading.available:
            self.current = reading
        else:  # remember what was last known, for when the machine answers again
            self.current = replace(self.current, available=False, read_at=reading.read_at)
        if should_report(self.last, reading, self._now, self.policy):
            self._commit(reading, is_change(self.last, reading))
            self.last = Published(reading, self._now)

    def _commit(self, reading: Reading, change: bool) -> None:
        unit = self.machine.counter.unit

        def message(seq: int) -> tuple[str, bytes]:
            counters = None
            if "counter" in reading.totals:
                counters = Counters(
                    lifetime=reading.totals["counter"],
                    unit=unit,
                    job=reading.job_raw,
                    good=reading.totals.get("good"),
                    waste=reading.totals.get("waste"),
                )
            snapshot = MachineSnapshot(
                site=self.config.site,
                machine=self.machine.id,
                agent=self.config.agent,
                seq=seq,
                ts=datetime.fromtimestamp(reading.read_at or self.clock(), UTC),
                available=reading.available,
                state=reading.state if reading.available else None,
                counters=counters if reading.available else None,
                job_id=reading.job_id if reading.available else None,
            )
            return snapshot.change_topic if change else snapshot.topic, snapshot.to_json()

        self.writer.submit(self.machine.id, self.odometers, message)


class EdgeAgent:
    """Wires sources, outbox and publisher for one config."""

    def __init__(self, config: EdgeConfig) -> None:
        self.config = config
        self.metrics = EdgeMetrics()
        self.outbox = Outbox(config.state_dir / "outbox.sqlite3", config.outbox.max_messages)
        self.writer = OutboxWriter(self.outbox, self._committed)
        self.publisher = MqttPublisher(
            config.mqtt, config.site, config.agent, self.outbox, self.writer, self.metrics
        )
        self.hubs: dict[str, ModbusHub] = {}
        self.workers: list[MachineWorker] = []
        for machine in config.machines:
            source: MachineSource
            if machine.link is not None:
                key = ModbusHub.key(machine.link)
                hub = self.hubs.setdefault(key, ModbusHub(machine.link))
                source = ModbusSource(machine, hub)
            else:  # asyncua is heavy: only agents with OPC UA machines load it
                from edge.sources.opcua import OpcUaSource  # noqa: PLC0415

                source = OpcUaSource(machine)
            self.workers.append(
                MachineWorker(config, machine, source, self.outbox, self.writer, self.metrics)
            )
        self.metrics_port: int | None = None

    def _committed(self) -> None:
        self.metrics.outbox_depth.set(self.outbox.depth())
        self.publisher.wake()

    async def run(self) -> None:
        """Run until cancelled; the outbox is closed cleanly on the way out."""
        if self.config.metrics is not None:
            self.metrics_port = self.metrics.serve(
                self.config.metrics.host, self.config.metrics.port
            )
        log.info(
            "agent %s/%s: %d machines, outbox depth %d, metrics port %s",
            self.config.site,
            self.config.agent,
            len(self.workers),
            self.outbox.depth(),
            self.metrics_port,
        )
        tasks = [
            asyncio.create_task(self.publisher.run(), name="publisher"),
            asyncio.create_task(self.writer.run(), name="outbox-writer"),
        ]
        count = len(self.workers)
        tasks += [
            asyncio.create_task(w.run(i / count), name=w.machine.id)
            for i, w in enumerate(self.workers)
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for worker in self.workers:
                await worker.source.close()
            for hub in self.hubs.values():
                hub.close()
            self.outbox.close()
            self.metrics.close()
