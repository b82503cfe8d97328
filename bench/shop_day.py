"""A simulated two-shift day on the shop floor, on a simulated clock.

Each press is the simulators' pure machine model; an operator plan drives it (power on at
08:00, jobs with makeready, paper jams, meal breaks, power off at midnight), and the edge
agent's own worker reads it through the real Modbus decoding and report policy, so the
snapshots published are exactly those the agent would publish on that day, sequence numbers
and all. Nothing here sleeps: a day of 20 presses takes about a minute.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.app import MachineWorker
from edge.config import EdgeConfig, ModbusSerial, ModbusTcp
from edge.domain.counters import OdometerState
from edge.metrics import EdgeMetrics
from edge.outbox import Message, Outbox
from edge.outbox_writer import OutboxWriter
from edge.sources.modbus import ModbusHub, ModbusSource
from simulators.machine_model import Command, MachineModel, MachineStateCode
from simulators.press_profile import press_machine

HOUR = 3600.0
SHIFTS = (8 * HOUR, 24 * HOUR)  # two shifts: 08:00-16:00 and 16:00-24:00
BREAKS = ((12 * HOUR, 12.5 * HOUR), (18 * HOUR, 18.5 * HOUR))
JAMS_PER_HOUR = 0.5  # paper jams while running


@dataclass(frozen=True)
class Job:
    """One order's printing on one press."""

    order_no: str
    sheets: int
    sheets_per_hour: float


@dataclass(frozen=True)
class Published:
    """One MQTT message as the agent would publish it, with its simulated time."""

    at: float  # seconds since the day's midnight
    topic: str
    body: bytes


class SimHub(ModbusHub):
    """A Modbus connection that answers from the press model's registers."""

    def __init__(self, model: MachineModel) -> None:  # no socket: nothing of the parent's
        self.model = model

    async def read(self, table: str, address: int, count: int, unit: int) -> list[int]:
        """The registers the PLC would show now."""
        return self.model.registers()[address : address + count]

    def close(self) -> None:
        """Nothing to close."""


class Collector(OutboxWriter):
    """Takes what the worker commits, numbering each machine's snapshots as the outbox does."""

    def __init__(self, outbox: Outbox) -> None:
        super().__init__(outbox, lambda: None)
        self.seq: Counter[str] = Counter()
        self.now = 0.0
        self.published: list[Published] = []

    def submit(
        self, machine_id: str, odometers: dict[str, OdometerState], message: Message
    ) -> None:
        """Number and keep the snapshot."""
        self.seq[machine_id] += 1
        topic, body = message(self.seq[machine_id])
        self.published.append(Published(self.now, topic, body))


@dataclass
class Operator:
    """Runs one press through the day: jobs in order, jams, breaks, power on and off."""

    model: MachineModel
    jobs: list[Job]
    rng: random.Random
    phase: str = "off"
    until: float = 0.0
    done: list[str] = field(default_factory=list)
    started: dict[str, float] = field(default_factory=dict)

    def step(self, t: float) -> None:
        """What the operator does at second `t` of the day."""
        model = self.model
        if t >= SHIFTS[1] - 1:
            self.phase, model.state = "off", MachineStateCode.OFF
            return
        if self.phase == "off":
            if t >= SHIFTS[0]:
                model.state = MachineStateCode.IDLE
                self.phase, self.until = "between", t + self.rng.uniform(300, 900)
            return
        if self.phase == "between" and t >= self.until and self.jobs:
            job = self.jobs[0]
            model.command(Command.NEW_JOB)
            model.job_id, model.job_target = job.order_no, job.sheets
            model.sheets_per_hour = job.sheets_per_hour
            self.started[job.order_no] = t
            self.phase, self.until = "makeready", t + self.rng.uniform(1200, 2700)
        elif self.phase in ("makeready", "jam", "break") and t >= self.until:
            if self.phase == "jam":
                model.command(Command.CLEAR_FAULT)
            model.command(Command.START)
            self.phase = "running"
        elif self.phase == "running":
            self._running(t)

    def _running(self, t: float) -> None:
        model = self.model
        if model.state is MachineStateCode.IDLE:  # the job's sheets are all printed
            self.done.append(self.jobs.pop(0).order_no)
            self.phase, self.until = "between", t + self.rng.uniform(300, 900)
        elif any(start <= t < end for start, end in BREAKS):
            model.command(Command.STOP)
            self.phase = "break"
            self.until = next(end for start, end in BREAKS if start <= t < end)
        elif self.rng.random() < JAMS_PER_HOUR / HOUR:
            model.command(Command.FAULT)
            self.phase, self.until = "jam", t + self.rng.uniform(60, 300)


