"""MQTT publisher: drains the outbox in order with QoS 1 and deletes only acknowledged rows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from edge.config import MqttConfig
from edge.metrics import EdgeMetrics
from edge.outbox import Outbox
from edge.outbox_writer import OutboxWriter
from presstrack.wire import AgentStatus, agent_status_topic

log = logging.getLogger(__name__)


class MqttPublisher:
    """Owns the paho client; its network thread hands events back to the asyncio loop."""

    def __init__(
        self,
        config: MqttConfig,
        site: str,
        agent: str,
        outbox: Outbox,
        writer: OutboxWriter,
        metrics: EdgeMetrics,
    ) -> None:
        self.config, self.site, self.agent, self.outbox = config, site, agent, outbox
        self.writer, self.metrics = writer, metrics
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()
        self._wake = asyncio.Event()
        self._inflight: dict[int, int] = {}  # mid -> outbox row id
        self._sent_up_to = 0
        self._stopping = False
        self.published = 0
        self.last_publish: datetime | None = None
        client_id = config.client_id or f"presstrack-{site}-{agent}"
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        self._client.max_inflight_messages_set(config.inflight)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.will_set(
            agent_status_topic(site, agent), self._status(online=False), qos=1, retain=True
        )
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    def _status(self, online: bool) -> bytes:
        return AgentStatus(
            site=self.site, agent=self.agent, online=online, ts=datetime.now(UTC)
        ).to_json()

    # paho network-thread callbacks: only hop onto the loop.
    def _hop(self, callback: Callable[..., None], *args: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between: shutting down
                loop.call_soon_threadsafe(callback, *args)

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if not reason.is_failure:
            self._hop(self._connected_now)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self._hop(self._disconnected_now, str(reason))

    def _on_publish(self, _c: Any, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        self._hop(self._acked, mid)

    def _connected_now(self) -> None:
        log.info("mqtt connected to %s", self.config.url)
        self._client.publish(
            agent_status_topic(self.site, self.agent),
            self._status(online=True),
            qos=1,
            retain=True,
        )
        self._inflight.clear()
        self._sent_up_to = 0  # republish everything not yet acknowledged
        self.metrics.connected.set(1)
        self.metrics.outbox_dropped.set(self.outbox.dropped())
        self._connected.set()
        self._wake.set()

    def _disconnected_now(self, reason: str) -> None:
        if self._connected.is_set() and not self._stopping:
            log.warning("mqtt disconnected (%s); outbox keeps every message", reason)
        self._connected.clear()
        self._inflight.clear()
        self.metrics.connected.set(0)

    def _acked(self, mid: int) -> None:
        row_id = self._inflight.pop(mid, None)
        if row_id is None:
            return
        # deleted with the writer's next commit; a crash before that only means the broker
        # gets the message again, and the cloud ignores what it has applied
        self.writer.acknowledge([row_id])
        self.published += 1
        self.last_publish = datetime.now(UTC)
        self.metrics.published.inc()
        self.metrics.last_publish.set(self.last_publish.timestamp())
        if self.outbox.last_row_id > self._sent_up_to:
            self._wake.set()  # room in the window for what waits

    def wake(self) -> None:
        """Tell the drain loop there is something new in the outbox."""
        self._wake.set()

    @property
    def connected(self) -> bool:
        """True while the broker session is up."""
        return self._connected.is_set()

    async def run(self) -> None:
        """Connect and drain the outbox until cancelled."""
        self._loop = asyncio.get_running_loop()
        parts = urlsplit(self.config.url)
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        if parts.scheme == "mqtts":
            tls = self.config.tls
            # AWS IoT Core: server verified against its CA, the agent by its client certificate
            self._client.tls_set(
                ca_certs=str(tls.ca) if tls and tls.ca else None,
                certfile=str(tls.certificate) if tls and tls.certificate else None,
                keyfile=str(tls.private_key) if tls and tls.private_key else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if parts.username:
            self._client.username_pw_set(parts.username, parts.password)
        self._client.connect_async(parts.hostname or "", port, self.config.keepalive_seconds)
        self._client.loop_start()
        try:
            await self._drain()
        finally:
            self._stopping = True
            if self._client.is_connected():
                info = self._client.publish(
                    agent_status_topic(self.site, self.agent),
                    self._status(online=False),
                    qos=1,
                    retain=True,
                )
                await asyncio.to_thread(info.wait_for_publish, 2.0)
            self._client.disconnect()
            self._client.loop_stop()
            self._loop = None

    async def _drain(self) -> None:
        while True:
            await self._connected.wait()
            room = self.config.inflight - len(self._inflight)
            fresh = self.outbox.last_row_id > self._sent_up_to
            rows = self.outbox.pending(self._sent_up_to, room) if room > 0 and fresh else []
            for row in rows:
                info = self._client.publish(row.topic, row.payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    break  # connection dropped under us; _disconnected_now resets the window
                self._inflight[info.mid] = row.id
                self._sent_up_to = row.id
            self._wake.clear()
            if len(rows) < room or room <= 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
