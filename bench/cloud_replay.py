"""The functions of template.yaml invoked in simulated time, as their event sources would.

AWS forms SQS batches by time (BatchSize, MaximumBatchingWindowInSeconds), fires schedules by
time and delivers delayed messages after their delay, so a day compressed into minutes cannot
be left to the local runner's threads without giving ingest fuller batches than a real day
would. Here the simulated clock decides: each batch holds exactly the messages that arrived
within its window; the request traffic is real (SQS SendMessage, ReceiveMessage and
DeleteMessageBatch on moto, DynamoDB through the meter), the handlers are the deployed ones,
and the DynamoDB stream is drained after every invocation into the notifier, filtered by the
FilterCriteria the template declares. The handlers read the simulated clock.
"""

from __future__ import annotations

import importlib
import io
import logging
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.local.aws import client
from infra.local.event_source import stream_end
from infra.local.http_api import api_event
from infra.local.lambdas import LocalFunction
from infra.local.template import ACCOUNT, REGION, HttpRoute, Template, matches

HANDLER_MODULES = (
    "cloud.handlers.ingest",
    "cloud.handlers.detector",
    "cloud.handlers.notifier",
    "cloud.handlers.api",
    "cloud.handlers.customer_routes",
    "cloud.handlers.staff_routes",
)
PLATFORM_LOG_BYTES = 300  # Lambda's own START, END and REPORT lines per invocation


