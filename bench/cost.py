"""Cloud cost per machine-month, ours against the naive design, measured in one run.

A simulated two-shift day of a shop (bench/shop_day.py: presses, operators and the edge
agent's own worker on a simulated clock) is replayed through the functions of template.yaml on
moto's server in simulated time (bench/cloud_replay.py): ingest on SQS batches, the detector
on its minute schedule and its fault checks, the notifier on the DynamoDB stream, and the
customers opening their tracking pages. Every AWS request crosses a meter (bench/meter.py)
that counts DynamoDB capacity units the way DynamoDB bills them. What AWS does without being
asked (IoT messages and rule actions, the SQS event sources' long polls, connection minutes,
the platform's log lines) is counted from the day. Then the naive design (one message a second
per machine, one function invocation and one write per message) is measured on a sample of
the same messages. Prices come from docs/prices.yaml.

    .venv/bin/python bench/cost.py [--machines 10] [--counter-seconds 30]
        [--heartbeat-seconds 120] [--json FILE]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import platform
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import yaml
from paho.mqtt.client import topic_matches_sub

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import naive  # noqa: E402
from bench.cloud_replay import Replay  # noqa: E402
from bench.meter import CapacityMeter  # noqa: E402
from bench.shop_day import Day, simulate_day  # noqa: E402
from cloud.domain.calendar import Shift, ShiftCalendar  # noqa: E402
from cloud.domain.estimate import ShopSettings  # noqa: E402
from cloud.domain.messages import Channel, Subscription  # noqa: E402
from cloud.domain.orders import Order  # noqa: E402
from cloud.service.orders import act_on_stage, create_order, register_machine  # noqa: E402
from infra.local.aws import LOCAL_CREDENTIALS, MotoServer, provision  # noqa: E402
from infra.local.lambdas import LambdaContext  # noqa: E402
from infra.local.template import Template  # noqa: E402
from presstrack.wire import AgentStatus, agent_status_topic  # noqa: E402
from tests.link import AwsLink  # noqa: E402

MIDNIGHT = datetime(2026, 12, 2, 16, tzinfo=UTC)  # 00:00 on Thursday 3 December in Shanghai
DAYS_PER_MONTH = 30
SQS_POLLERS = 5  # long polls an SQS event source keeps open while the queue is idle ...
LONG_POLL_SECONDS = 20  # ... each waiting this long
VIEWS_PER_ORDER = (20, 60, 120)  # the customer opens the page this many minutes into printing
REFRESHES_PER_VIEW = 12  # and keeps it open a minute (a refresh every 5 s)
NAIVE_SAMPLE = 2000
PRICES = ROOT / "docs" / "prices.yaml"
IDLE_POLLS = "SQS long polls of the event sources"
SECRET = "Secrets Manager secret-month"
PER_SHOP = (IDLE_POLLS, SECRET)  # the same for a shop of any size


@dataclass
class Bill:
    """Usage of one design over one shop-day, and what it costs."""

    usage: dict[str, float] = field(default_factory=dict)
    dollars: dict[str, float] = field(default_factory=dict)

    def add(self, item: str, amount: float, price: float) -> None:
        """Use `amount` of something priced `price` each."""
        self.usage[item] = self.usage.get(item, 0.0) + amount
        self.dollars[item] = self.dollars.get(item, 0.0) + amount * price

    @property
    def total(self) -> float:
        """Dollars in all."""
        return sum(self.dollars.values())


def set_up_shop(day: Day) -> dict[str, str]:
    """Machines, orders (design and plates done, SMS opt-in on every other one) and the shop's
    two shifts, as the ERP and staff would have left them; returns tokens by order."""
    from cloud.settings import store  # noqa: PLC0415 (after the environment is set)

    shop = store()
    two_shifts = ShiftCalendar(
        shifts=(
            Shift(frozenset(range(1, 7)), clock_time(8), clock_time(16)),
            Shift(frozenset(range(1, 7)), clock_time(16), clock_time(0)),
        )
    )
    shop.put_settings(ShopSettings(calendar=two_shifts))
    tokens = {}
    yesterday = MIDNIGHT - timedelta(days=1)
    for n, (machine, jobs) in enumerate(day.jobs.items()):
        register_machine(shop, f"shop/{machine}", f"{n + 1}号机", "press", 12_000, 1)
        for i, job in enumerate(jobs):
            order = Order(
                job.order_no, "客户", "Leaflet", job.sheets, date(2026, 12, 10), yesterday
            )
            tokens[job.order_no], _ = create_order(shop, order, None)
            for code in ("design", "ctp"):
                act_on_stage(shop, job.order_no, code, "complete", "排版", yesterday)
            if i % 2 == 0:
                shop.put_subscription(
                    Subscription(job.order_no, Channel.SMS, f"86138{n:04d}{i:04d}", yesterday)
                )
    return tokens


def replay_day(replay: Replay, meter: CapacityMeter, day: Day, tokens: dict[str, str]) -> None:
    """Everything the cloud does during the day, in time order."""
    ingest = next(f for f in replay.template.functions() if f.sqs_events and not f.schedules)
    detector = next(f for f in replay.template.functions() if f.schedules)
    fault_queue = next(e.queue for e in detector.sqs_events)
    birth = AgentStatus(site="shop", agent="edge-1", online=True, ts=MIDNIGHT)
    arrivals = [
        (0.0, agent_status_topic("shop", "edge-1"), birth.to_json().decode()),
        *((p.at, p.topic, p.body.decode()) for p in day.published),
    ]
    events: list[tuple[float, int, str, Any]] = []
    order = 0

    def push(at: float, kind: str, payload: Any) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, payload))

    rules = replay.template.topic_rules()
    for event in ingest.sqs_events:  # each lane's batches as its event source forms them
        lane = [
            (at, body)
            for at, topic, body in arrivals
            if any(
                r.queue == replay.queues[event.queue] and topic_matches_sub(r.topic_filter, topic)
                for r in rules
            )
        ]
        batch: list[str] = []
        opened = 0.0
        for at, body in lane:
            full = len(batch) >= event.batch_size
            if batch and (full or at > opened + event.window_seconds):
                push(opened + event.window_seconds, "ingest", (event.queue, batch))
                batch = []
            if not batch:
                opened = at
            batch.append(body)
        if batch:
            push(opened + event.window_seconds, "ingest", (event.queue, batch))
    for minute in range(24 * 60):
        push(minute * 60.0, "schedule", detector.logical_id)
    for order_no, started in day.started.items():
        for after in VIEWS_PER_ORDER:
            at = started + after * 60
            for refresh in range(REFRESHES_PER_VIEW + 1):
                if at + 5 * refresh < 86_400:
                    push(at + 5 * refresh, "view", (tokens[order_no], refresh > 0))
    seen_sends = 0
    while events:
        at, _, kind, payload = heapq.heappop(events)
        when = MIDNIGHT + timedelta(seconds=at)
        if kind == "ingest":
            queue, bodies = payload
            replay.sqs_batch(ingest.logical_id, queue, bodies, when)
        elif kind == "schedule":
            replay.schedule(payload, when)
        elif kind == "fault_check":
            replay.delayed_batch(detector.logical_id, fault_queue, [payload], when)
        else:
            token, refresh = payload
            replay.http(f"/t/{token}", "part=main" if refresh else "", when, "10.0.0.1")
        for sent in meter.sent[seen_sends:]:  # delayed messages the functions sent
            if sent["QueueUrl"] == replay.queues[fault_queue]:
                push(at + int(sent.get("DelaySeconds", 0)), "fault_check", sent["MessageBody"])
        seen_sends = len(meter.sent)


def bill_ours(
    replay: Replay, meter: CapacityMeter, day: Day, prices: dict[str, float], storage_gb: float
) -> Bill:
    """One shop-day of our design."""
    bill = Bill()
    messages = len(day.published) + 1  # and the agent's birth
    largest = max(len(p.body) + len(p.topic) for p in day.published)
    per_message = math.ceil(largest / 5120)
    bill.add("IoT connection minutes", 24 * 60, prices["iot_connection_minute"])
    bill.add("IoT messages", messages * per_message, prices["iot_message"])
    bill.add("IoT rules triggered", messages, prices["iot_rule_triggered"])
    bill.add("IoT actions applied", messages, prices["iot_action_applied"])
    sqs = sum(n for op, n in meter.requests.items() if _is_sqs(op))
    sqs += sum(replay.modelled.values())
    polled = sum(1 for f in replay.template.functions() for _ in f.sqs_events)
    idle = polled * SQS_POLLERS * 86_400 / LONG_POLL_SECONDS
    bill.add("SQS requests", sqs, prices["sqs_request"])
    bill.add(IDLE_POLLS, idle, prices["sqs_request"])
    invocations = sum(u.invocations for u in replay.usage.values())
    gb_s = sum(u.billed_ms / 1000 * replay.memory_mb(f) / 1024 for f, u in replay.usage.items())
    logs = sum(u.log_bytes for u in replay.usage.values())
    bill.add("Lambda invocations", invocations, prices["lambda_request"])
    bill.add("Lambda GB-seconds", gb_s, prices["lambda_gb_second_arm64"])
    bill.add("DynamoDB write units", sum(meter.write_units.values()), prices["dynamodb_write_unit"])
    bill.add("DynamoDB read units", sum(meter.read_units.values()), prices["dynamodb_read_unit"])
    month = storage_gb / DAYS_PER_MONTH  # a day's share of a month of what the table holds
    stored = prices["dynamodb_storage_gb_month"] + prices["dynamodb_pitr_gb_month"]
    bill.add("DynamoDB storage and backup GB-month", month, stored)
    api = next(f.logical_id for f in replay.template.functions() if f.routes)
    views = replay.usage[api].invocations
    bill.add("HTTP API requests", views, prices["http_api_request"])
    bill.add("CloudWatch Logs GB", logs / 1e9, prices["logs_ingested_gb"])
    bill.add(SECRET, 1 / DAYS_PER_MONTH, prices["secret_month"])
    return bill


def bill_naive(machines: int, sample: dict[str, float], prices: dict[str, float]) -> Bill:
    """One shop-day of the naive design, from its measured sample."""
    bill = Bill()
    messages = machines * naive.MESSAGES_PER_MACHINE_DAY
    bill.add("IoT connection minutes", machines * 24 * 60, prices["iot_connection_minute"])
    bill.add("IoT messages", messages, prices["iot_message"])
    bill.add("IoT rules triggered", messages, prices["iot_rule_triggered"])
    bill.add("IoT actions applied", messages, prices["iot_action_applied"])
    bill.add("Lambda invocations", messages, prices["lambda_request"])
    gb_s = messages * sample["billed_ms"] / 1000 * naive.MEMORY_MB / 1024
    bill.add("Lambda GB-seconds", gb_s, prices["lambda_gb_second_arm64"])
    bill.add(
        "DynamoDB write units", messages * sample["write_units"], prices["dynamodb_write_unit"]
    )
    logs = messages * sample["log_bytes"]
    bill.add("CloudWatch Logs GB", logs / 1e9, prices["logs_ingested_gb"])
    return bill


def measure_naive(meter: CapacityMeter, day: Day) -> dict[str, float]:
    """The naive function on a sample of the day's messages: billed ms, write units and log
    bytes per message."""
    from bench.cloud_replay import PLATFORM_LOG_BYTES  # noqa: PLC0415

    bodies = [json.loads(p.body) for p in day.published if b'"Executing"' in p.body]
    bodies = (bodies * (1 + NAIVE_SAMPLE // max(1, len(bodies))))[:NAIVE_SAMPLE]
    meter.reset()
    billed = 0
    context = LambdaContext("NaiveFunction", 30, naive.MEMORY_MB)
    for body in bodies:
        overhead = meter.overhead
        started = time.perf_counter()
        naive.handler(body, context)
        took = time.perf_counter() - started - (meter.overhead - overhead)
        billed += max(1, math.ceil(took * 1000))
    return {
        "messages": len(bodies),
        "billed_ms": billed / len(bodies),
        "write_units": sum(meter.write_units.values()) / len(bodies),
        "log_bytes": PLATFORM_LOG_BYTES,
    }


def _is_sqs(operation: str) -> bool:
    return operation in {
        "SendMessage",
        "SendMessageBatch",
        "ReceiveMessage",
        "DeleteMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
        "ChangeMessageVisibilityBatch",
    }


def table_gb(template: Template, endpoint: str) -> float:
    """What the table holds now, in GB as DynamoDB sizes items (index copies included)."""
    from bench.meter import item_size  # noqa: PLC0415
    from infra.local.aws import client  # noqa: PLC0415

    dynamodb = client("dynamodb", endpoint)
    total = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=template.physical_name("Table")):
        for item in page.get("Items", []):
            size = item_size(item) + 100  # DynamoDB's 100 bytes of overhead per item
            total += size * (2 if "gsi1pk" in item else 1)
    return total / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--machines", type=int, default=10)
    parser.add_argument("--counter-seconds", type=float, default=30.0)
    parser.add_argument("--heartbeat-seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    started = time.monotonic()
    day = simulate_day(
        args.machines, args.counter_seconds, args.heartbeat_seconds, MIDNIGHT, args.seed
    )
    simulated = time.monotonic() - started
    price_table = yaml.safe_load(PRICES.read_text())
    prices = {k: float(v["usd"]) for k, v in price_table["prices"].items()}
    template = Template.load(ROOT / "template.yaml")
    moto = MotoServer()
    moto.start()
    link = AwsLink(moto.port).start()
    meter = CapacityMeter(moto.endpoint, {"ByType": ("gsi1pk", "gsi1sk")})
    link.observers.append(meter)
    try:
        meter.paused = True
        os.environ.update(LOCAL_CREDENTIALS)
        os.environ["AWS_ENDPOINT_URL"] = link.endpoint
        provision(template, link.endpoint)
        for spec in template.functions():
            os.environ.update({k: str(v) for k, v in spec.environment.items()})
        replay = Replay(
            template,
            link.endpoint,
            moto.endpoint,
            lambda: meter.overhead,
            lambda function: setattr(meter, "function", function),
        )
        replay.start()
        tokens = set_up_shop(day)
        stored_before = table_gb(template, moto.endpoint)
        replay.drain_stream(MIDNIGHT)  # the setup's own changes are not the day's
        for usage in replay.usage.values():
            usage.invocations = usage.billed_ms = usage.log_bytes = 0
        meter.reset()
        meter.paused = False
        replay_day(replay, meter, day, tokens)
        meter.paused = True
        grown = table_gb(template, moto.endpoint) - stored_before
        operations = dict(meter.requests.most_common())
        # a month's table holds on average half of what the month adds
        ours = bill_ours(replay, meter, day, prices, grown * DAYS_PER_MONTH / 2)
        functions = {
            f: {
                **asdict(u),
                "write_units": meter.by_function[f, "write"],
                "read_units": meter.by_function[f, "read"],
            }
            for f, u in replay.usage.items()
        }
        meter.paused = False
        sample = measure_naive(meter, day)
    finally:
        link.stop()
        moto.stop()
    naive_bill = bill_naive(args.machines, sample, prices)
    report(args, day, ours, naive_bill, sample, functions, operations, simulated, started)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": datetime.now(UTC).date().isoformat(),
                    "machine": machine_line(),
                    "prices_checked": price_table["checked"],
                    "machines": args.machines,
                    "counter_seconds": args.counter_seconds,
                    "heartbeat_seconds": args.heartbeat_seconds,
                    "messages_per_machine_day": len(day.published) / args.machines,
                    "ours_shop_day": asdict(ours),
                    "naive_shop_day": asdict(naive_bill),
                    "naive_sample": sample,
                    "functions": functions,
                    "operations": operations,
                    "ours_per_machine_month": per_machine_month(ours, args.machines),
                    "ours_per_shop_month_fixed": fixed_per_month(ours),
                    "ours_per_machine_month_marginal": marginal(ours, args.machines),
                    "naive_per_machine_month": per_machine_month(naive_bill, args.machines),
                },
                indent=2,
            )
        )


def per_machine_month(bill: Bill, machines: int) -> float:
    """A shop-day's dollars as dollars per machine-month."""
    return bill.total * DAYS_PER_MONTH / machines


