"""OPC UA source (asyncua): direct reads plus a data-change subscription for state changes.

Counters are read directly every poll (cumulative, so a poll is never "missed"); the state and
fault nodes are also subscribed, so a state that lasted less than a poll period still reaches
the agent, in order. When the server restarts, the next read reconnects and re-subscribes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.node import Node
from asyncua.common.subscription import Subscription
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256
from asyncua.ua.uaerrors import UaError

from edge.config import MachineConfig, OpcUaEndpoint, Point
from edge.domain.registers import Value
from edge.sources.base import SourceError

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
APPLICATION_URI = "urn:presstrack:edge"
TRANSITION_NAMES = ("state", "fault", "mode")


class _Handler:
    """asyncua calls this for every data change of the subscribed nodes."""

    def __init__(self, source: OpcUaSource) -> None:
        self.source = source

    def datachange_notification(self, node: Node, value: Any, _data: Any) -> None:
        self.source.on_change(node, value)


class OpcUaSource:
    """One machine on one OPC UA server."""

    def __init__(self, machine: MachineConfig) -> None:
        assert machine.opcua is not None
        self.machine, self.endpoint = machine, machine.opcua
        self.points = machine.points()
        self._client: Client | None = None
        self._nodes: dict[str, Node] = {}
        self._names_by_node: dict[str, str] = {}
        self._subscription: Subscription | None = None
        self._latest: dict[str, Value] = {}
        self._transitions: list[dict[str, Value]] = []
        self._changed = asyncio.Event()
        self._backoff = 0.0
        self._next_attempt = 0.0
        self._down_logged = False

    async def _connect(self) -> Client:
        if self._client is not None:
            return self._client
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_attempt:
            raise SourceError(f"{self.endpoint.url} unreachable, retrying later")
        client = _make_client(self.endpoint)
        try:
            if self.endpoint.security is not None:
                await _secure(client, self.endpoint)
            await asyncio.wait_for(client.connect(), self.endpoint.timeout_seconds)
            self._nodes = {n: await _resolve(client, p) for n, p in self.points.items()}
            self._names_by_node = {node.nodeid.to_string(): n for n, node in self._nodes.items()}
            if self.endpoint.subscribe:
                await self._subscribe(client)
        except (OSError, TimeoutError, UaError) as error:
            await _quietly_disconnect(client)
            self._backoff = min(MAX_BACKOFF_SECONDS, max(0.5, self._backoff * 2))
            self._next_attempt = loop.time() + self._backoff
            if not self._down_logged:
                log.warning(
                    "opc ua %s unreachable (%s); retrying quietly", self.endpoint.url, error
                )
                self._down_logged = True
            raise SourceError(f"{self.endpoint.url}: {error}") from error
        if self._down_logged:
            log.info("opc ua %s reachable again", self.endpoint.url)
        self._backoff, self._down_logged = 0.0, False
        self._client = client
        return client

    async def _subscribe(self, client: Client) -> None:
        watched = [self._nodes[n] for n in TRANSITION_NAMES if n in self._nodes]
        if not watched:
            return
        try:
            self._subscription = await client.create_subscription(
                self.endpoint.publishing_ms, _Handler(self)
            )
            await self._subscription.subscribe_data_change(watched, queuesize=100)
        except UaError as error:  # the server cannot: fall back to polling
            log.warning("opc ua %s: no subscription (%s); polling only", self.endpoint.url, error)
            self._subscription = None

    def on_change(self, node: Node, value: Any) -> None:
        """Record a state or fault change seen between polls."""
        name = self._names_by_node.get(node.nodeid.to_string())
        if name is None or value is None:
            return
        self._latest[name] = _plain(value)
        self._transitions.append(
            {k: self._latest[k] for k in TRANSITION_NAMES if k in self._latest}
        )
        self._changed.set()

    async def read(self, names: Collection[str]) -> dict[str, Value]:
        """Read the named nodes in one request."""
        client = await self._connect()
        wanted = [n for n in names if n in self._nodes]
        try:
            raw = await asyncio.wait_for(
                client.read_values([self._nodes[n] for n in wanted]),
                self.endpoint.timeout_seconds,
            )
        except (OSError, TimeoutError, UaError, ConnectionError) as error:
            await self._drop()
            raise SourceError(f"{self.endpoint.url}: {error or type(error).__name__}") from error
        values = {
            name: _scaled(_plain(value), self.points[name])
            for name, value in zip(wanted, raw, strict=True)
        }
        self._latest.update({k: v for k, v in values.items() if k in TRANSITION_NAMES})
        return values

    async def wait_change(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking at once when a subscribed state changes."""
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            return
        self._changed.clear()

    def take_transitions(self) -> list[dict[str, Value]]:
        """State changes from the subscription since the last call."""
        taken, self._transitions = self._transitions, []
        return taken

    async def _drop(self) -> None:
        client, self._client, self._subscription = self._client, None, None
        if client is not None:
            await _quietly_disconnect(client)

    async def close(self) -> None:
        """Disconnect."""
        await self._drop()


def _make_client(endpoint: OpcUaEndpoint) -> Client:
    client = Client(endpoint.url, timeout=endpoint.timeout_seconds)
    client.application_uri = APPLICATION_URI
    if endpoint.username is not None:
        client.set_user(endpoint.username)
        client.set_password(endpoint.password or "")
    return client


async def _secure(client: Client, endpoint: OpcUaEndpoint) -> None:
    security = endpoint.security
    assert security is not None
    mode = (
        ua.MessageSecurityMode.SignAndEncrypt
        if security.mode == "SignAndEncrypt"
        else ua.MessageSecurityMode.Sign
    )
    await client.set_security(
        SecurityPolicyBasic256Sha256,
        certificate=str(security.certificate),
        private_key=str(security.private_key),
        server_certificate=(
            str(security.server_certificate) if security.server_certificate is not None else None
        ),
        mode=mode,
    )


async def _resolve(client: Client, point: Point) -> Node:
    if point.node is not None:
        return client.get_node(point.node)
    assert point.browse_path is not None
    return await client.nodes.root.get_child(point.browse_path.split("/"))


async def _quietly_disconnect(client: Client) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 2)
    except Exception:
        log.debug("disconnect after failure", exc_info=True)


def _plain(value: Any) -> Value:
    if isinstance(value, ua.LocalizedText):
        return value.Text or ""
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _scaled(value: Value, point: Point) -> Value:
    if isinstance(value, bool | str) or (point.scale == 1.0 and point.offset == 0.0):
        return value
    return float(value) * point.scale + point.offset
