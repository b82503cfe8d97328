"""The edge agent against a real Modbus press simulator and a real Mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge.app import EdgeAgent
from edge.config import parse_config
from edge.sources.modbus import ModbusHub, ModbusMachineReader, SourceError
from infra.broker import Mosquitto
from infra.local.aws import free_port
from presstrack.wire import AgentStatus, MachineSnapshot
from simulators.press_model import PressState
from simulators.press_profile import press_machine
from simulators.press_server import PressOptions, PressSimulator


@contextlib.asynccontextmanager
async def running_press(**options: Any) -> AsyncIterator[PressSimulator]:
    simulator = PressSimulator(PressOptions(port=free_port(), **options))
    task = asyncio.create_task(simulator.run())
    await asyncio.sleep(0.3)
    try:
        yield simulator
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Subscriber:
    """Collects what the broker delivers on a topic filter."""

    def __init__(self, url: str, topic: str) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.messages.put(m)
        port = int(url.rsplit(":", 1)[1])
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def take(self, timeout: float) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def test_reader_decodes_the_press_registers() -> None:
    async with running_press(lifetime=70_000, start=False) as press:
        config = parse_config(
            {"site": "t", "agent": "a", "machines": [press_machine("p", press.options.port)]}
        )
        hub = ModbusHub("127.0.0.1", press.options.port, 1.0)
        raw = await ModbusMachineReader(config.machines[0], hub).read()
        hub.close()
    assert (raw.counter, raw.job, raw.state, raw.fault) == (70_000, 0, PressState.IDLE, 0)


async def test_a_machine_that_is_not_there_fails_fast() -> None:
    config = parse_config(
        {"site": "t", "agent": "a", "machines": [press_machine("p", free_port())]}
    )
    hub = ModbusHub("127.0.0.1", config.machines[0].modbus.port, 0.5)
    started = time.monotonic()
    with pytest.raises(SourceError):
        await ModbusMachineReader(config.machines[0], hub).read()
    assert time.monotonic() - started < 2
    hub.close()


async def test_agent_publishes_snapshots_and_a_retained_birth(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    subscriber = Subscriber(mosquitto.url, "presstrack/v1/t1/#")
    try:
        async with running_press(start=True, sheets_per_hour=36_000) as press:
            config = parse_config(
                {
                    "site": "t1",
                    "agent": "edge-1",
                    "state_dir": str(tmp_path),
                    "mqtt": {"url": mosquitto.url},
                    "report": {"counter_seconds": 0.2},
                    "machines": [press_machine("press-1", press.options.port, poll_seconds=0.1)],
                }
            )
            agent = EdgeAgent(config)
            task = asyncio.create_task(agent.run())
            snapshots: list[MachineSnapshot] = []
            births: list[AgentStatus] = []
            deadline = time.monotonic() + 10
            while len(snapshots) < 5 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                while not subscriber.messages.empty():
                    message = subscriber.take(0)
                    if message.topic.endswith("/status"):
                        births.append(AgentStatus.model_validate_json(message.payload))
                    else:
                        assert message.topic == "presstrack/v1/t1/press-1/snapshot"
                        snapshots.append(MachineSnapshot.model_validate_json(message.payload))
            await asyncio.sleep(0.5)
            assert agent.outbox.depth() == 0  # everything acknowledged was removed
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        subscriber.close()
    assert births
    assert births[0].online
    seqs = [s.seq for s in snapshots]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    lifetimes = [s.counters.lifetime for s in snapshots if s.counters]
    assert lifetimes == sorted(lifetimes)
    assert lifetimes[-1] > lifetimes[0]
    assert snapshots[-1].state is not None
    assert snapshots[-1].state.item == "Executing"
    assert json.loads(snapshots[0].to_json())["v"] == 1
