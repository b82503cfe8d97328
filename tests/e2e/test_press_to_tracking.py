"""Press simulator -> edge agent -> Mosquitto -> IoT rule -> SQS -> ingest -> DynamoDB -> API.

Real sockets and real processes; no mocks. The tracking JSON must reach the press's ground
truth exactly once the press stops.
"""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from infra.local.aws import free_port, wait_for_port
from infra.local.stack import LocalStack
from infra.processes import Child
from presstrack.api_client import ApiClient
from simulators.machine_model import Command
from simulators.press_control import send_command
from simulators.press_profile import press_machine
from tests.conftest import read_truth
from tests.helpers import wait_for

JOB_SHEETS = 600


def test_printed_count_reaches_the_press_truth_exactly(
    stack: LocalStack, api_key: str, tmp_path: Path
) -> None:
    press_port = free_port()
    truth_path = tmp_path / "truth.json"
    press = Child(
        "press",
        [
            "sim",
            "press",
            "--port",
            str(press_port),
            "--sheets-per-hour",
            "72000",
            "--lifetime",
            "4294967000",
            "--job-sheets",
            str(JOB_SHEETS),
            "--truth",
            str(truth_path),
        ],
        tmp_path,
    ).start()
    config = {
        "site": "e2e",
        "agent": "edge-1",
        "state_dir": str(tmp_path / "edge"),
        "mqtt": {"url": stack.mqtt_url},
        "report": {"counter_seconds": 0.5},
        "machines": [press_machine("press-1", press_port, poll_seconds=0.2, rated_per_hour=72_000)],
    }
    (tmp_path / "edge.yaml").write_text(yaml.safe_dump(config))
    edge = Child("edge", ["edge", "run", str(tmp_path / "edge.yaml")], tmp_path).start()
    api = ApiClient(stack.base_url, api_key)
    try:
        wait_for(truth_path.exists, 20, "the press truth file")
        wait_for_port("127.0.0.1", press_port, 20)
        created = api.call(
            "POST",
            "/api/orders",
            {
                "order_no": "E2E-1",
                "customer": "C",
                "product": "Brochure",
                "quantity": JOB_SHEETS,
                "due": "2026-12-31",
            },
        )
        from cloud.settings import store

        wait_for(
            lambda: store().get_machine("e2e/press-1") is not None,
            30,
            "the first snapshot in DynamoDB",
        )
        api.call(
            "PUT",
            "/api/orders/E2E-1/stages/printing/machine",
            {"site": "e2e", "machine": "press-1"},
        )
        before = int(read_truth(truth_path)["lifetime"])
        send_command(press_port, Command.NEW_JOB)
        send_command(press_port, Command.START)
        seen: list[int] = []
        doing: set[str | None] = set()

        def press_done() -> bool:
            view = api.call("GET", created["tracking_json"])
            seen.append(view["printed"])
            doing.add(next(s for s in view["stages"] if s["code"] == "printing")["machine_state"])
            truth = read_truth(truth_path)
            return bool(truth["state"] == "IDLE" and truth["job_count"] == JOB_SHEETS)

        wait_for(press_done, 60, "the press to finish its job")
        truth = read_truth(truth_path)
        expected = int(truth["lifetime"]) - before
        assert expected == JOB_SHEETS
        wait_for(
            lambda: api.call("GET", created["tracking_json"])["printed"] == expected,
            20,
            "the tracking JSON to reach the truth",
        )
        time.sleep(2)  # late or duplicated messages must not move it past the truth
        view = api.call("GET", created["tracking_json"])
        assert view["printed"] == expected
        printing = next(s for s in view["stages"] if s["code"] == "printing")
        assert printing["state"] == "done"
        assert printing["ended"]
        assert any(0 < n < expected for n in seen), "progress was visible while printing"
        assert "running" in doing, f"the press was seen running on the stage: {doing}"
        assert printing["machine_state"] is None  # a finished stage has nothing running on it
        # the 32-bit lifetime register wrapped during the run and nothing was lost
        assert int(truth["lifetime"]) > 2**32
    finally:
        edge.stop()
        press.stop()
