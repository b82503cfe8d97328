"""What Lambda's event sources do: SQS batches and DynamoDB stream batches to the handler with
partial failures kept, and EventBridge schedules."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from infra.local.aws import client
from infra.local.lambdas import LocalFunction
from infra.local.template import (
    ACCOUNT,
    REGION,
    ScheduleEvent,
    SqsEvent,
    StreamEvent,
    matches,
)

log = logging.getLogger(__name__)


class SqsEventSource:
    """Polls one queue and invokes one function with batches of up to BatchSize records."""

    def __init__(
        self,
        event: SqsEvent,
        queue_url: str,
        queue_name: str,
        function: LocalFunction,
        endpoint: str,
    ) -> None:
        self.event, self.queue_url, self.function = event, queue_url, function
        self.queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}"
        self._sqs = client("sqs", endpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"esm-{queue_name}", daemon=True)
        self.batches = 0
        self.failures = 0

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in hand."""
        self._stop.set()
        self._thread.join(30)

    def _receive(self) -> list[dict[str, Any]]:
        """One batch as AWS forms it: from the first message, receive until the batch is full
        or the batching window is over (without a window: until the queue has no more)."""
        messages = self._receive_some(wait=1, room=self.event.batch_size)
        if not messages:
            return messages
        deadline = time.monotonic() + self.event.window_seconds
        while len(messages) < self.event.batch_size and not self._stop.is_set():
            got = self._receive_some(wait=0, room=self.event.batch_size - len(messages))
            messages += got
            left = deadline - time.monotonic()
            if not got and left <= 0:
                break
            if not got:
                self._stop.wait(min(left, 0.1))  # more may come while the window is open
        return messages

    def _receive_some(self, wait: int, room: int) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            WaitTimeSeconds=wait,
            MaxNumberOfMessages=min(10, room),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return got

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": REGION,
        }

    def _run(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                messages = self._receive()
            except Exception as error:
                log.warning("cannot poll queue (%s); retrying in %.1fs", error, delay)
                self._stop.wait(delay)
                delay = min(10.0, delay * 2)
                continue
            delay = 0.2
            if messages:
                self._invoke(messages)

    def _invoke(self, messages: list[dict[str, Any]]) -> None:
        self.batches += 1
        try:
            result = self.function.invoke({"Records": [self._record(m) for m in messages]})
        except Exception:
            log.exception(
                "%s failed; the whole batch returns to the queue", self.function.function.logical_id
            )
            self.failures += len(messages)
            return
        failed = set()
        if self.event.report_failures and isinstance(result, dict):
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        self.failures += len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            try:
                self._sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(chunk)
                    ],
                )
            except Exception as error:
                log.warning("could not delete %d processed messages (%s)", len(chunk), error)


class ScheduleSource:
    """Fires a function on its schedule with EventBridge's Scheduled Event."""

    def __init__(self, event: ScheduleEvent, function: LocalFunction, every: float | None = None):
        self.event, self.function = event, function
        self.every = every or event.seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"schedule-{event.name}", daemon=True
        )
        self.runs = 0

    def start(self) -> None:
        """Start the clock."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the run in hand."""
        self._stop.set()
        self._thread.join(60)

    def fire(self) -> Any:
        """One run now; the function's answer, or None when it raised (logged)."""
        now = datetime.now(UTC)
        self.runs += 1
        try:
            return self.function.invoke(
                {
                    "version": "0",
                    "id": str(uuid.uuid4()),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": ACCOUNT,
                    "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "region": REGION,
                    "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{self.event.name}"],
                    "detail": {},
                }
            )
        except Exception:
            log.exception("%s failed on its schedule", self.function.function.logical_id)
            return None

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.fire()


def stream_end(dynamodb: Any, streams: Any, table: str) -> tuple[str, dict[str, str]]:
    """A table's stream ARN and an iterator per shard at the stream's current end."""
    arn = str(dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterators = {
        s["ShardId"]: streams.get_shard_iterator(
            StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="LATEST"
        )["ShardIterator"]
        for s in shards
    }
    return arn, iterators


class StreamSource:
    """Reads a table's stream and invokes a function with batches of change records, as the
    DynamoDB event source mapping does (a failed batch is retried from its first failure)."""

    def __init__(self, event: StreamEvent, table: str, function: LocalFunction, endpoint: str):
        self.event, self.table, self.function = event, table, function
        self._streams = client("dynamodbstreams", endpoint)
        self._dynamodb = client("dynamodb", endpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{table}", daemon=True)
        self.records = 0

    def start(self) -> None:
        """Start reading from the stream's current end."""
        self.arn, self._iterators = stream_end(self._dynamodb, self._streams, self.table)
        self._thread.start()

    def stop(self) -> None:
        """Stop after the batch in hand."""
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        full = False
        while not self._stop.wait(0 if full else 0.2):  # after a full batch, more is waiting
            full = False
            for shard, iterator in list(self._iterators.items()):
                try:
                    got = self._streams.get_records(
                        ShardIterator=iterator, Limit=self.event.batch_size
                    )
                except Exception as error:
                    log.warning("cannot read the stream (%s)", error)
                    continue
                self._iterators[shard] = got.get("NextShardIterator", iterator)
                records = got.get("Records", [])
                full = full or len(records) >= self.event.batch_size
                wanted = [r for r in records if self._wanted(r)]
                if wanted:
                    self._invoke(wanted)

    def _wanted(self, record: dict[str, Any]) -> bool:
        """The event source mapping's FilterCriteria: any of its patterns may match."""
        return not self.event.filters or any(matches(p, record) for p in self.event.filters)

    def _invoke(self, records: list[dict[str, Any]]) -> None:
        batch = [{**r, "eventSourceARN": self.arn} for r in records]
        for _ in range(3):
            try:
                result = self.function.invoke({"Records": batch})
            except Exception:
                log.exception("%s failed on a stream batch", self.function.function.logical_id)
                continue
            failed = result.get("batchItemFailures", []) if isinstance(result, dict) else []
            if not failed:
                self.records += len(records)
                return
            first = failed[0]["itemIdentifier"]
            batch = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= int(first)]
        log.error("giving up on %d stream records after retries", len(batch))
