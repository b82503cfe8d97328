"""Prometheus metrics of the edge agent: reads, errors, read latency, outbox, publishing."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


class EdgeMetrics:
    """One registry per agent, so several agents (or tests) in a process do not collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reads = Counter(
            "presstrack_edge_reads", "Machine reads attempted", ["machine"], registry=self.registry
        )
        self.errors = Counter(
            "presstrack_edge_read_errors",
            "Machine reads that failed",
            ["machine"],
            registry=self.registry,
        )
        self.points = Counter(
            "presstrack_edge_points_read",
            "Data points read (values)",
            ["machine"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "presstrack_edge_read_seconds",
            "Time to read a machine",
            ["machine"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.lateness = Histogram(
            "presstrack_edge_poll_lateness_seconds",
            "How late a read started after its slot",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2),
            registry=self.registry,
        )
        self.available = Gauge(
            "presstrack_edge_machine_available",
            "1 if the machine answers",
            ["machine"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "presstrack_edge_outbox_depth", "Messages awaiting PUBACK", registry=self.registry
        )
        self.outbox_dropped = Gauge(
            "presstrack_edge_outbox_dropped",
            "Messages dropped because the outbox was full",
            registry=self.registry,
        )
        self.published = Counter(
            "presstrack_edge_published", "Messages the broker acknowledged", registry=self.registry
        )
        self.last_publish = Gauge(
            "presstrack_edge_last_publish_timestamp_seconds",
            "When the broker last acknowledged a message",
            registry=self.registry,
        )
        self.connected = Gauge(
            "presstrack_edge_mqtt_connected",
            "1 while the broker session is up",
            registry=self.registry,
        )

    def serve(self, host: str, port: int) -> int:
        """Expose /metrics over HTTP; returns the port (0 picks a free one)."""
        self._server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_address[1])

    def close(self) -> None:
        """Stop the HTTP endpoint."""
        server = getattr(self, "_server", None)
        if server is not None:
            server.shutdown()
            server.server_close()
