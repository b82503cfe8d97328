"""The command line and the template the local runner reads."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infra.local.stack import TEMPLATE
from infra.local.template import Template, matches
from presstrack.cli import build_parser

SUBCOMMANDS = [
    [],
    ["demo"],
    ["local"],
    ["edge"],
    ["edge", "run"],
    ["edge", "check"],
    ["sim"],
    ["sim", "press"],
    ["sim", "finisher"],
    ["edge", "provision"],
    ["apikey", "create"],
    ["schema"],
]


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=lambda w: " ".join(w) or "presstrack")
def test_every_command_has_help(words: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        build_parser().parse_args([*words, "--help"])
    assert done.value.code == 0
    assert "usage: presstrack" in capsys.readouterr().out


def test_the_installed_command_answers_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "presstrack", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "demo" in done.stdout
    assert "edge" in done.stdout


def test_template_wires_rule_queue_function_and_routes() -> None:
    template = Template.load(TEMPLATE)
    rules = {r.topic_filter: r for r in template.topic_rules()}
    assert {f: r.queue for f, r in rules.items()} == {
        "presstrack/v1/+/+/snapshot": template.ref("SnapshotQueue"),
        "presstrack/v1/+/+/change": template.ref("ChangeQueue"),
        "presstrack/v1/+/agents/+/status": template.ref("ChangeQueue"),
    }
    functions = {f.logical_id: f for f in template.functions()}
    ingest = functions["IngestFunction"]
    batched, fast = ingest.sqs_events
    assert (batched.queue, batched.batch_size, batched.window_seconds) == ("SnapshotQueue", 500, 1)
    assert (fast.queue, fast.batch_size, fast.window_seconds) == ("ChangeQueue", 10, 0)
    assert batched.report_failures
    assert fast.report_failures
    assert ingest.environment["TABLE_NAME"] == template.physical_name("Table")
    routes = {(r.method, r.path) for r in functions["ApiFunction"].routes}
    assert ("GET", "/api/track/{token}") in routes
    assert ("GET", "/api/openapi.json") in routes
    detector = functions["DetectorFunction"]
    assert [s.seconds for s in detector.schedules] == [60]
    assert detector.sqs_events[0].queue == "FaultCheckQueue"
    notifier = functions["NotifierFunction"]
    assert notifier.streams[0].table == "Table"
    assert notifier.streams[0].report_failures
    (incident_or_notice, message_or_stage) = notifier.streams[0].filters
    change = {"dynamodb": {"Keys": {"pk": {"S": "NOTICE#x"}, "sk": {"S": "NOTICE"}}}}
    assert matches(incident_or_notice, change)
    counting = {"dynamodb": {"Keys": {"pk": {"S": "MACHINE#s/p"}, "sk": {"S": "MACHINE"}}}}
    assert not any(matches(f, counting) for f in notifier.streams[0].filters)
    message = {"dynamodb": {"Keys": {"pk": {"S": "ORDER#A"}, "sk": {"S": "MSG#2026#a"}}}}
    assert matches(message_or_stage, message)
