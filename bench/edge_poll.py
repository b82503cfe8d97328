"""Edge gateways compared at 10, 100 and 500 simulated presses polled every second.

For each size and gateway: a farm of Modbus TCP presses (one process, one port each), a fresh
Mosquitto, the gateway in its own process, and a subscriber here. Each press has seven data
points (lifetime, good and waste counters, job counter, job id, state, fault code). Reported:

- CPU milliseconds the gateway process spends per data point read,
- its resident memory at the end,
- poll jitter: how far apart two reads of the same press are from the 1 s period (p50/p99),
- read-to-MQTT latency: the subscriber's receive time minus the read time in the message
  (p50/p95); ours runs with its durable outbox on, as always.

ThingsBoard IoT Gateway runs from its own virtualenv (bench/.venv-tb, created on first use:
it installs its own pymodbus). It publishes nothing until its `getSessionLimits` RPC is
answered, as a ThingsBoard server would; the subscriber here answers it.

    .venv/bin/python bench/edge_poll.py                       # both gateways, 10/100/500
    .venv/bin/python bench/edge_poll.py --gateways presstrack --machines 100 --seconds 60
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from infra.broker import Mosquitto
from infra.local.aws import free_port, wait_for_port
from simulators.machine_model import (
    JOB_ID_REGISTERS,
    REG_FAULT,
    REG_GOOD,
    REG_JOB,
    REG_JOB_ID,
    REG_LIFETIME_32,
    REG_STATE,
    REG_WASTE,
)
from simulators.press_profile import press_machine

ROOT = Path(__file__).resolve().parents[1]
TB_VENV = ROOT / "bench" / ".venv-tb"
TB_VERSION = "3.8.5"
CLK_TCK = os.sysconf("SC_CLK_TCK")
BASE_PORT = 21_000
POINTS_PER_PRESS = 7
METRICS_PORT = [0]  # the running agent's metrics port
#: Our agent reads every second but, by exception, publishes a running press's counters every
#: REPORT_SECONDS (state changes at once); ThingsBoard publishes every read.
REPORT_SECONDS = 5.0


@dataclass
class Result:
    """Figures for one gateway at one size."""

    gateway: str
    machines: int
    seconds: float
    points: int
    cpu_ms_per_point: float
    rss_mb: float
    jitter_p50_ms: float
    jitter_p99_ms: float
    latency_p50_ms: float
    latency_p95_ms: float
    lateness_p99_ms: float | None = None  # ours only: read start behind its slot (histogram)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLK_TCK


def rss_mb(pid: int) -> float:
    """Resident set size of a process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-quantile of a sample."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Observer:
    """Subscribes to what the gateways publish: read times, data points, latencies.

    Also answers ThingsBoard's getSessionLimits RPC, as a ThingsBoard server would.
    """

    def __init__(self, url: str) -> None:
        self.recording = False
        self.points = 0
        self.latencies: list[float] = []
        self.reads: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
        for topic in (
            "presstrack/v1/bench/+/+",  # snapshots and state changes
            "v1/gateway/telemetry",
            "v1/devices/me/rpc/request/+",
        ):
            self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def _on_message(self, _c: Any, _u: Any, message: mqtt.MQTTMessage) -> None:
        received = time.time()
        topic = message.topic
        if topic.startswith("v1/devices/me/rpc/request/"):
            request = json.loads(message.payload)
            if request.get("method") == "getSessionLimits":
                answer = {"rateLimits": {}, "maxInflightMessages": 1000, "maxPayloadSize": 65536}
                self.client.publish(topic.replace("request", "response"), json.dumps(answer), qos=1)
            return
        if not self.recording:
            return
        body = json.loads(message.payload)
        with self._lock:
            if topic.startswith("presstrack/"):
                read = datetime.fromisoformat(body["ts"]).timestamp()
                self._record(body["machine"], read, received)
            else:  # ThingsBoard gateway telemetry: {device: [{"ts": ms, "values": {...}}]}
                for device, entries in body.items():
                    for entry in entries if isinstance(entries, list) else [entries]:
                        read = entry.get("ts", received * 1000) / 1000
                        self.points += len(entry.get("values", entry))
                        self._record(device, read, received)

    def _record(self, machine: str, read: float, received: float) -> None:
        self.latencies.append(received - read)
        reads = self.reads[machine]
        if not reads or read != reads[-1]:
            reads.append(read)

    def jitter(self, period: float) -> list[float]:
        """How far each interval between two published reads of a press is from a whole
        number of periods (a gateway that publishes every Nth read is judged by its reads)."""
        out = []
        for reads in self.reads.values():
            for a, b in itertools.pairwise(sorted(reads)):
                interval = b - a
                out.append(abs(interval - max(1, round(interval / period)) * period))
        return out

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def presstrack_metrics(metrics_port: int) -> tuple[int, dict[float, float]]:
    """Data points the agent has read and its poll-lateness histogram (cumulative buckets)."""
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    samples = [s for f in text_string_to_metric_families(text) for s in f.samples]
    buckets = {
        float(s.labels["le"]): s.value
        for s in samples
        if s.name == "presstrack_edge_poll_lateness_seconds_bucket"
    }
    points = int(sum(s.value for s in samples if s.name == "presstrack_edge_points_read_total"))
    return points, buckets


