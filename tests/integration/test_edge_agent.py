"""The edge agent against real Modbus press simulators and a real Mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from edge.app import EdgeAgent
from edge.check import check_machines
from edge.config import ModbusTcp, parse_config
from edge.sources.base import SourceError
from edge.sources.modbus import ModbusHub, ModbusSource
from infra.broker import Mosquitto
from infra.local.aws import free_port
from simulators.machine_model import REG_JOB, Command, MachineStateCode
from simulators.press_profile import press_machine
from tests.helpers import Listener, cancelled, eventually, item_of, running_press


def edge_config(
    mosquitto: Mosquitto, state_dir: Path, site: str, machines: list[dict[str, Any]], **report: Any
) -> dict[str, Any]:
    return {
        "site": site,
        "agent": "edge-1",
        "state_dir": str(state_dir),
        "mqtt": {"url": mosquitto.url},
        "report": {"counter_seconds": 0.2, **report},
        "machines": machines,
    }


@contextlib.asynccontextmanager
async def running_agent(config: dict[str, Any]) -> AsyncIterator[EdgeAgent]:
    agent = EdgeAgent(parse_config(config))
    task = asyncio.create_task(agent.run())
    try:
        yield agent
    finally:
        await cancelled(task)


async def test_reader_decodes_the_press_registers() -> None:
    async with running_press(lifetime=70_000, job_id="J-0042") as press:
        config = parse_config(
            {"site": "t", "agent": "a", "machines": [press_machine("p", press.options.port)]}
        )
        machine = config.machines[0]
        assert isinstance(machine.modbus, ModbusTcp)
        hub = ModbusHub(machine.modbus)
        values = await ModbusSource(machine, hub).read(tuple(machine.points()))
        hub.close()
    assert values == {
        "counter": 70_000,
        "good": 70_000,
        "waste": 0,
        "job_counter": 0,
        "job_id": "J-0042",
        "state": MachineStateCode.IDLE,
        "fault": 0,
    }


async def test_a_machine_that_is_not_there_fails_fast() -> None:
    config = parse_config(
        {"site": "t", "agent": "a", "machines": [press_machine("p", free_port())]}
    )
    machine = config.machines[0]
    assert isinstance(machine.modbus, ModbusTcp)
    hub = ModbusHub(machine.modbus)
    started = time.monotonic()
    with pytest.raises(SourceError):
        await ModbusSource(machine, hub).read(("counter",))
    assert time.monotonic() - started < 2
    hub.close()


async def test_agent_publishes_snapshots_a_retained_birth_and_metrics(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    listener = Listener(mosquitto.url, "t1")
    try:
        async with running_press(start=True, sheets_per_hour=36_000, waste_every=10) as press:
            config = edge_config(
                mosquitto,
                tmp_path,
                "t1",
                [press_machine("press-1", press.options.port, poll_seconds=0.1)],
            )
            config["metrics"] = {"port": 0}
            async with running_agent(config) as agent:
                await eventually(lambda: len(listener.of("press-1")) >= 5, 10, "5 snapshots")
                press.model.command(Command.STOP)  # after this nothing new: the outbox empties
                await eventually(
                    lambda: item_of(listener.of("press-1")[-1]) == "NotExecuting", 10, "the stop"
                )
                await eventually(
                    lambda: agent.outbox.depth() == 0, 10, "every acknowledged row removed"
                )
                assert agent.metrics_port is not None
                url = f"http://127.0.0.1:{agent.metrics_port}/metrics"
                metrics = await asyncio.to_thread(
                    lambda: urllib.request.urlopen(url, timeout=5).read().decode()
                )
    finally:
        listener.close()
    assert listener.status[0].online
    snapshots = listener.of("press-1")
    assert snapshots[0].topic == "presstrack/v1/t1/press-1/snapshot"
    seqs = [s.seq for s in snapshots]
    assert seqs == sorted(seqs)
    counted = [s.counters for s in snapshots if s.counters]
    assert counted[-1].lifetime > counted[0].lifetime
    assert counted[-1].good is not None
    assert counted[-1].waste is not None
    assert counted[-1].good + counted[-1].waste == counted[-1].lifetime  # kept apart, both exact
    assert "Executing" in {item_of(s) for s in snapshots}
    for name in (
        "presstrack_edge_reads_total",
        "presstrack_edge_read_errors_total",
        "presstrack_edge_read_seconds_bucket",
        "presstrack_edge_outbox_depth",
        "presstrack_edge_last_publish_timestamp_seconds",
    ):
        assert name in metrics


async def test_exact_total_across_a_16_bit_register_wrap(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    listener = Listener(mosquitto.url, "wrap")
    try:
        async with running_press(
            lifetime=65_000, sheets_per_hour=720_000, job_sheets=1_500
        ) as press:
            machine = press_machine(
                "press-16",
                press.options.port,
                counter_bits=16,
                poll_seconds=0.1,
                rated_per_hour=720_000,
            )
            async with running_agent(edge_config(mosquitto, tmp_path, "wrap", [machine])):
                await eventually(lambda: bool(listener.of("press-16")), 10, "the baseline")
                press.model.command(Command.START)
                await eventually(
                    lambda: press.model.state is MachineStateCode.IDLE, 30, "the job to finish"
                )
                await eventually(
                    lambda: listener.latest_total("press-16") == 1_500,
                    10,
                    "the odometer to reach the truth",
                )
    finally:
        listener.close()
    assert press.model.lifetime == 66_500  # it wrapped past 65,535


async def test_exact_total_when_only_a_job_counter_resets_at_job_change(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    listener = Listener(mosquitto.url, "jobs")
    try:
        async with running_press(sheets_per_hour=720_000, job_sheets=400) as press:
            machine = press_machine("box-1", press.options.port, poll_seconds=0.1)
            machine["counter"] = {"address": REG_JOB, "type": "uint16", "unit": "piece"}
            async with running_agent(edge_config(mosquitto, tmp_path, "jobs", [machine])):
                await eventually(lambda: bool(listener.of("box-1")), 10, "the baseline")
                press.model.command(Command.START)
                await eventually(lambda: press.model.job_count == 400, 20, "first job")
                press.model.command(Command.NEW_JOB)
                press.model.command(Command.START)
                await eventually(
                    lambda: (
                        press.model.state is MachineStateCode.IDLE and press.model.job_count == 400
                    ),
                    20,
                    "second job",
                )
                await eventually(
                    lambda: listener.latest_total("box-1") == 800, 10, "both jobs counted"
                )
    finally:
        listener.close()


async def test_a_fault_shorter_than_the_counter_period_is_reported(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    listener = Listener(mosquitto.url, "blink")
    try:
        async with running_press(start=True) as press:
            machine = press_machine("press-1", press.options.port, poll_seconds=3.0)
            machine["state_poll_seconds"] = 0.05
            async with running_agent(
                edge_config(mosquitto, tmp_path, "blink", [machine], counter_seconds=3.0)
            ):
                await eventually(lambda: bool(listener.of("press-1")), 10, "first snapshot")
                press.model.command(Command.FAULT)
                await asyncio.sleep(0.4)  # much shorter than the 3 s counter period
                press.model.command(Command.CLEAR_FAULT)
                press.model.command(Command.START)
                await eventually(
                    lambda: any(
                        s.state is not None and s.state.fault_code == 101
                        for s in listener.of("press-1")
                    ),
                    5,
                    "the fault snapshot",
                )
                await eventually(
                    lambda: item_of(listener.of("press-1")[-1]) == "Executing",
                    5,
                    "recovery",
                )
    finally:
        listener.close()
    faults = [s for s in listener.of("press-1") if s.state and s.state.item == "OutOfService"]
    assert faults[0].state is not None
    assert faults[0].state.detail == "Breakdown"


async def test_a_machine_that_stops_answering_does_not_delay_the_others(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    listener = Listener(mosquitto.url, "hang")
    try:
        async with (
            running_press(start=True, sheets_per_hour=36_000) as healthy,
            running_press(start=True, sheets_per_hour=36_000) as hung,
        ):
            machines = [
                press_machine("healthy", healthy.options.port, poll_seconds=0.2),
                press_machine("hung", hung.options.port, poll_seconds=0.2),
            ]
            async with running_agent(edge_config(mosquitto, tmp_path, "hang", machines)):
                await eventually(lambda: bool(listener.of("hung")), 10, "both machines")
                await asyncio.sleep(1)
                before = len(listener.of("healthy"))
                await asyncio.sleep(3)
                normal = len(listener.of("healthy")) - before
                hung.toggle_silence()
                await eventually(
                    lambda: any(not s.available for s in listener.of("hung")),
                    10,
                    "the hung machine marked unavailable",
                )
                before = len(listener.of("healthy"))
                await asyncio.sleep(3)
                during = listener.of("healthy")[before:]
    finally:
        listener.close()
    # the healthy press keeps its cadence (a counter report every 0.2 s) while the other hangs
    assert len(during) >= 0.6 * normal
    gaps = [(b.ts - a.ts).total_seconds() for a, b in itertools.pairwise(during)]
    assert max(gaps) < 0.9  # a read held up by the hung one would wait its 1 s timeout


async def test_edge_check_prints_a_row_per_machine_and_fails_on_a_dead_one() -> None:
    async with running_press(lifetime=123_456, job_id="J-9") as press:
        config = parse_config(
            {
                "site": "t",
                "agent": "a",
                "machines": [
                    press_machine("alive", press.options.port),
                    press_machine("dead", free_port()),
                ],
            }
        )
        out = io.StringIO()
        status = await check_machines(config, out)
    rows = {line.split()[0]: line for line in out.getvalue().splitlines()[1:]}
    assert status == 1
    assert "123456" in rows["alive"]
    assert "NotExecuting/Processing" in rows["alive"]
    assert "ERROR" in rows["dead"]
