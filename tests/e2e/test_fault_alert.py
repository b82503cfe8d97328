"""A fault on the press reaches the customer's page and maintenance's outbox.

Press simulator (Modbus) -> edge agent -> Mosquitto -> rule -> SQS -> ingest -> the delayed
fault check -> detector -> stage delayed; the table's stream -> notifier -> outbox.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

from infra.local.aws import free_port, wait_for_port
from infra.local.stack import LocalStack
from infra.processes import Child
from presstrack.api_client import ApiClient
from simulators.machine_model import Command
from simulators.press_control import send_command
from simulators.press_profile import press_machine
from tests.helpers import wait_for


def test_a_press_fault_turns_the_stage_red_within_5_s_and_tells_maintenance(
    stack: LocalStack, api_key: str, tmp_path: Path
) -> None:
    api = ApiClient(stack.base_url, api_key)
    settings = api.call("GET", "/api/settings")
    api.call(
        "PUT", "/api/settings", {**settings, "alerts": {**settings["alerts"], "fault_seconds": 1}}
    )
    press_port = free_port()
    press = Child(
        "press",
        ["sim", "press", "--port", str(press_port), "--sheets-per-hour", "36000"],
        tmp_path,
    ).start()
    wait_for_port("127.0.0.1", press_port, 20)
    config = {
        "site": "fault",
        "agent": "edge-1",
        "state_dir": str(tmp_path / "edge"),
        "mqtt": {"url": stack.mqtt_url},
        "report": {"counter_seconds": 1},
        "machines": [press_machine("press-9", press_port, poll_seconds=0.2)],
    }
    (tmp_path / "edge.yaml").write_text(yaml.safe_dump(config))
    edge = Child("edge", ["edge", "run", str(tmp_path / "edge.yaml")], tmp_path).start()
    try:
        api.call(
            "PUT",
            "/api/machines/fault/press-9",
            {"name": "4号海德堡", "fault_words": {"101": "输纸卡纸"}},
        )
        created = api.call(
            "POST",
            "/api/orders",
            {
                "order_no": "FAULT-1",
                "customer": "C",
                "product": "Leaflet",
                "quantity": 100_000,
                "due": "2026-12-31",
            },
        )
        api.call(
            "PUT",
            "/api/orders/FAULT-1/stages/printing/machine",
            {"site": "fault", "machine": "press-9"},
        )
        send_command(press_port, Command.START)

        def printing() -> dict[str, Any]:
            view = api.call("GET", created["tracking_json"])
            return next(s for s in view["stages"] if s["code"] == "printing")

        wait_for(lambda: (printing()["done"] or 0) > 0, 30, "sheets on the stage")
        send_command(press_port, Command.FAULT)
        injected = time.monotonic()
        wait_for(lambda: printing()["state"] == "delayed", 10, "the stage to turn red")
        took = time.monotonic() - injected
        stage = printing()
        assert "输纸卡纸" in str(stage["delay_reason"])
        assert "4号海德堡" in str(stage["delay_reason"])
        assert stage["delay_action"]
        assert took <= 5, f"the stage turned red {took:.1f} s after the fault"

        def maintenance() -> list[dict[str, object]]:
            return [
                n
                for n in api.call("GET", "/api/notices")
                if n["audience"] == "maintenance" and "FAULT-1" in str(n["text"])
            ]

        wait_for(lambda: bool(maintenance()), 10, "maintenance's notice")
        notice = maintenance()[0]
        assert notice["channel"] == "outbox"
        wait_for(lambda: maintenance()[0]["state"] == "sent", 10, "the notice to be delivered")
        incidents = api.call("GET", "/api/incidents")
        assert [i["kind"] for i in incidents if i["machine"] == "fault/press-9"] == ["fault"]
        print(f"stage red {took:.2f} s after the fault; maintenance: {notice['title']}")
    finally:
        edge.stop()
        press.stop()
        api.call("PUT", "/api/settings", settings)
