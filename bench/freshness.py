"""How fresh the customer's tracking JSON is: a press stopped or started, and its counter moving,
until `/api/track/{token}` shows it (p50/p99), with 20 and 100 presses on the local stack.

One run per fleet size: a farm of simulated presses (bench/press_farm.py, one Modbus TCP port
each, all printing), a fresh Mosquitto, the local stack (template.yaml on moto's server, the
functions in this process) and one edge agent (`presstrack edge run`, as deployed: durable
outbox, state read every 0.2 s, counters reported every 5 s, a state change at once) reading
every press. Each press is on the printing stage of its own order.

- State change: a STOP or START written to a press's command register; the time until the
  order's tracking JSON says `stopped` or `running` for its printing stage, polled every
  100 ms; one press at a time, a second apart, so the bench's own polling (10 tracking requests
  a second) stays a small part of the load.
- Counter change: the press's lifetime counter read straight from the press; the time until
  the tracking JSON's printed count reaches it (the stage's count is the counter less the
  count at assignment, found while the press stands still); two presses at a time.

    .venv/bin/python bench/freshness.py [--machines 20 100] [--changes 60] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cloud.domain.orders import Order  # noqa: E402
from cloud.service.orders import assign_stage, create_order  # noqa: E402
from cloud.settings import store  # noqa: E402
from infra.broker import Mosquitto  # noqa: E402
from infra.local.aws import free_port, wait_for_port  # noqa: E402
from infra.local.stack import LocalStack  # noqa: E402
from simulators.machine_model import Command  # noqa: E402
from simulators.press_control import read_lifetime, send_command  # noqa: E402
from simulators.press_profile import press_machine  # noqa: E402
from tests.link import AwsLink  # noqa: E402

SITE = "fresh"
BASE_PORT = 22_000
AT_ONCE = 1  # presses changed at the same moment
POLL_SECONDS = 0.1
TIMEOUT_SECONDS = 30.0


def tracking(base_url: str, token: str) -> dict[str, Any]:
    """The printing stage of the order's public tracking JSON."""
    with urllib.request.urlopen(f"{base_url}/api/track/{token}", timeout=10) as answer:
        view = json.loads(answer.read())
    return next(s for s in view["stages"] if s["code"] == "printing")


def wait_until(base_url: str, token: str, test: Any) -> float:
    """Poll the tracking JSON until `test(stage)` holds; the monotonic time it first held."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        stage = tracking(base_url, token)
        if test(stage):
            return time.monotonic()
        time.sleep(POLL_SECONDS)
    print(f"not seen within {TIMEOUT_SECONDS:.0f} s: {token[:6]}... {stage}", flush=True)
    return time.monotonic()  # counted as this late


def lifetime(port: int) -> int:
    """The press's lifetime counter, read straight from it."""
    return read_lifetime(port)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def state_changes(base_url: str, tokens: list[str], changes: int) -> list[float]:
    """STOP and START in rounds of AT_ONCE presses; seconds until each shows."""
    seen: list[float] = []
    running = dict.fromkeys(range(len(tokens)), True)
    pool = ThreadPoolExecutor(AT_ONCE)
    n = 0
    while len(seen) < changes:
        chosen = [(n + k * 7) % len(tokens) for k in range(AT_ONCE)]
        n += 1
        jobs = []
        for m in chosen:
            command, wanted = (
                (Command.STOP, "stopped") if running[m] else (Command.START, "running")
            )
            started = time.monotonic()
            send_command(BASE_PORT + m, command)
            running[m] = not running[m]
            test = lambda stage, wanted=wanted: stage.get("machine_state") == wanted  # noqa: E731
            jobs.append((started, pool.submit(wait_until, base_url, tokens[m], test)))
        seen += [job.result() - started for started, job in jobs]
        time.sleep(1.0)
    pool.shutdown()
    for m, on in running.items():  # every press printing again for what follows
        if not on:
            send_command(BASE_PORT + m, Command.START)
    return seen[:changes]


