"""Simulators and an MQTT listener for integration tests."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from infra.local.aws import free_port
from presstrack.wire import AgentStatus, MachineSnapshot
from simulators.finisher_server import FinisherOptions, FinisherSimulator
from simulators.press_server import PressOptions, PressSimulator


async def cancelled(task: asyncio.Task[Any]) -> None:
    """Cancel a task and wait until it has finished."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@contextlib.asynccontextmanager
async def running_press(**options: Any) -> AsyncIterator[PressSimulator]:
    """A press simulator in this event loop, on a free port."""
    options.setdefault("port", free_port())
    simulator = PressSimulator(PressOptions(**options))
    task = asyncio.create_task(simulator.run())
    await asyncio.sleep(0.3)
    try:
        yield simulator
    finally:
        await cancelled(task)


@contextlib.asynccontextmanager
async def running_finisher(simulator: FinisherSimulator) -> AsyncIterator[FinisherSimulator]:
    """Serve a finisher simulator in this event loop until the block ends."""
    task = asyncio.create_task(simulator.run())
    await eventually(lambda: simulator.listening, 20, "the OPC UA server to listen")
    try:
        yield simulator
    finally:
        await cancelled(task)


def finisher(**options: Any) -> FinisherSimulator:
    """A finisher simulator on a free port."""
    options.setdefault("port", free_port())
    return FinisherSimulator(FinisherOptions(**options))


class Listener:
    """Collects snapshots and agent status from the broker (persistent session, QoS 1)."""

    def __init__(self, url: str, site: str, client_id: str | None = None) -> None:
        self.received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.snapshots: list[MachineSnapshot] = []
        self.status: list[AgentStatus] = []
        persistent = client_id is not None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or "", clean_session=not persistent
        )
        self.client.on_message = lambda _c, _u, m: self.received.put(m)
        self.client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(
            f"presstrack/v1/{site}/#", qos=1
        )
        self.client.reconnect_delay_set(1, 2)
        self._prepare(self.client)
        port = int(url.rsplit(":", 1)[1])
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _prepare(self, client: mqtt.Client) -> None:
        """Hook for subclasses (TLS) before connecting."""

    def drain(self) -> None:
        """Parse everything received so far."""
        while True:
            try:
                message = self.received.get_nowait()
            except queue.Empty:
                return
            if message.topic.endswith("/status"):
                self.status.append(AgentStatus.model_validate_json(message.payload))
            else:
                self.snapshots.append(MachineSnapshot.model_validate_json(message.payload))

    def of(self, machine: str) -> list[MachineSnapshot]:
        """Snapshots of one machine, in arrival order."""
        self.drain()
        return [s for s in self.snapshots if s.machine == machine]

    def latest_total(self, machine: str) -> int | None:
        """The highest-sequence counter total of a machine seen so far."""
        counted = [s for s in self.of(machine) if s.counters is not None]
        if not counted:
            return None
        newest = max(counted, key=lambda s: s.seq)
        assert newest.counters is not None
        return newest.counters.lifetime

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


async def eventually(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Await until `check()` is true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out: {what}")


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Block until `check()` is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out: {what}")


def item_of(snapshot: MachineSnapshot) -> str | None:
    """The OPC 40001-1 item state a snapshot reports, if any."""
    return snapshot.state.item.value if snapshot.state is not None else None


def contiguous(seqs: list[int]) -> bool:
    """True when every sequence number between the lowest and highest was seen."""
    unique = set(seqs)
    return bool(unique) and unique == set(range(min(unique), max(unique) + 1))


def publish(url: str, snapshots: list[MachineSnapshot]) -> None:
    """Publish snapshots to the broker at `url` as an edge agent would (QoS 1)."""
    for snapshot in snapshots:
        publish_raw(url, snapshot.topic, snapshot.to_json())


def publish_raw(url: str, topic: str, payload: bytes) -> None:
    """Publish one message with QoS 1 and wait for the broker to have it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
