"""`presstrack demo`: the whole system on one machine, with a press printing a 5,000-sheet order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml

from cloud.domain.keys import Role
from cloud.service.keys import issue_key
from cloud.settings import store
from infra.broker import ensure_broker
from infra.local.aws import free_port
from infra.local.stack import LocalStack
from infra.processes import Child
from presstrack.api_client import ApiClient
from simulators.machine_model import FAULT_PAPER_JAM, Command
from simulators.press_control import send_command
from simulators.press_profile import press_machine

log = logging.getLogger(__name__)

SITE, AGENT, PRESS = "demo", "edge-1", "press-1"
DEMO_PHONE = "13800138000"  # a made-up customer phone for the lookup page


@dataclass(frozen=True)
class DemoOptions:
    """How the demo runs."""

    state_dir: Path
    mqtt_url: str | None = None
    http_port: int = 8000
    sheets: int = 5_000
    sheets_per_hour: float = 30_000
    duration: float | None = None
    fault_after: float | None = 40.0  # the press jams this long after it starts
    fault_for: float = 20.0


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, children: Sequence[Child] = ()
) -> None:
    """Poll `check()` until it is true; fail early if a child process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        for child in children:
            if not child.running:
                raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        time.sleep(0.2)
    raise TimeoutError(f"timed out waiting for {what}")


def run_demo(options: DemoOptions) -> None:
    """Start everything, create the order, print the link, run until told to stop."""
    state = options.state_dir
    mqtt_url, broker = ensure_broker(options.mqtt_url, state / "mosquitto")
    stack = LocalStack(mqtt_url=mqtt_url, http_port=options.http_port)
    children: list[Child] = []
    try:
        stack.start()
        press_port = free_port()
        children.append(
            Child(
                "press",
                [
                    "sim",
                    "press",
                    "--port",
                    str(press_port),
                    "--sheets-per-hour",
                    str(options.sheets_per_hour),
                    "--truth",
                    str(state / "press-truth.json"),
                    *(["--fault-after", str(options.fault_after)] if options.fault_after else []),
                    "--fault-for",
                    str(options.fault_for),
                ],
                state / "logs",
            ).start()
        )
        config = {
            "site": SITE,
            "agent": AGENT,
            "state_dir": str(state / "edge"),
            "mqtt": {"url": mqtt_url},
            "report": {"counter_seconds": 1, "heartbeat_seconds": 30},
            "machines": [press_machine(PRESS, press_port)],
        }
        config_path = state / "edge.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        children.append(Child("edge", ["edge", "run", str(config_path)], state / "logs").start())
        wait_until(
            lambda: store().get_machine(f"{SITE}/{PRESS}") is not None,
            60,
            "the press's first snapshot",
            children,
        )
        api = ApiClient(stack.base_url, issue_key(store(), "demo ERP", Role.ERP, datetime.now(UTC)))
        order_no = f"DEMO-{datetime.now(UTC):%Y%m%d-%H%M%S}"
        created = api.call(
            "POST",
            "/api/orders",
            {
                "order_no": order_no,
                "customer": "示例客户",
                "product": "画册 A4 彩色",
                "quantity": options.sheets,
                "due": (date.today() + timedelta(days=3)).isoformat(),
                "phone": DEMO_PHONE,
            },
        )
        api.call(
            "PUT",
            f"/api/machines/{SITE}/{PRESS}",
            {
                "name": "1号印刷机",
                "rated_per_hour": int(options.sheets_per_hour),
                "fault_words": {str(FAULT_PAPER_JAM): "输纸卡纸"},
            },
        )
        api.call(
            "PUT",
            f"/api/orders/{order_no}/stages/printing/machine",
            {"site": SITE, "machine": PRESS},
        )
        for stage in ("design", "ctp"):  # prepress is done; the press takes it from here
            api.call("POST", f"/api/orders/{order_no}/stages/{stage}/complete", {"by": "王师傅"})
        send_command(press_port, Command.NEW_JOB)
        send_command(press_port, Command.START)
        print(f"\nOrder {order_no}: {options.sheets} sheets on {SITE}/{PRESS}")
        print(f"Customer link:  {stack.base_url}{created['tracking_page']}")
        print(f"Tracking JSON:  {stack.base_url}{created['tracking_json']}")
        print(f"Staff outbox:   {stack.base_url}/staff/outbox  (key: {api.api_key})")
        print(
            f"Lookup:         {stack.base_url}/track"
            f"  (order {order_no}, phone ending {DEMO_PHONE[-4:]})\n",
            flush=True,
        )
        _report(api, created["tracking_json"], options.duration)
    except KeyboardInterrupt:
        pass
    finally:
        for child in reversed(children):
            child.stop()
        stack.stop()
        if broker is not None:
            broker.stop()


def _report(api: ApiClient, path: str, duration: float | None) -> None:
    deadline = None if duration is None else time.monotonic() + duration
    shown: set[str] = set()
    while True:
        for notice in reversed(api.call("GET", "/api/notices?hours=1")):
            if notice["key"] not in shown and notice["state"] == "sent":
                shown.add(notice["key"])
                print(
                    f"{datetime.now():%H:%M:%S}  [outbox -> {notice['audience']}] "
                    f"{notice['title']}",
                    flush=True,
                )
        view = api.call("GET", path)
        print(
            f"{datetime.now():%H:%M:%S}  printed {view['printed']} / {view['planned']} "
            f"sheets, now at: {view['status']}; {view['summary']['en']}",
            flush=True,
        )
        left = 5.0 if deadline is None else min(5.0, deadline - time.monotonic())
        if left <= 0:
            return
        time.sleep(left)
