"""Nothing lost, nothing counted twice: a broker outage of a minute and an agent killed
repeatedly, with the press, the broker and the agent in processes of their own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infra.broker import Mosquitto
from infra.local.aws import free_port, wait_for_port
from infra.processes import Child
from simulators.machine_model import Command
from simulators.press_control import send_command
from simulators.press_profile import press_machine
from tests.conftest import read_truth
from tests.helpers import Listener, contiguous, wait_for

OUTAGE_SECONDS = 60
KILLS = 5


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test's own, which the test may stop and start."""
    mosquitto = Mosquitto(free_port(), tmp_path / "mosquitto")
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def start_press(tmp_path: Path, job_sheets: int, speed: int) -> tuple[Child, int, Path]:
    port, truth = free_port(), tmp_path / "truth.json"
    press = Child(
        "press",
        [
            "sim",
            "press",
            "--port",
            str(port),
            "--sheets-per-hour",
            str(speed),
            "--job-sheets",
            str(job_sheets),
            "--truth",
            str(truth),
        ],
        tmp_path,
    ).start()
    wait_for(truth.exists, 20, "the press")
    wait_for_port("127.0.0.1", port, 20)
    return press, port, truth


def edge_child(tmp_path: Path, url: str, site: str, press_port: int, speed: int) -> Child:
    config = {
        "site": site,
        "agent": "edge-1",
        "state_dir": str(tmp_path / "edge"),
        "mqtt": {"url": url},
        "report": {"counter_seconds": 0.5},
        "machines": [press_machine("press-1", press_port, poll_seconds=0.2, rated_per_hour=speed)],
    }
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    return Child("edge", ["edge", "run", str(path)], tmp_path)


def printed(truth: Path, before: int) -> int:
    return int(read_truth(truth)["lifetime"]) - before


def test_a_broker_stopped_for_a_minute_loses_nothing(broker: Mosquitto, tmp_path: Path) -> None:
    speed = 36_000
    press, port, truth = start_press(tmp_path, job_sheets=900, speed=speed)
    edge = edge_child(tmp_path, broker.url, "outage", port, speed).start()
    listener = Listener(broker.url, "outage", client_id="outage-listener")
    try:
        wait_for(lambda: listener.latest_total("press-1") is not None, 30, "the baseline")
        before = int(read_truth(truth)["lifetime"])
        send_command(port, Command.START)
        time.sleep(3)
        broker.stop()
        during_start = printed(truth, before)
        time.sleep(OUTAGE_SECONDS)
        during = printed(truth, before) - during_start
        broker.start()
        wait_for(lambda: read_truth(truth)["state"] == "IDLE", 120, "the job to finish")
        total = printed(truth, before)
        wait_for(
            lambda: listener.latest_total("press-1") == total,
            60,
            "the agent to deliver what it kept during the outage",
        )
    finally:
        listener.close()
        edge.stop()
        press.stop()
    assert total == 900
    assert during > OUTAGE_SECONDS * 8  # the press kept printing while the broker was away
    seqs = [s.seq for s in listener.of("press-1")]
    missing = sorted(set(range(min(seqs), max(seqs) + 1)) - set(seqs))
    assert contiguous(seqs), (
        f"every snapshot reached the subscriber; missing {missing} of {max(seqs)}"
    )


def test_an_agent_killed_again_and_again_loses_nothing(broker: Mosquitto, tmp_path: Path) -> None:
    speed = 72_000
    press, port, truth = start_press(tmp_path, job_sheets=1_000, speed=speed)
    edge = edge_child(tmp_path, broker.url, "kills", port, speed).start()
    listener = Listener(broker.url, "kills", client_id="kills-listener")
    try:
        wait_for(lambda: listener.latest_total("press-1") is not None, 30, "the baseline")
        before = int(read_truth(truth)["lifetime"])
        send_command(port, Command.START)
        for _ in range(KILLS):
            time.sleep(3)
            edge.kill()  # SIGKILL: no chance to flush or say goodbye
            time.sleep(1)
            edge.start()
        wait_for(lambda: read_truth(truth)["state"] == "IDLE", 120, "the job to finish")
        total = printed(truth, before)
        wait_for(
            lambda: listener.latest_total("press-1") == total, 60, "the restarted agent to catch up"
        )
    finally:
        listener.close()
        edge.stop()
        press.stop()
    assert total == 1_000
    seqs = [s.seq for s in listener.of("press-1")]
    assert contiguous(seqs), "sequence numbers continue across restarts without a gap"
    assert any(not status.online for status in listener.status), "the last will was published"