def plan_jobs(machine: str, rng: random.Random, count: int = 12) -> list[Job]:
    """A press's queue of orders: more than a day's work, the rest is tomorrow's backlog."""
    return [
        Job(f"{machine.upper()}-J{n + 1}", rng.randrange(2000, 15001, 500), rng.uniform(8e3, 12e3))
        for n in range(count)
    ]


def edge_config(machines: list[str], counter_seconds: float, heartbeat: float) -> EdgeConfig:
    """The agent's config for these presses, as a shop would deploy it."""
    return EdgeConfig.model_validate(
        {
            "site": "shop",
            "agent": "edge-1",
            "state_dir": tempfile.mkdtemp(prefix="shop-day-"),
            "mqtt": {"url": "mqtt://127.0.0.1:1883"},
            "report": {"counter_seconds": counter_seconds, "heartbeat_seconds": heartbeat},
            "machines": [
                {**press_machine(m, 5020 + i, poll_seconds=1.0), "state_poll_seconds": 1.0}
                for i, m in enumerate(machines)
            ],
        }
    )


@dataclass
class Day:
    """What a simulated day produced."""

    published: list[Published]
    jobs: dict[str, list[Job]]  # each press's queue at the start of the day
    printed: dict[str, list[str]]  # orders whose printing finished, by press
    started: dict[str, float]  # when each order's printing began (makeready)
    truth: dict[str, dict[str, Any]]  # each press's ground truth at the end


def simulate_day(
    machines: int,
    counter_seconds: float,
    heartbeat_seconds: float,
    midnight: datetime,
    seed: int = 7,
) -> Day:
    """Run `machines` presses and their agent through one day from `midnight`."""
    return asyncio.run(_simulate(machines, counter_seconds, heartbeat_seconds, midnight, seed))


async def _simulate(
    count: int, counter_seconds: float, heartbeat: float, midnight: datetime, seed: int
) -> Day:
    rng = random.Random(seed)
    names = [f"press-{i + 1}" for i in range(count)]
    config = edge_config(names, counter_seconds, heartbeat)
    state_dir = Path(config.state_dir)
    outbox = Outbox(state_dir / "outbox.sqlite3", config.outbox.max_messages)
    collector = Collector(outbox)
    metrics = EdgeMetrics()
    clock = [midnight.timestamp()]
    operators, workers = [], []
    for machine in config.machines:
        model = MachineModel(
            sheets_per_hour=10_000, lifetime=rng.randrange(10**6, 10**8), waste_every=97
        )
        model.state = MachineStateCode.OFF
        operators.append(Operator(model, plan_jobs(machine.id, rng), random.Random(rng.random())))
        link = machine.link
        assert isinstance(link, ModbusTcp | ModbusSerial)
        source = ModbusSource(machine, SimHub(model))
        workers.append(
            MachineWorker(config, machine, source, outbox, collector, metrics, lambda: clock[0])
        )
    jobs = {w.machine.id: list(o.jobs) for w, o in zip(workers, operators, strict=True)}
    for second in range(86_400):
        t = float(second)
        clock[0] = midnight.timestamp() + t
        collector.now = t
        for operator, worker in zip(operators, workers, strict=True):
            operator.step(t)
            operator.model.advance(1.0)
            await worker.poll_once(t)
    outbox.close()
    metrics.close()
    return Day(
        published=collector.published,
        jobs=jobs,
        printed={w.machine.id: o.done for w, o in zip(workers, operators, strict=True)},
        started={k: v for o in operators for k, v in o.started.items()},
        truth={w.machine.id: o.model.truth() for w, o in zip(workers, operators, strict=True)},
    )


def main() -> None:
    """Print what one day publishes."""
    day = simulate_day(2, 30, 120, datetime(2026, 12, 3, tzinfo=UTC))
    print(len(day.published), "messages;", day.printed)


if __name__ == "__main__":
    main()
