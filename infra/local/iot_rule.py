"""What the IoT topic rule does in AWS: broker topic filter -> SQS, or the S3 error action.

The subscription is a persistent session with QoS 1 and manual acknowledgement: a message is
acknowledged to the broker only after the queue has it, so nothing is lost if the runner stops.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from infra.local.aws import client
from infra.local.template import TopicRule

log = logging.getLogger(__name__)

SQS_MAX_BODY = 256 * 1024


class TopicRuleBridge:
    """Subscribes with the rule's topic filter and forwards every message to its queue."""

    def __init__(
        self, rule: TopicRule, mqtt_url: str, endpoint: str, error_bucket: str | None
    ) -> None:
        self.rule, self.mqtt_url, self.error_bucket = rule, mqtt_url, error_bucket
        self._sqs = client("sqs", endpoint)
        self._s3 = client("s3", endpoint)
        self._pending: queue.Queue[mqtt.MQTTMessage | None] = queue.Queue()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"presstrack-local-{rule.logical_id}",
            clean_session=False,
            manual_ack=True,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)  # back soon after a restart
        self._client.on_connect = self._on_connect
        self._client.on_message = lambda _c, _u, message: self._pending.put(message)
        self._worker = threading.Thread(target=self._forward, name="iot-rule", daemon=True)
        self.forwarded = 0
        self.errors = 0

    def _on_connect(self, c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            c.subscribe(self.rule.topic_filter, qos=1)

    def start(self) -> None:
        """Connect and start forwarding."""
        parts = urlsplit(self.mqtt_url)
        self._client.connect(parts.hostname or "127.0.0.1", parts.port or 1883, keepalive=30)
        self._client.loop_start()
        self._worker.start()

    def stop(self) -> None:
        """Stop forwarding; unacknowledged messages stay with the broker."""
        self._client.disconnect()
        self._client.loop_stop()
        self._pending.put(None)
        self._worker.join(10)

    def _forward(self) -> None:
        while (message := self._pending.get()) is not None:
            batch = [message]
            while len(batch) < 10:
                try:
                    more = self._pending.get(timeout=0.005)
                except queue.Empty:
                    break
                if more is None:
                    self._pending.put(None)
                    break
                batch.append(more)
            self._deliver(batch)

    def _deliver(self, batch: list[mqtt.MQTTMessage]) -> None:
        entries, rejected = [], []
        for index, message in enumerate(batch):
            try:
                body = message.payload.decode("utf-8")
            except UnicodeDecodeError:
                rejected.append(message)
                continue
            if len(message.payload) > SQS_MAX_BODY:
                rejected.append(message)
                continue
            entries.append(({"Id": str(index), "MessageBody": body}, message))
        delay = 0.2
        while entries:
            try:
                answer = self._sqs.send_message_batch(
                    QueueUrl=self.rule.queue, Entries=[e for e, _ in entries]
                )
            except Exception as error:
                log.warning("queue unreachable (%s); retrying in %.1fs", error, delay)
                time.sleep(delay)
                delay = min(10.0, delay * 2)
                continue
            failed = {f["Id"] for f in answer.get("Failed", [])}
            for entry, message in entries:
                if entry["Id"] not in failed:
                    self._client.ack(message.mid, message.qos)
                    self.forwarded += 1
            entries = [(e, m) for e, m in entries if e["Id"] in failed]
        for message in rejected:
            self._error_action(message)

    def _error_action(self, message: mqtt.MQTTMessage) -> None:
        """The rule's S3 error action: keep what could not be queued, with its topic."""
        self.errors += 1
        if self.error_bucket is not None:
            key = f"{message.topic}/{int(time.time() * 1000)}-{uuid.uuid4()}"
            self._s3.put_object(Bucket=self.error_bucket, Key=key, Body=message.payload)
            log.warning(
                "message on %s could not be queued; kept in s3://%s/%s",
                message.topic,
                self.error_bucket,
                key,
            )
        self._client.ack(message.mid, message.qos)