class SimClock:
    """The simulated time every handler sees as `datetime.now`."""

    now = datetime(2026, 12, 3, tzinfo=UTC)

    @classmethod
    def install(cls) -> None:
        """Make the handler modules read this clock."""
        clock = cls

        class SimDatetime(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return clock.now if tz is None else clock.now.astimezone(tz)

        for name in HANDLER_MODULES:
            setattr(importlib.import_module(name), "datetime", SimDatetime)  # noqa: B010


@dataclass
class Usage:
    """What one function was invoked for: count, billed milliseconds, log bytes."""

    invocations: int = 0
    billed_ms: int = 0
    log_bytes: int = 0


class LogMeter(io.TextIOBase):
    """Where the functions' log lines go instead of stdout: only their bytes are kept, as
    CloudWatch Logs would bill them."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        """Count, do not keep."""
        self.bytes += len(text.encode())
        return len(text)


@dataclass
class Replay:
    """The deployed functions on moto, driven by the simulated clock."""

    template: Template
    endpoint: str  # through the meter
    upstream: str  # moto itself, for reads the meter must not count (stream polling)
    meter_overhead: Any  # callable -> seconds the meter has spent so far
    on_invoke: Any = None  # callable(function name) before each invocation (the meter's label)
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    usage: dict[str, Usage] = field(default_factory=dict)
    modelled: Counter[str] = field(default_factory=Counter)  # requests counted, not made

    def start(self) -> None:
        """Import the handlers, point them at the clock, start reading the stream."""
        SimClock.install()
        self.logs = LogMeter()
        for spec in self.template.functions():
            self.functions[spec.logical_id] = LocalFunction(spec, timeout_seconds=900)
            self.usage[spec.logical_id] = Usage()
            service = spec.environment.get("POWERTOOLS_SERVICE_NAME")
            for handler in logging.getLogger(str(service)).handlers if service else []:
                if isinstance(handler, logging.StreamHandler):  # powertools' JSON lines
                    handler.setStream(self.logs)
        # what the Lambda runtime's own handler would write of everything else
        runtime = logging.StreamHandler(self.logs)
        runtime.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(message)s"))
        root = logging.getLogger()
        root.handlers, root.level = [runtime], logging.WARNING
        self.sqs = client("sqs", self.endpoint)
        self.queues = {
            q: self.template.ref(q)
            for q in self.template.resources
            if self.template.resources[q]["Type"] == "AWS::SQS::Queue"
        }
        self._streams = client("dynamodbstreams", self.upstream)
        self.stream_arn, self._iterators = stream_end(
            client("dynamodb", self.upstream), self._streams, self.template.physical_name("Table")
        )
        notifier = next(f for f in self.template.functions() if f.streams)
        self.notifier, self.stream_filters = notifier.logical_id, notifier.streams[0].filters

    def memory_mb(self, function: str) -> int:
        """The function's MemorySize, from its own properties or the template's Globals."""
        own = self.template.resources[function]["Properties"].get("MemorySize")
        default = self.template.doc.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
        return int(own or default)

    def invoke(self, function: str, event: dict[str, Any], at: datetime) -> Any:
        """One invocation at simulated time `at`, timed without the meter's own work; then the
        changes it made reach the notifier, as the stream's event source would bring them."""
        SimClock.now = at
        if self.on_invoke is not None:
            self.on_invoke(function)
        usage = self.usage[function]
        logged, overhead = self.logs.bytes, self.meter_overhead()
        started = time.perf_counter()
        answer = self.functions[function].invoke(event)
        took = time.perf_counter() - started - (self.meter_overhead() - overhead)
        usage.invocations += 1
        usage.billed_ms += max(1, math.ceil(took * 1000))
        usage.log_bytes += self.logs.bytes - logged + PLATFORM_LOG_BYTES
        if function != self.notifier:
            self.drain_stream(at)
        return answer

    def drain_stream(self, at: datetime) -> None:
        """Everything written so far, filtered as the template says, to the notifier; its own
        writes (notices) come round again until nothing is left."""
        for _ in range(20):
            records = []
            for shard, iterator in list(self._iterators.items()):
                got = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                self._iterators[shard] = got.get("NextShardIterator", iterator)
                records += got.get("Records", [])
            wanted = [
                {**r, "eventSourceARN": self.stream_arn}
                for r in records
                if not self.stream_filters or any(matches(p, r) for p in self.stream_filters)
            ]
            if not wanted:
                return
            for start in range(0, len(wanted), 100):  # the mapping's BatchSize
                self.invoke(self.notifier, {"Records": wanted[start : start + 100]}, at)

    def sqs_batch(self, function: str, queue: str, bodies: list[str], at: datetime) -> Any:
        """Messages sent to a queue during a batching window, received and handed to the
        function as one batch, then deleted, as the SQS event source does."""
        url = self.queues[queue]
        for body in bodies:
            self.sqs.send_message(QueueUrl=url, MessageBody=body)
        messages: list[dict[str, Any]] = []
        while len(messages) < len(bodies):
            got = self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(10, len(bodies) - len(messages))
            ).get("Messages", [])
            if not got:
                break
            messages += got
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.template.physical_name(queue)}"
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"SentTimestamp": str(int(at.timestamp() * 1000))},
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
        answer = self.invoke(function, {"Records": records}, at)
        failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(done[start : start + 10])
                ],
            )
        return answer

    def delayed_batch(self, function: str, queue: str, bodies: list[str], at: datetime) -> None:
        """Messages the functions sent with a delay, delivered when it is over: moto keeps
        them invisible in real seconds, so their receive and delete are counted, not made."""
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{self.template.physical_name(queue)}"
        records = [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "delayed",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
            for body in bodies
        ]
        self.modelled["ReceiveMessage"] += 1
        self.modelled["DeleteMessageBatch"] += 1
        self.invoke(function, {"Records": records}, at)

    def schedule(self, function: str, at: datetime) -> None:
        """One tick of an EventBridge schedule."""
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{function}-schedule"],
            "detail": {},
        }
        self.invoke(function, event, at)

    def http(self, path: str, query: str, at: datetime, client_ip: str) -> Any:
        """One request through the HTTP API to the function behind its route."""
        function, route, params = self._route("GET", path)
        SimClock.now = at
        event = api_event("GET", path, query, {"host": "shop"}, b"", route, params, client_ip)
        event["requestContext"]["timeEpoch"] = int(at.timestamp() * 1000)
        return self.invoke(function, event, at)

    def _route(self, method: str, path: str) -> tuple[str, HttpRoute, dict[str, str]]:
        for spec in self.template.functions():
            for route in spec.routes:
                params = route.match(method, path)
                if params is not None:
                    return spec.logical_id, route, params
        raise LookupError(f"no route for {method} {path}")


def at_second(midnight: datetime, second: float) -> datetime:
    """The simulated wall-clock time `second` seconds after the day's midnight."""
    return midnight + timedelta(seconds=second)