def fixed_per_month(bill: Bill) -> float:
    """What a shop pays a month whatever its size."""
    return sum(bill.dollars.get(item, 0.0) for item in PER_SHOP) * DAYS_PER_MONTH


def marginal(bill: Bill, machines: int) -> float:
    """What each machine adds a month."""
    return (bill.total * DAYS_PER_MONTH - fixed_per_month(bill)) / machines


def machine_line() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def report(
    args: argparse.Namespace,
    day: Day,
    ours: Bill,
    naive_bill: Bill,
    sample: dict[str, float],
    functions: dict[str, Any],
    operations: dict[str, int],
    simulated: float,
    started: float,
) -> None:
    """Print the usage and dollars of both designs per machine-month."""
    scale = DAYS_PER_MONTH / args.machines
    states = Counter("state" if b'"Executing"' not in p.body else "running" for p in day.published)
    print(
        f"{args.machines} presses, two shifts (08:00-24:00), report counters every "
        f"{args.counter_seconds:g} s, heartbeat {args.heartbeat_seconds:g} s; "
        f"{len(day.published) / args.machines:.0f} messages per press-day "
        f"({states['running'] / args.machines:.0f} while running)"
    )
    print(f"{'per machine-month':<40} {'ours':>12} {'$':>8} {'naive':>14} {'$':>8}")
    for item in dict.fromkeys([*ours.usage, *naive_bill.usage]):
        print(
            f"{item:<40} {ours.usage.get(item, 0) * scale:>12,.1f} "
            f"{ours.dollars.get(item, 0) * scale:>8.4f} "
            f"{naive_bill.usage.get(item, 0) * scale:>14,.1f} "
            f"{naive_bill.dollars.get(item, 0) * scale:>8.4f}"
        )
    mine, theirs = (
        per_machine_month(ours, args.machines),
        per_machine_month(naive_bill, args.machines),
    )
    print(f"{'total $ per machine-month':<40} {'':>12} {mine:>8.3f} {'':>14} {theirs:>8.3f}")
    print(f"naive / ours: {theirs / mine:.1f}x")
    fixed, each = fixed_per_month(ours), marginal(ours, args.machines)
    sizes = ", ".join(f"{n} presses ${each + fixed / n:.3f}" for n in (5, 10, 20, 50))
    print(
        f"ours: ${fixed:.3f} a month per shop ({', '.join(PER_SHOP)}) + ${each:.3f} per "
        f"machine-month; per machine-month at {sizes}"
    )
    for name, usage in functions.items():
        if usage["invocations"]:
            print(
                f"  {name}: {usage['invocations'] * scale:,.0f} invocations per machine-month,"
                f" {usage['billed_ms'] / usage['invocations']:.1f} ms billed on average,"
                f" {usage['write_units'] * scale:,.0f} write and"
                f" {usage['read_units'] * scale:,.0f} read units"
            )
    print(
        f"naive sample: {sample['messages']:.0f} messages, {sample['billed_ms']:.1f} ms and "
        f"{sample['write_units']:.2f} write units each"
    )
    print(f"simulated the day in {simulated:.0f} s; {time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
