"""Modbus RTU over a serial line: a virtual null-modem cable (socat) between press and agent."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.broker import Mosquitto
from simulators.machine_model import Command
from simulators.press_profile import press_machine
from tests.helpers import Listener, eventually, running_press
from tests.integration.test_edge_agent import edge_config, running_agent


@pytest.fixture
def serial_pair(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """Two pseudo-terminals wired back to back, like a null-modem cable."""
    socat = shutil.which("socat")
    assert socat is not None, "socat is installed by `make setup`"
    press_end, agent_end = tmp_path / "tty-press", tmp_path / "tty-agent"
    process = subprocess.Popen(
        [socat, f"pty,raw,echo=0,link={press_end}", f"pty,raw,echo=0,link={agent_end}"]
    )
    deadline = time.monotonic() + 10
    while not (press_end.exists() and agent_end.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    yield press_end, agent_end
    process.terminate()
    process.wait(5)


async def test_agent_reads_a_press_over_modbus_rtu(
    serial_pair: tuple[Path, Path], mosquitto: Mosquitto, tmp_path: Path
) -> None:
    press_end, agent_end = serial_pair
    listener = Listener(mosquitto.url, "rtu")
    try:
        async with running_press(
            serial=str(press_end), sheets_per_hour=36_000, job_id="RTU-7"
        ) as press:
            machine = press_machine("press-rtu", 0, poll_seconds=0.3)
            del machine["modbus"]
            machine["modbus_rtu"] = {"serial": str(agent_end), "baudrate": 19200, "unit": 1}
            async with running_agent(edge_config(mosquitto, tmp_path, "rtu", [machine])):
                await eventually(
                    lambda: listener.latest_total("press-rtu") is not None,
                    15,
                    "the baseline over RTU",
                )
                press.model.command(Command.START)
                await eventually(
                    lambda: (listener.latest_total("press-rtu") or 0) >= 20,
                    15,
                    "sheets counted over RTU",
                )
    finally:
        listener.close()
    assert listener.of("press-rtu")[-1].job_id == "RTU-7"
