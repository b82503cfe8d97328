"""Duplicates and reordering injected between the broker and ingest while the press prints:
every snapshot sent to the queue again, several times, in shuffled order, older after newer.
The customer's count ends exact and never passes the truth."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import boto3
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from infra.local.stack import LocalStack
from tests.faults.production import Production, ingest_depth
from tests.helpers import wait_for

COPIES = 3


class Injector:
    """Hears every snapshot of a site on the broker and sends shuffled copies to the queue (the
    batched lane: a state change arriving there, late, must change nothing either)."""

    def __init__(self, stack: LocalStack, site: str) -> None:
        self.queue = stack.template.ref("SnapshotQueue")
        self.sqs = boto3.client("sqs")
        self.random = random.Random(11)
        self.heard: list[bytes] = []
        self.lock = threading.Lock()
        self.sent = 0
        self.late = 0  # copies sent after a newer snapshot had been heard
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, _u, _f, _r, _p: c.subscribe(
            f"presstrack/v1/{site}/+/+",
            qos=1,  # snapshots and state changes
        )
        self.client.on_message = lambda _c, _u, message: self._hear(bytes(message.payload))
        port = int(stack.mqtt_url.rsplit(":", 1)[1])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _hear(self, payload: bytes) -> None:
        with self.lock:
            self.heard.append(payload)

    def inject(self, last: int | None = None) -> None:
        """Send a shuffled copy of the last `last` snapshots heard (all of them by default)."""
        with self.lock:
            copies = list(enumerate(self.heard))[-last if last else 0 :]
        self.random.shuffle(copies)
        newest = max((i for i, _ in copies), default=0)
        for start in range(0, len(copies), 10):
            chunk = copies[start : start + 10]
            self.sqs.send_message_batch(
                QueueUrl=self.queue,
                Entries=[{"Id": str(i), "MessageBody": body.decode()} for i, body in chunk],
            )
            self.sent += len(chunk)
            self.late += sum(1 for i, _ in chunk if i < newest)

    def close(self) -> None:
        """Stop listening."""
        self.client.disconnect()
        self.client.loop_stop()


def test_duplicated_and_reordered_snapshots_change_nothing(
    stack: LocalStack, api_key: str, tmp_path: Path
) -> None:
    injector = Injector(stack, "dups")
    job = Production(stack, api_key, tmp_path, "dups", job_sheets=600).start()
    try:
        seen: list[int] = []
        while not job.finished():
            injector.inject(last=10)  # while it prints: old snapshots arrive after new ones
            time.sleep(1)
            page = job.on_page()
            if page is not None:
                seen.append(page)
        for _ in range(COPIES - 1):
            injector.inject()
        sheets = job.assert_page_matches_truth()
        wait_for(lambda: ingest_depth(stack) == 0, 60, "every copy applied")
        assert job.on_page() == sheets
        assert all(s <= sheets for s in seen), "the page never passed the truth"
        assert seen == sorted(seen), "the page never went backwards"
        counted = [json.loads(b) for b in injector.heard]
        print(
            f"{len(counted)} snapshots heard, {injector.sent} copies injected "
            f"({injector.late} behind a newer one); page {sheets} = truth {sheets}"
        )
    finally:
        injector.close()
        job.stop()
