"""The link between the local stack and moto's server, which a fault test can cut or degrade.

Every AWS request of the test session's stack goes through it. Normally it passes requests on
unchanged. `cut()` makes the cloud unreachable (connections are closed without an answer, as a
dropped uplink does); `throttle(fraction)` answers that fraction of DynamoDB data-plane requests
with ProvisionedThroughputExceededException, exactly as DynamoDB does when a table is throttled.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DYNAMODB_TARGET = "DynamoDB_20120810."  # not DynamoDBStreams_20120810: the stream still reads
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class AwsLink:
    """An HTTP relay on 127.0.0.1 in front of moto's server."""

    def __init__(self, upstream_port: int, seed: int = 7) -> None:
        self.upstream_port = upstream_port
        self.cut_off = threading.Event()
        self.throttled_fraction = 0.0
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.dropped = 0
        self.throttled = 0
        self.by_target: Counter[str] = Counter()  # AWS operations relayed, e.g. "PutItem"
        # each is called with (operation, request body) before the request goes on, and what
        # it returns with (status, answer body) before the caller hears the answer: benches
        # meter capacity with it
        self.observers: list[Callable[[str, bytes], Callable[[int, bytes], None]]] = []
        link = self

        class Relay(_Relay):
            owner = link

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> AwsLink:
        """Start relaying."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop relaying."""
        self.server.shutdown()
        self.server.server_close()

    def cut(self) -> None:
        """From now on the cloud is unreachable."""
        self.cut_off.set()

    def restore(self) -> None:
        """Reachable again, nothing throttled."""
        self.throttled_fraction = 0.0
        self.cut_off.clear()

    def throttle(self, fraction: float) -> None:
        """Throttle this fraction of DynamoDB requests (1.0: every one)."""
        self.throttled_fraction = fraction

    def should_throttle(self, target: str) -> bool:
        """Decide for one request, counting what was throttled."""
        if not target.startswith(DYNAMODB_TARGET) or self.throttled_fraction <= 0:
            return False
        with self.lock:
            hit = self.random.random() < self.throttled_fraction
            self.throttled += hit
        return hit


class _Relay(BaseHTTPRequestHandler):
    owner: AwsLink
    protocol_version = "HTTP/1.1"
    _local = threading.local()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stack logs what matters."""

    def setup(self) -> None:
        """No Nagle on the caller's side: an answer goes out at once, not after a delayed ACK."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _upstream(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.owner.upstream_port, 60)
            connection.connect()
            connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.connection = connection
        return connection

    def _relay(self) -> None:
        link = self.owner
        target = self.headers.get("X-Amz-Target", "")
        operation = target.rpartition(".")[2]
        with link.lock:
            link.requests += 1
            link.by_target[operation or self.command] += 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if link.cut_off.is_set():
            with link.lock:
                link.dropped += 1
            self.close_connection = True  # no answer at all: the uplink is down
            return
        if link.should_throttle(target):
            self._answer(
                400,
                {"Content-Type": "application/x-amz-json-1.0"},
                json.dumps(
                    {
                        "__type": "com.amazonaws.dynamodb.v20120810#"
                        "ProvisionedThroughputExceededException",
                        "message": "The level of configured provisioned throughput for the "
                        "table was exceeded.",
                    }
                ).encode(),
            )
            return
        answered = [observe(operation, body) for observe in link.observers]
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        for attempt in range(2):  # a kept-alive upstream connection may have gone stale
            try:
                connection = self._upstream()
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
                break
            except (http.client.HTTPException, OSError):
                connection.close()
                self._local.connection = None
                if attempt:
                    self.close_connection = True
                    return
        for done in answered:
            done(answer.status, data)
        skip = {*HOP_BY_HOP, "content-length"}
        kept = {k: v for k, v in answer.getheaders() if k.lower() not in skip}
        length_of = answer.getheader("Content-Length") if self.command == "HEAD" else None
        self._answer(answer.status, kept, data, length_of)

    def _answer(
        self, status: int, headers: dict[str, str], data: bytes, length: str | None = None
    ) -> None:
        """Send an answer; a HEAD answer keeps the length of what a GET would bring."""
        lines = [f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}"]
        lines += [f"{key}: {value}" for key, value in headers.items()]
        lines.append(f"Content-Length: {length or len(data)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # one write, headers and body together: two would wait on a delayed ACK
        self.wfile.write(head + data if self.command != "HEAD" else head)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _relay  # noqa: N815