def counter_changes(base_url: str, tokens: list[str], samples: int) -> list[float]:
    """Seconds from a counter value read at the press until the tracking JSON reaches it."""
    presses = list(range(min(len(tokens), AT_ONCE * 2)))
    for m in presses:
        send_command(BASE_PORT + m, Command.STOP)
    time.sleep(8)  # the last counts reach the cloud (counters go every 5 s)
    offsets = {
        m: lifetime(BASE_PORT + m) - (tracking(base_url, tokens[m])["done"] or 0) for m in presses
    }
    for m in presses:
        send_command(BASE_PORT + m, Command.START)
    time.sleep(2)
    seen: list[float] = []
    pool = ThreadPoolExecutor(len(presses))

    def one(m: int) -> float:
        started = time.monotonic()
        target = lifetime(BASE_PORT + m) - offsets[m]
        return wait_until(base_url, tokens[m], lambda s: (s["done"] or 0) >= target) - started

    while len(seen) < samples:
        seen += list(pool.map(one, presses))
        time.sleep(0.7)  # land at other points of the 5 s reporting period
    pool.shutdown()
    return seen[:samples]


def run(machines: int, changes: int, workdir: Path) -> dict[str, Any]:
    """One fleet size: everything started fresh, measured, stopped."""
    broker = Mosquitto(free_port(), workdir / "mosquitto")
    broker.start()
    link = AwsLink(free_port()).start()  # counts what the stack asks of moto's server
    stack = LocalStack(
        mqtt_url=broker.url,
        http_port=free_port(),
        schedule_seconds=60,
        moto_port=link.upstream_port,
        aws_endpoint=link.endpoint,
    )
    stack.start()
    farm = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "press_farm.py"), str(machines), str(BASE_PORT)],
        cwd=ROOT,
    )
    edge: subprocess.Popen[bytes] | None = None
    try:
        for m in range(machines):
            wait_for_port("127.0.0.1", BASE_PORT + m, 60)
        config = {
            "site": SITE,
            "agent": "edge-1",
            "state_dir": str(workdir / "edge"),
            "mqtt": {"url": broker.url},
            "machines": [
                press_machine(f"press-{m}", BASE_PORT + m, poll_seconds=1.0)
                for m in range(machines)
            ],
        }
        (workdir / "edge.yaml").write_text(yaml.safe_dump(config))
        edge = subprocess.Popen(
            [sys.executable, "-m", "presstrack", "edge", "run", str(workdir / "edge.yaml")],
            cwd=ROOT,
            stdout=(workdir / "edge.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while any(store().get_machine(f"{SITE}/press-{m}") is None for m in range(machines)):
            if time.monotonic() > deadline:
                raise SystemExit("the presses did not all report")
            time.sleep(0.5)
        tokens = []
        now = datetime.now(UTC)
        for m in range(machines):
            order = Order(f"FRESH-{m}", "C", "Leaflet", 1_000_000, date(2027, 1, 31), now)
            token, _ = create_order(store(), order, None)
            assign_stage(store(), f"FRESH-{m}", "printing", f"{SITE}/press-{m}")
            tokens.append(token)
        for token in tokens:
            wait_until(stack.base_url, token, lambda s: s.get("machine_state") == "running")
        cpu = os.times()
        link.by_target.clear()
        began = time.monotonic()
        states = state_changes(stack.base_url, tokens, changes)
        counters = counter_changes(stack.base_url, tokens, changes)
        took = time.monotonic() - began
        used = os.times()
        operations = {k: round(v / took, 1) for k, v in link.by_target.most_common(12)}
    finally:
        if edge is not None:
            edge.terminate()
            edge.wait(20)
        farm.terminate()
        farm.wait(20)
        stack.stop()
        link.stop()
        broker.stop()
    return {
        "machines": machines,
        "state_changes": len(states),
        "state_p50_s": round(percentile(states, 0.5), 3),
        "state_p99_s": round(percentile(states, 0.99), 3),
        "state_max_s": round(max(states), 3),
        "counter_samples": len(counters),
        "counter_p50_s": round(percentile(counters, 0.5), 3),
        "counter_p99_s": round(percentile(counters, 0.99), 3),
        "bench_process_cpu_s": round(used.user + used.system - cpu.user - cpu.system, 1),
        "aws_requests_per_s": operations,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--machines", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--changes", type=int, default=60)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if len(args.machines) == 1:
            results.append(run(args.machines[0], args.changes, Path(tmp) / "run"))
        for count in args.machines if len(args.machines) > 1 else []:
            # each size in a fresh process: the stack's clients are cached per process
            out = Path(tmp) / f"{count}.json"
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--machines",
                    str(count),
                    "--changes",
                    str(args.changes),
                    "--json",
                    str(out),
                ],
                check=True,
            )
            results += json.loads(out.read_text())["results"]
        for result in results:
            print(json.dumps(result), flush=True)
    summary = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "results": results,
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
