"""Events per second through the local stack, and DynamoDB writes per event.

Starts Mosquitto and the local stack (template.yaml on moto's server, behind a relay that
counts every AWS operation), puts each of M machines on its own order's printing stage, then
publishes N snapshots round-robin over the machines (QoS 1, as the edge agent does) in waves of
1,000 as fast as the broker takes them, each wave once the queue holds at most 1,000: moto's
SQS costs every request the queue's depth, so an unbounded backlog would measure moto alone.
Timing runs from the first publish until DynamoDB holds every machine's last snapshot; then
every stage's count is checked against what was published.

    .venv/bin/python bench/ingest.py [--machines 20] [--events 20000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.domain.orders import Order  # noqa: E402
from cloud.service.orders import assign_stage, create_order, track  # noqa: E402
from cloud.settings import store  # noqa: E402
from infra.broker import Mosquitto  # noqa: E402
from infra.local.aws import client, free_port  # noqa: E402
from infra.local.stack import LocalStack  # noqa: E402
from presstrack.wire import Counters, ItemState, MachineSnapshot, MachineState  # noqa: E402
from tests.link import AwsLink  # noqa: E402

SITE = "bench"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
WAVE = 1000  # published at once, as fast as the broker takes them ...
MAX_BACKLOG = 1000  # ... whenever the queue holds no more than this


def snapshot(machine: int, seq: int, lifetime: int) -> bytes:
    return (
        MachineSnapshot(
            site=SITE,
            machine=f"press-{machine}",
            agent="edge-1",
            seq=seq,
            ts=T0 + timedelta(milliseconds=seq * 10),
            state=MachineState(item=ItemState.EXECUTING),
            counters=Counters(lifetime=lifetime),
        )
        .model_dump_json()
        .encode()
    )


def publish(url: str, messages: list[tuple[str, bytes]]) -> float:
    """Publish everything with QoS 1; returns when the broker has acknowledged all of it."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    port = int(url.rsplit(":", 1)[1])
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()
    return time.monotonic()


def waiting(sqs: Any, queue: str) -> int:
    """Messages in the queue, visible or being processed."""
    found = sqs.get_queue_attributes(
        QueueUrl=queue,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(found["ApproximateNumberOfMessages"]) + int(
        found["ApproximateNumberOfMessagesNotVisible"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--machines", type=int, default=20)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(free_port(), Path(tmp) / "mosquitto")
        broker.start()
        link = AwsLink(free_port()).start()
        stack = LocalStack(
            mqtt_url=broker.url,
            http_port=free_port(),
            schedule_seconds=86_400,
            moto_port=link.upstream_port,
            aws_endpoint=link.endpoint,
        )
        stack.start()
        try:
            result = run(stack, link, broker.url, args.machines, args.events)
        finally:
            stack.stop()
            link.stop()
            broker.stop()
    result.update(
        date=datetime.now(UTC).date().isoformat(),
        machine=f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    )
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def run(
    stack: LocalStack, link: AwsLink, url: str, machines: int, events: int
) -> dict[str, object]:
    base = 1_000_000
    publish(
        url,
        [
            (f"presstrack/v1/{SITE}/press-{m}/snapshot", snapshot(m, 1, base))
            for m in range(machines)
        ],
    )
    deadline = time.monotonic() + 60
    while any(store().get_machine(f"{SITE}/press-{m}") is None for m in range(machines)):
        if time.monotonic() > deadline:
            raise SystemExit("the baseline snapshots did not arrive")
        time.sleep(0.2)
    tokens = []
    for m in range(machines):
        order = Order(f"BENCH-{m}", "C", "Leaflet", 10_000_000, date(2026, 12, 31), T0)
        token, _ = create_order(store(), order, None)
        assign_stage(store(), f"BENCH-{m}", "printing", f"{SITE}/press-{m}")
        tokens.append(token)

    per_machine = events // machines
    messages = [
        (f"presstrack/v1/{SITE}/press-{m}/snapshot", snapshot(m, 1 + n, base + n))
        for n in range(1, per_machine + 1)
        for m in range(machines)
    ]
    link.by_target.clear()
    batches_before = sum(s.batches for s in stack.sources)
    started = time.monotonic()
    sqs = client("sqs", stack.endpoint)
    queue = stack.template.ref("SnapshotQueue")
    for start in range(0, len(messages), WAVE):  # a backlog kept as a busy shop's would be
        publish(url, messages[start : start + WAVE])
        while waiting(sqs, queue) > MAX_BACKLOG:
            time.sleep(0.25)
    published = time.monotonic()
    last = 1 + per_machine
    while any(
        (found := store().get_machine(f"{SITE}/press-{m}")) is None or found.seq < last
        for m in range(machines)
    ):
        time.sleep(0.05)
    done = time.monotonic()
    counted = [track(store(), token).printed for token in tokens]
    assert counted == [per_machine] * machines, f"counts {counted[:5]}... != {per_machine}"
    total = len(messages)
    writes = sum(link.by_target[w] for w in WRITES)
    return {
        "machines": machines,
        "events": total,
        "seconds": round(done - started, 2),
        "events_per_s": round(total / (done - started)),
        "publish_per_s": round(total / (published - started)),
        "dynamodb_writes": writes,
        "writes_per_event": round(writes / total, 3),
        "dynamodb_reads_per_event": round(
            sum(link.by_target[r] for r in ("GetItem", "Query", "BatchGetItem")) / total, 3
        ),
        "ingest_batches": sum(s.batches for s in stack.sources) - batches_before,
        "operations": dict(link.by_target.most_common()),
        "exact": True,
    }


if __name__ == "__main__":
    main()
