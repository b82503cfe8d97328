"""What Lambda's SQS event source mapping does: batches to the handler, partial failures kept."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from infra.local.aws import client
from infra.local.lambdas import LocalFunction
from infra.local.template import ACCOUNT, REGION, SqsEvent

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
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.event.window_seconds
        while len(messages) < self.event.batch_size and not self._stop.is_set():
            wait = 1 if not messages else 0
            got = self._sqs.receive_message(
                QueueUrl=self.queue_url,
                WaitTimeSeconds=wait,
                MaxNumberOfMessages=min(10, self.event.batch_size - len(messages)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            messages += got
            if messages and (not got or time.monotonic() >= deadline):
                break
        return messages

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
