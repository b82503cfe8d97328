"""A press job through the whole system, with the simulator's truth to hold the result against.

Press simulator (Modbus TCP) -> edge agent -> Mosquitto -> topic rule -> SQS -> ingest ->
DynamoDB -> the tracking JSON. A fault test starts a job, does its damage while the press
prints, and then asks that the customer's number equal the sheets the press really printed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.local.aws import free_port, wait_for_port
from infra.local.stack import LocalStack
from infra.processes import Child
from presstrack.api_client import ApiClient, ApiError
from simulators.machine_model import Command
from simulators.press_control import send_command
from simulators.press_profile import press_machine
from tests.conftest import read_truth
from tests.helpers import wait_for


@dataclass
class Production:
    """One press, one edge agent, one order whose printing stage the press counts."""

    stack: LocalStack
    api_key: str
    tmp_path: Path
    site: str
    job_sheets: int
    sheets_per_hour: int = 72_000
    counter_seconds: float = 0.5
    press_port: int = field(default_factory=free_port)
    before: int = 0
    tracking: str = ""

    def __post_init__(self) -> None:
        self.api = ApiClient(self.stack.base_url, self.api_key)
        self.truth_path = self.tmp_path / "truth.json"
        self.press = Child(
            "press",
            [
                "sim",
                "press",
                "--port",
                str(self.press_port),
                "--sheets-per-hour",
                str(self.sheets_per_hour),
                "--job-sheets",
                str(self.job_sheets),
                "--truth",
                str(self.truth_path),
            ],
            self.tmp_path,
        )
        config = {
            "site": self.site,
            "agent": "edge-1",
            "state_dir": str(self.tmp_path / "edge"),
            "mqtt": {"url": self.stack.mqtt_url},
            "report": {"counter_seconds": self.counter_seconds},
            "machines": [
                press_machine(
                    "press-1",
                    self.press_port,
                    poll_seconds=0.2,
                    rated_per_hour=self.sheets_per_hour,
                )
            ],
        }
        config_path = self.tmp_path / "edge.yaml"
        config_path.write_text(yaml.safe_dump(config))
        self.edge = Child("edge", ["edge", "run", str(config_path)], self.tmp_path)

    @property
    def machine(self) -> str:
        """The press's key in the cloud."""
        return f"{self.site}/press-1"

    def start(self) -> Production:
        """Start the press and the agent, create the order, and start the job."""
        self.press.start()
        wait_for(self.truth_path.exists, 20, "the press's truth file")
        wait_for_port("127.0.0.1", self.press_port, 20)
        self.edge.start()
        from cloud.settings import store

        wait_for(lambda: store().get_machine(self.machine) is not None, 30, "the first snapshot")
        order_no = f"{self.site.upper()}-1"
        created = self.api.call(
            "POST",
            "/api/orders",
            {
                "order_no": order_no,
                "customer": "C",
                "product": "Leaflet",
                "quantity": self.job_sheets,
                "due": "2026-12-31",
            },
        )
        self.tracking = created["tracking_json"]
        self.api.call(
            "PUT",
            f"/api/orders/{order_no}/stages/printing/machine",
            {"site": self.site, "machine": "press-1"},
        )
        self.before = int(self.truth()["lifetime"])
        send_command(self.press_port, Command.NEW_JOB)
        send_command(self.press_port, Command.START)
        return self

    def truth(self) -> dict[str, Any]:
        """What the press really did."""
        return read_truth(self.truth_path)

    def printed(self) -> int:
        """Sheets the press really printed since the job started."""
        return int(self.truth()["lifetime"]) - self.before

    def finished(self) -> bool:
        """The press has printed the whole job and stopped."""
        truth = self.truth()
        return bool(truth["state"] == "IDLE" and truth["job_count"] == self.job_sheets)

    def on_page(self) -> int | None:
        """The sheets the customer sees, or None while the cloud cannot answer."""
        with contextlib.suppress(ApiError, OSError):
            return int(self.api.call("GET", self.tracking)["printed"])
        return None

    def wait_finished(self, timeout: float = 120) -> None:
        """Until the press has printed the job."""
        wait_for(self.finished, timeout, "the press to finish its job")

    def assert_page_matches_truth(self, timeout: float = 60) -> int:
        """The customer's number reaches the truth and stays there; returns it."""
        expected = self.printed()
        assert expected == self.job_sheets
        wait_for(lambda: self.on_page() == expected, timeout, "the page to reach the truth")
        view = self.api.call("GET", self.tracking)
        printing = next(s for s in view["stages"] if s["code"] == "printing")
        assert view["printed"] == expected
        assert printing["done"] == expected
        assert printing["state"] == "done"
        return expected

    def stop(self) -> None:
        """Stop the agent and the press."""
        self.edge.stop()
        self.press.stop()


INGEST_QUEUES = ("SnapshotQueue", "ChangeQueue")  # the batched lane and the fast lane


def ingest_depth(stack: LocalStack) -> int:
    """Messages in both ingest lanes, visible or in flight."""
    return sum(queue_depth(stack, q) for q in INGEST_QUEUES)


def queue_depth(stack: LocalStack, logical_id: str = "SnapshotQueue") -> int:
    """Messages in a queue of the stack, visible or in flight."""
    import boto3

    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.template.ref(logical_id),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


@contextlib.contextmanager
def visibility_timeout(stack: LocalStack, seconds: int) -> Iterator[None]:
    """Both ingest lanes' visibility timeout compressed (template: 180 s), so a failed message
    comes back within the test instead of three minutes later."""
    import boto3

    sqs = boto3.client("sqs")
    queues = [stack.template.ref(q) for q in INGEST_QUEUES]
    before = [
        sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["VisibilityTimeout"]) for q in queues
    ]
    for queue in queues:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": str(seconds)})
    try:
        yield
    finally:
        for queue, attributes in zip(queues, before, strict=True):
            sqs.set_queue_attributes(QueueUrl=queue, Attributes=attributes["Attributes"])
