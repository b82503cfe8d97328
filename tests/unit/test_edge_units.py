"""Pure parts of the edge agent: request planning, report policy, the outbox bound, logs."""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from edge.config import Point
from edge.domain.counters import OdometerState
from edge.domain.reporting import Published, Reading, ReportPolicy, is_change, should_report
from edge.outbox import Outbox, Pending
from edge.outbox_writer import OutboxWriter
from edge.sources.modbus import plan_blocks
from presstrack.logs import JsonFormatter
from presstrack.wire import ItemState, MachineState

RUNNING = MachineState(item=ItemState.EXECUTING)
POLICY = ReportPolicy(counter_seconds=5, heartbeat_seconds=60, counter_sheets=100)


def test_neighbouring_registers_share_a_request_and_far_ones_do_not() -> None:
    points = {
        "counter": Point(address=0, type="uint32"),
        "state": Point(address=4),
        "job_id": Point(address=20, type="string", length=8),
        "far": Point(address=500),
        "input": Point(address=1, table="input"),
        "coil": Point(address=3, table="coil", type="bool"),
    }
    blocks = {(b.table, b.start, b.count): set(b.names) for b in plan_blocks(points)}
    assert blocks == {
        ("holding", 0, 5): {"counter", "state"},
        ("holding", 20, 8): {"job_id"},  # 15 unused registers apart: two requests
        ("holding", 500, 1): {"far"},
        ("input", 1, 1): {"input"},
        ("coil", 3, 1): {"coil"},
    }


def test_the_press_profile_is_read_in_one_request() -> None:
    from edge.config import parse_config
    from simulators.press_profile import press_machine

    machine = parse_config({"site": "s", "agent": "a", "machines": [press_machine("p", 1)]})
    assert len(plan_blocks(machine.machines[0].points())) == 1


def test_a_block_never_exceeds_125_registers() -> None:
    points = {f"p{i}": Point(address=i * 8, type="uint64") for i in range(40)}
    assert all(b.count <= 125 for b in plan_blocks(points))
    assert sum(len(b.names) for b in plan_blocks(points)) == 40


def test_state_changes_are_reported_at_once_counters_by_time_or_sheets() -> None:
    last = Published(Reading(True, RUNNING, {"counter": 1000}), at=100.0)
    stopped = Reading(True, MachineState(item=ItemState.NOT_EXECUTING), {"counter": 1000})
    assert should_report(last, stopped, 100.1, POLICY)
    assert not should_report(last, Reading(True, RUNNING, {"counter": 1050}), 101.0, POLICY)
    assert should_report(last, Reading(True, RUNNING, {"counter": 1100}), 101.0, POLICY)
    assert should_report(last, Reading(True, RUNNING, {"counter": 1001}), 105.0, POLICY)
    assert not should_report(last, Reading(True, RUNNING, {"counter": 1000}), 159.0, POLICY)
    assert should_report(last, Reading(True, RUNNING, {"counter": 1000}), 160.0, POLICY)
    assert should_report(last, Reading(False), 100.1, POLICY)


def test_state_changes_take_the_fast_lane_and_counts_the_batched_one() -> None:
    last = Published(Reading(True, RUNNING, {"counter": 1000}), at=100.0)
    stopped = Reading(True, MachineState(item=ItemState.NOT_EXECUTING), {"counter": 1000})
    assert is_change(last, stopped)
    assert is_change(last, Reading(False))
    assert is_change(last, Reading(True, RUNNING, {"counter": 1000}, job_id="J-2"))
    assert not is_change(last, Reading(True, RUNNING, {"counter": 1100}))
    assert not is_change(None, stopped)  # the first snapshot after a start is the baseline


def test_a_full_outbox_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3", max_messages=100)
    for n in range(150):

        def message(_seq: int, n: int = n) -> tuple[str, bytes]:
            return "t", str(n).encode()

        outbox.record("press-1", {"counter": OdometerState(n, n, 0.0)}, message)
    assert (outbox.depth(), outbox.dropped()) == (100, 50)
    assert outbox.pending(0, 1)[0].payload == b"50"
    assert outbox.machine("press-1").seq == 150
    outbox.close()
    reopened = Outbox(tmp_path / "outbox.sqlite3", max_messages=100)
    assert reopened.machine("press-1").odometers["counter"] == OdometerState(149, 149, 0.0)
    reopened.close()


def test_json_logs_are_one_object_a_line() -> None:
    record = logging.LogRecord(
        "edge.app", logging.WARNING, __file__, 1, "press %s: %d", ("p", 3), None
    )
    line = JsonFormatter().format(record)
    assert json.loads(line)["message"] == "press p: 3"
    assert json.loads(line)["level"] == "WARNING"


class FlakyOutbox(Outbox):
    """An outbox whose disk fails once."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.failures = 1

    def commit(self, records: list[Pending], acknowledged: list[int]) -> list[int]:
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("disk I/O error")
        return super().commit(records, acknowledged)


async def test_the_writer_commits_in_groups_and_keeps_everything_when_the_disk_fails(
    tmp_path: Path,
) -> None:
    outbox = FlakyOutbox(tmp_path / "outbox.sqlite3")
    committed: list[int] = []
    writer = OutboxWriter(outbox, lambda: committed.append(outbox.depth()))
    for n in range(5):

        def message(seq: int, n: int = n) -> tuple[str, bytes]:
            return "t", f"{seq}:{n}".encode()

        writer.submit("press-1", {"counter": OdometerState(n, n, 0.0)}, message)
    await writer.flush()  # the disk fails: nothing is lost, nothing committed
    assert (outbox.depth(), committed) == (0, [])
    await writer.flush()
    assert committed == [5]  # all five in one transaction
    assert [r.payload for r in outbox.pending(0, 10)] == [b"1:0", b"2:1", b"3:2", b"4:3", b"5:4"]
    writer.acknowledge([r.id for r in outbox.pending(0, 2)])
    await writer.flush()
    assert outbox.depth() == 3
    outbox.close()
