"""The `presstrack` command: demo, local stack, edge agent and machine simulators."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from presstrack.logs import setup_logging

DEFAULT_STATE = Path("var")


def _demo(args: argparse.Namespace) -> int:
    from infra.demo import DemoOptions, run_demo

    run_demo(
        DemoOptions(
            state_dir=(args.state_dir / "demo").resolve(),
            mqtt_url=args.mqtt_url,
            http_port=args.port,
            sheets=args.sheets,
            sheets_per_hour=args.sheets_per_hour,
            duration=args.duration,
            fault_after=args.fault_after or None,
            fault_for=args.fault_for,
        )
    )
    return 0


def _local(args: argparse.Namespace) -> int:
    from infra.broker import ensure_broker
    from infra.local.stack import LocalStack

    url, broker = ensure_broker(args.mqtt_url, args.state_dir / "local" / "mosquitto")
    stack = LocalStack(mqtt_url=url, http_port=args.port)
    stack.start()
    print(f"API {stack.base_url}  AWS endpoint {stack.endpoint}  broker {url}", flush=True)
    try:
        _wait_for_signal()
    finally:
        stack.stop()
        if broker is not None:
            broker.stop()
    return 0


def _wait_for_signal() -> None:
    stop = False

    def _handler(_sig: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _handler)
    with contextlib.suppress(KeyboardInterrupt):
        while not stop:
            time.sleep(0.5)


def _run_until_signal(start: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a coroutine (created inside the loop) until SIGINT/SIGTERM, then cancel it."""

    async def main() -> None:
        task = asyncio.ensure_future(start())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())


def _load_edge_config(path: Path) -> object:
    from edge.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from error


def _edge_run(args: argparse.Namespace) -> int:
    from edge.app import EdgeAgent
    from edge.config import EdgeConfig

    config = _load_edge_config(args.config)
    assert isinstance(config, EdgeConfig)
    setup_logging(args.verbose, json_lines=config.log_format == "json")
    _run_until_signal(lambda: EdgeAgent(config).run())
    return 0


def _edge_check(args: argparse.Namespace) -> int:
    from edge.check import check_machines
    from edge.config import EdgeConfig

    config = _load_edge_config(args.config)
    assert isinstance(config, EdgeConfig)
    return asyncio.run(check_machines(config, sys.stdout))


def _edge_provision(args: argparse.Namespace) -> int:
    from edge.config import EdgeConfig
    from edge.provision import config_snippet, provision

    config = _load_edge_config(args.config)
    assert isinstance(config, EdgeConfig)
    result = provision(config, args.out, endpoint_url=args.endpoint_url)
    print(
        f"thing {result.thing}, policy {result.policy}\ncertificate {result.certificate}\n"
        f"private key {result.private_key}\n\n{config_snippet(result, config)}"
    )
    return 0


def _sim_finisher(args: argparse.Namespace) -> int:
    from simulators.finisher_server import FinisherOptions, FinisherSimulator

    options = FinisherOptions(
        host=args.host,
        port=args.port,
        name=args.name,
        pieces_per_hour=args.pieces_per_hour,
        lifetime=args.lifetime,
        start=args.start,
        job_pieces=args.job_pieces,
        truth=args.truth,
        certificate=args.certificate,
        private_key=args.private_key,
        secure_only=args.secure_only,
    )
    _run_until_signal(lambda: FinisherSimulator(options).run())
    return 0


def _sim_press(args: argparse.Namespace) -> int:
    from simulators.press_server import PressOptions, PressSimulator

    options = PressOptions(
        host=args.host,
        port=args.port,
        unit=args.unit,
        sheets_per_hour=args.sheets_per_hour,
        lifetime=args.lifetime,
        start=args.start,
        job_sheets=args.job_sheets,
        truth=args.truth,
        fault_after=args.fault_after,
        fault_for=args.fault_for,
        waste_every=args.waste_every,
        job_id=args.job_id,
    )
    _run_until_signal(lambda: PressSimulator(options).run())
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    import boto3

    from cloud.adapters.dynamodb import DynamoStore
    from cloud.domain.keys import Role
    from cloud.service.keys import issue_key

    store = DynamoStore(args.table, boto3.client("dynamodb", endpoint_url=args.endpoint_url))
    secret = issue_key(store, args.name, Role(args.role), datetime.now(UTC))
    print(f"{secret}\n(shown once: only its SHA-256 digest is stored)")
    return 0


def _redrive(args: argparse.Namespace) -> int:
    import boto3

    from presstrack.redrive import RedriveError, redrive

    sqs = boto3.client("sqs", endpoint_url=args.endpoint_url)
    try:
        moved = redrive(sqs, args.source, args.target, args.limit)
    except RedriveError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"moved {moved} messages from {args.source} to {args.target}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from presstrack.wire import dump_schemas

    if args.openapi:
        from cloud.handlers.api import openapi_json

        print(openapi_json())
    else:
        print(dump_schemas(), end="")
    return 0