def bucket_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """Upper bound (seconds) of the histogram bucket holding quantile q of the new samples."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return float("nan")
    return next(b for b, c in zip(bounds, counts, strict=True) if c >= q * counts[-1])


def presstrack_points(metrics_port: int) -> int:
    """Data points the agent has read (from its own metrics)."""
    return presstrack_metrics(metrics_port)[0]


def start_presstrack(
    machines: int, broker: Mosquitto, workdir: Path
) -> tuple[subprocess.Popen[bytes], Callable[[Observer], int]]:
    """Our agent, one read of all seven points per press per second."""
    metrics_port = free_port()
    METRICS_PORT[0] = metrics_port
    config = {
        "site": "bench",
        "agent": "edge-1",
        "state_dir": str(workdir / "edge"),
        "mqtt": {"url": broker.url},
        "metrics": {"port": metrics_port},
        "report": {"counter_seconds": REPORT_SECONDS, "heartbeat_seconds": 60},
        "machines": [
            {
                **press_machine(f"press-{i}", BASE_PORT + i, poll_seconds=1.0),
                "state_poll_seconds": 1.0,
            }
            for i in range(machines)
        ],
    }
    path = workdir / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    process = subprocess.Popen(
        [sys.executable, "-m", "presstrack", "edge", "run", str(path)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port("127.0.0.1", metrics_port, 60)
    return process, lambda _observer: presstrack_points(metrics_port)


def ensure_thingsboard() -> Path:
    """The ThingsBoard gateway's own virtualenv (it pins its own pymodbus)."""
    python = TB_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TB_VENV)], check=True)
    probe = subprocess.run(
        [str(python), "-c", "import thingsboard_gateway"], check=False, capture_output=True
    )
    if probe.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", f"thingsboard-gateway=={TB_VERSION}"],
            check=True,
        )
    return python


def _tb_point(tag: str, type_: str, address: int, count: int) -> dict[str, Any]:
    return {"tag": tag, "type": type_, "functionCode": 3, "objectsCount": count, "address": address}