def _add_local_commands(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run everything locally and print the customer link")
    demo.add_argument("--mqtt-url", help="use this broker instead of starting Mosquitto")
    demo.add_argument("--port", type=int, default=8000, help="HTTP port of the API (8000)")
    demo.add_argument("--duration", type=float, help="stop after this many seconds")
    demo.add_argument("--sheets", type=int, default=5000, help="sheets in the demo order")
    demo.add_argument("--sheets-per-hour", type=float, default=30_000, help="press speed")
    demo.add_argument("--state-dir", type=Path, default=DEFAULT_STATE, help="where data goes")
    demo.add_argument(
        "--fault-after",
        type=float,
        default=40.0,
        help="the press jams after N seconds, to show the alert path (0: never; default 40)",
    )
    demo.add_argument("--fault-for", type=float, default=20.0, help="the jam lasts N seconds")
    demo.set_defaults(run=_demo)

    local = commands.add_parser("local", help="run template.yaml locally (moto + Mosquitto)")
    local.add_argument("--mqtt-url", help="use this broker instead of starting Mosquitto")
    local.add_argument("--port", type=int, default=8000, help="HTTP port of the API (8000)")
    local.add_argument("--state-dir", type=Path, default=DEFAULT_STATE, help="where data goes")
    local.set_defaults(run=_local)

    keys = commands.add_parser("apikey", help="API keys for the ERP, operators and staff")
    create = keys.add_subparsers(dest="apikey_command", required=True, metavar="COMMAND")
    new = create.add_parser("create", help="issue a key (printed once, stored hashed)")
    new.add_argument("--name", required=True, help="who the key is for, e.g. 'ERP'")
    new.add_argument("--role", choices=["erp", "operator", "staff"], default="erp")
    new.add_argument("--table", required=True, help="the stack's table (output TableName)")
    new.add_argument("--endpoint-url", help="AWS endpoint (for a local stack)")
    new.set_defaults(run=_apikey_create)

    again = commands.add_parser(
        "redrive", help="move dead-lettered snapshots back to their queue (ingest is idempotent)"
    )
    again.add_argument(
        "--from",
        dest="source",
        required=True,
        help="the dead-letter queue's URL (stack output SnapshotDeadLetterQueueUrl)",
    )
    again.add_argument(
        "--to", dest="target", required=True, help="the queue's URL (output SnapshotQueueUrl)"
    )
    again.add_argument("--limit", type=int, help="move at most this many")
    again.add_argument("--endpoint-url", help="AWS endpoint (for a local stack)")
    again.set_defaults(run=_redrive)

    schema = commands.add_parser("schema", help="print the wire JSON Schema (or OpenAPI)")
    schema.add_argument("--openapi", action="store_true", help="print the OpenAPI document")
    schema.set_defaults(run=_schema)


def _add_edge_commands(commands: Any) -> None:
    edge = commands.add_parser("edge", help="the shop-floor agent").add_subparsers(
        dest="edge_command", required=True, metavar="COMMAND"
    )
    run = edge.add_parser("run", help="poll machines and publish snapshots")
    run.add_argument("config", type=Path, help="YAML config file (see docs/edge.md)")
    run.set_defaults(run=_edge_run)
    check = edge.add_parser("check", help="validate a config and read every machine once")
    check.add_argument("config", type=Path, help="YAML config file (see docs/edge.md)")
    check.set_defaults(run=_edge_check)
    prov = edge.add_parser("provision", help="create the AWS IoT thing, certificate and policy")
    prov.add_argument("config", type=Path, help="YAML config file (see docs/edge.md)")
    prov.add_argument("--out", type=Path, default=Path("certs"), help="where to write the keys")
    prov.add_argument("--endpoint-url", help="AWS endpoint (for a test stack)")
    prov.set_defaults(run=_edge_provision)


def _add_sim_commands(commands: Any) -> None:
    sim = commands.add_parser("sim", help="machine simulators").add_subparsers(
        dest="sim_command", required=True, metavar="MACHINE"
    )
    press = sim.add_parser("press", help="a sheet-fed press on Modbus TCP")
    press.add_argument("--host", default="127.0.0.1", help="address to listen on")
    press.add_argument("--port", type=int, default=5020, help="Modbus TCP port (5020)")
    press.add_argument("--unit", type=int, default=1, help="Modbus unit id (1)")
    press.add_argument("--sheets-per-hour", type=float, default=12_000, help="speed (12000)")
    press.add_argument("--lifetime", type=int, default=1_000_000, help="starting lifetime count")
    press.add_argument("--start", action="store_true", help="start running at once")
    press.add_argument("--job-sheets", type=int, help="stop when the job counter reaches this")
    press.add_argument("--truth", type=Path, help="write ground truth JSON here")
    press.add_argument("--fault-after", type=float, help="inject a fault after N seconds")
    press.add_argument("--fault-for", type=float, default=10.0, help="fault lasts N seconds")
    press.add_argument("--waste-every", type=int, default=0, help="every Nth sheet is waste")
    press.add_argument("--job-id", default="", help="job id shown in the job id registers")
    press.set_defaults(run=_sim_press)

    fin = sim.add_parser("finisher", help="a laminator / foil stamper / folder-gluer on OPC UA")
    fin.add_argument("--host", default="127.0.0.1", help="address to listen on")
    fin.add_argument("--port", type=int, default=4840, help="OPC UA port (4840)")
    fin.add_argument("--name", default="Laminator", help="object name under Objects")
    fin.add_argument("--pieces-per-hour", type=float, default=6_000, help="speed (6000)")
    fin.add_argument("--lifetime", type=int, default=0, help="starting lifetime count")
    fin.add_argument("--start", action="store_true", help="start running at once")
    fin.add_argument("--job-pieces", type=int, help="stop when the job counter reaches this")
    fin.add_argument("--truth", type=Path, help="write ground truth JSON here")
    fin.add_argument("--certificate", type=Path, help="server certificate (DER) for security")
    fin.add_argument("--private-key", type=Path, help="server private key (PEM)")
    fin.add_argument("--secure-only", action="store_true", help="refuse unsecured sessions")
    fin.set_defaults(run=_sim_finisher)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="presstrack", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_local_commands(commands)
    _add_edge_commands(commands)
    _add_sim_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `presstrack` command."""
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    result: int = args.run(args)
    return result