def start_thingsboard(
    machines: int, broker: Mosquitto, workdir: Path
) -> tuple[subprocess.Popen[bytes], Callable[[Observer], int]]:
    """ThingsBoard IoT Gateway's Modbus connector on the same presses and points."""
    python = ensure_thingsboard()
    config_dir = workdir / "tb-config"
    config_dir.mkdir(parents=True, exist_ok=True)
    points = [
        _tb_point("lifetime", "32uint", REG_LIFETIME_32, 2),
        _tb_point("good", "32uint", REG_GOOD, 2),
        _tb_point("waste", "32uint", REG_WASTE, 2),
        _tb_point("job", "16uint", REG_JOB, 1),
        _tb_point("job_id", "string", REG_JOB_ID, JOB_ID_REGISTERS),
        _tb_point("state", "16uint", REG_STATE, 1),
        _tb_point("fault", "16uint", REG_FAULT, 1),
    ]
    slaves = [
        {
            "host": "127.0.0.1",
            "port": BASE_PORT + i,
            "type": "tcp",
            "method": "socket",
            "unitId": 1,
            "deviceName": f"press-{i}",
            "deviceType": "press",
            "timeout": 1,
            "byteOrder": "BIG",
            "wordOrder": "BIG",
            "retries": 1,
            "pollPeriod": 1000,
            "attributes": [],
            "timeseries": points,
            "attributeUpdates": [],
            "rpc": [],
        }
        for i in range(machines)
    ]
    (config_dir / "modbus.json").write_text(json.dumps({"master": {"slaves": slaves}}))
    gateway = {
        "thingsboard": {
            "host": "127.0.0.1",
            "port": broker.port,
            "remoteShell": False,
            "remoteConfiguration": False,
            "statistics": {"enable": False},
            "deviceFiltering": {"enable": False},
            "checkConnectorsConfigurationInSeconds": 3600,
            "security": {"type": "accessToken", "accessToken": "bench"},
            "qos": 1,
            "reportStrategy": {"type": "ON_RECEIVED"},
        },
        "storage": {"type": "memory", "read_records_count": 100, "max_records_count": 1_000_000},
        "grpc": {"enabled": False},
        "connectors": [{"type": "modbus", "name": "Modbus", "configuration": "modbus.json"}],
    }
    (config_dir / "tb_gateway.json").write_text(json.dumps(gateway))
    logs = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"null": {"class": "logging.NullHandler"}},
        "root": {"level": "ERROR", "handlers": ["null"]},
    }
    (config_dir / "logs.json").write_text(json.dumps(logs))
    run_dir = workdir / "tb-run"
    run_dir.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [str(python), "-c", "from thingsboard_gateway.tb_gateway import main; main()"],
        cwd=run_dir,
        env={**os.environ, "TB_GW_CONFIG_DIR": str(config_dir)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, lambda observer: observer.points


GATEWAYS = {"presstrack": start_presstrack, "thingsboard": start_thingsboard}


def run(gateway: str, machines: int, seconds: float, warmup: float, workdir: Path) -> Result:
    """Measure one gateway at one fleet size."""
    workdir.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(free_port(), workdir / "mosquitto")
    broker.start()
    farm = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "press_farm.py"), str(machines), str(BASE_PORT)],
        cwd=ROOT,
    )
    observer = Observer(broker.url)
    process: subprocess.Popen[bytes] | None = None
    try:
        for i in range(machines):
            wait_for_port("127.0.0.1", BASE_PORT + i, 60)
        process, points_read = GATEWAYS[gateway](machines, broker, workdir)
        time.sleep(warmup)
        lateness_before = lateness_after = None
        if gateway == "presstrack":
            lateness_before = presstrack_metrics(METRICS_PORT[0])[1]
        observer.recording = True
        points_before, cpu_before = points_read(observer), cpu_seconds(process.pid)
        started = time.monotonic()
        time.sleep(seconds)
        points_after, cpu_after = points_read(observer), cpu_seconds(process.pid)
        if gateway == "presstrack":
            lateness_after = presstrack_metrics(METRICS_PORT[0])[1]
        elapsed = time.monotonic() - started
        observer.recording = False
        memory = rss_mb(process.pid)
    finally:
        observer.close()
        if process is not None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        farm.terminate()
        farm.wait(20)
        broker.stop()
    points = points_after - points_before
    jitter = observer.jitter(1.0)
    return Result(
        gateway=gateway,
        machines=machines,
        seconds=round(elapsed, 1),
        points=points,
        cpu_ms_per_point=round((cpu_after - cpu_before) * 1000 / max(points, 1), 4),
        rss_mb=round(memory, 1),
        jitter_p50_ms=round(percentile(jitter, 0.5) * 1000, 1),
        jitter_p99_ms=round(percentile(jitter, 0.99) * 1000, 1),
        latency_p50_ms=round(percentile(observer.latencies, 0.5) * 1000, 1),
        latency_p95_ms=round(percentile(observer.latencies, 0.95) * 1000, 1),
        lateness_p99_ms=(
            bucket_quantile(lateness_before, lateness_after, 0.99) * 1000
            if lateness_before is not None and lateness_after is not None
            else None
        ),
    )


def main() -> None:
    """Run the sizes and gateways asked for; print a table (and JSON when asked)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--machines", type=int, nargs="+", default=[10, 100, 500])
    parser.add_argument("--gateways", nargs="+", default=list(GATEWAYS), choices=GATEWAYS)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.machines:
            for gateway in args.gateways:
                results.append(
                    run(gateway, count, args.seconds, args.warmup, Path(tmp) / f"{gateway}-{count}")
                )
                print(results[-1], flush=True)
    print(
        f"\n{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},"
        f" {datetime.now():%Y-%m-%d}, {args.seconds:.0f} s per run"
    )
    print(
        "| gateway | machines | points | CPU ms/point | RSS MB | jitter p50 ms | p99 ms |"
        " read->MQTT p50 ms | p95 ms | poll lateness p99 ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.gateway} | {r.machines} | {r.points} | {r.cpu_ms_per_point} | {r.rss_mb} |"
            f" {r.jitter_p50_ms} | {r.jitter_p99_ms} | {r.latency_p50_ms} |"
            f" {r.latency_p95_ms} | {'-' if r.lateness_p99_ms is None else r.lateness_p99_ms} |"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))


if __name__ == "__main__":
    main()
