"""Applying snapshots: exactly the truth under duplicates and reordering."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cloud.domain.machines import Machine, apply_snapshot
from cloud.domain.orders import Order, StageState
from cloud.service.ingest import ingest_batch, ingest_body, ingest_snapshot
from cloud.service.orders import assign_stage, create_order, register_machine, track
from presstrack.wire import Counters, CounterUnit, ItemState, MachineSnapshot, MachineState
from tests.fakes import MemoryStore

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def snap(seq: int, lifetime: int) -> MachineSnapshot:
    return MachineSnapshot(
        site="shop",
        machine="press-1",
        agent="edge-1",
        seq=seq,
        ts=T0 + timedelta(seconds=seq),
        state=MachineState(item=ItemState.EXECUTING),
        counters=Counters(lifetime=lifetime),
    )


def order_on_press(store: MemoryStore, quantity: int = 5000) -> str:
    order = Order("A-1", "Customer", "Brochure", quantity, date(2026, 12, 10), T0)
    token, created = create_order(store, order, None)
    assert created
    ingest_snapshot(store, snap(0, 1_000))  # the machine's baseline
    assign_stage(store, "A-1", "printing", "shop/press-1")
    return token


def test_duplicate_and_older_snapshots_change_nothing() -> None:
    current = Machine("shop", "press-1", seq=5, lifetime=500, version=3)
    assert apply_snapshot(current, snap(5, 500)) is None
    assert apply_snapshot(current, snap(4, 400)) is None


def test_sheets_without_a_job_are_kept_as_unattributed() -> None:
    store = MemoryStore()
    ingest_snapshot(store, snap(1, 100))
    ingest_snapshot(store, snap(2, 130))
    machine = store.get_machine("shop/press-1")
    assert machine is not None
    assert machine.unattributed == 30


@given(
    increments=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=40),
    data=st.data(),
)
def test_stage_progress_equals_the_truth_under_any_duplication_and_order(
    increments: list[int], data: st.DataObject
) -> None:
    """GIVEN snapshots delivered duplicated and shuffled, THEN printed equals the press's count."""
    store = MemoryStore()
    token = order_on_press(store)
    lifetimes = [1_000]
    for added in increments:
        lifetimes.append(lifetimes[-1] + added)
    snapshots = [snap(seq, life) for seq, life in enumerate(lifetimes) if seq > 0]
    deliveries = data.draw(st.lists(st.sampled_from(snapshots), max_size=len(snapshots) * 2))
    deliveries += snapshots  # at-least-once: every snapshot arrives at least once
    deliveries = data.draw(st.permutations(deliveries))
    for snapshot in deliveries:
        ingest_snapshot(store, snapshot)
    view = track(store, token)
    assert view.printed == lifetimes[-1] - 1_000
    printing = next(s for s in view.stages if s.code == "printing")
    assert printing.state is (
        StageState.DONE
        if view.printed >= 5000
        else StageState.ACTIVE
        if view.printed
        else StageState.PENDING
    )


def test_malformed_message_is_quarantined_with_its_reason() -> None:
    store = MemoryStore()
    assert ingest_body(store, json.dumps({"v": 1, "seq": "x"}), "m-1") == 0
    reason, body, message_id = store.quarantined[0]
    assert "seq" in reason
    assert "site" in reason
    assert message_id == "m-1"
    assert body.startswith("{")


def test_good_and_waste_sheets_are_kept_apart_when_the_machine_says_which() -> None:
    store = MemoryStore()
    order_on_press(store)

    def counted(seq: int, lifetime: int, waste: int) -> MachineSnapshot:
        return snap(seq, lifetime).model_copy(
            update={"counters": Counters(lifetime=lifetime, waste=waste)}
        )

    ingest_snapshot(store, counted(1, 1_000, 40))  # the machine's own waste odometer starts
    for snapshot in [counted(3, 1_500, 70), counted(2, 1_200, 50), counted(3, 1_500, 70)]:
        ingest_snapshot(store, snapshot)
    stage = store.get_stage("A-1", "printing")
    assert stage is not None
    assert (stage.good, stage.waste) == (470, 30)


def test_a_job_id_shown_at_the_press_moves_its_sheets_to_that_order() -> None:
    store = MemoryStore()
    for order_no in ("J-1", "J-2"):
        create_order(store, Order(order_no, "C", "Flyer", 500, date(2026, 12, 10), T0), None)

    def at_press(seq: int, lifetime: int, job: str | None) -> MachineSnapshot:
        return snap(seq, lifetime).model_copy(update={"job_id": job})

    deliveries = [
        at_press(1, 10_000, None),
        at_press(2, 10_000, "J-1"),
        at_press(3, 10_300, "J-1"),
        at_press(4, 10_320, "J-2"),
        at_press(5, 10_500, "J-2"),
    ]
    for snapshot in [*deliveries, *reversed(deliveries)]:  # and again, backwards
        ingest_snapshot(store, snapshot)
    first, second = store.get_stage("J-1", "printing"), store.get_stage("J-2", "printing")
    assert first is not None
    assert second is not None
    assert (first.good, second.good) == (300, 200)
    assert (first.machine, second.machine) == ("shop/press-1", "shop/press-1")
    machine = store.get_machine("shop/press-1")
    assert machine is not None
    assert machine.job is not None
    assert machine.job.order_no == "J-2"


@given(
    increments=st.lists(st.integers(min_value=0, max_value=301), min_size=1, max_size=30),
    data=st.data(),
)
def test_a_perfecting_press_counts_two_impressions_a_sheet_exactly(
    increments: list[int], data: st.DataObject
) -> None:
    """GIVEN impressions delivered in any order, THEN sheets = impressions // 2, none lost."""
    store = MemoryStore()
    register_machine(store, "shop/press-1", "Perfector", "press", 15_000, 2)
    order_on_press(store)
    impressions = [1_000]
    for added in increments:
        impressions.append(impressions[-1] + added)
    snapshots = [
        snap(seq, total).model_copy(
            update={"counters": Counters(lifetime=total, unit=CounterUnit.IMPRESSION)}
        )
        for seq, total in enumerate(impressions)
        if seq > 0
    ]
    for snapshot in data.draw(st.permutations(snapshots + snapshots[:3])):
        ingest_snapshot(store, snapshot)
    stage = store.get_stage("A-1", "printing")
    assert stage is not None
    assert stage.good == (impressions[-1] - 1_000) // 2


class CountingStore(MemoryStore):
    """Counts the machine writes, and fails every write of one machine when told to."""

    def __init__(self, broken: str | None = None) -> None:
        super().__init__()
        self.writes = 0
        self.broken = broken

    def save_machine(self, machine: Machine, stage: Any = None) -> None:
        if machine.key == self.broken:
            raise RuntimeError("throttled")
        self.writes += 1
        super().save_machine(machine, stage)


def body(snapshot: MachineSnapshot) -> str:
    return snapshot.model_dump_json()


@given(
    increments=st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=30),
    data=st.data(),
)
def test_a_batch_writes_each_machine_once_and_counts_exactly(
    increments: list[int], data: st.DataObject
) -> None:
    """GIVEN a batch of one press's snapshots, duplicated and shuffled, THEN one write, and
    printed equals the press's count."""
    store = CountingStore()
    token = order_on_press(store)
    lifetimes = [1_000]
    for added in increments:
        lifetimes.append(lifetimes[-1] + added)
    snapshots = [snap(seq, life) for seq, life in enumerate(lifetimes) if seq > 0]
    batch = data.draw(st.permutations(snapshots + snapshots[: len(snapshots) // 2]))
    store.writes = 0
    failed = ingest_batch(store, [(f"m{n}", body(s)) for n, s in enumerate(batch)])
    assert failed == []
    assert store.writes <= 1
    assert track(store, token).printed == lifetimes[-1] - 1_000


def test_a_batch_keeps_the_good_when_one_machine_fails() -> None:
    store = CountingStore(broken="shop/press-2")
    token = order_on_press(store)
    other = [s.model_copy(update={"machine": "press-2"}) for s in (snap(1, 10), snap(2, 20))]
    messages = [
        ("a", body(snap(1, 1_100))),
        ("b", body(other[0])),
        ("c", '{"v": 1, "seq": "x"}'),
        ("d", body(snap(2, 1_250))),
        ("e", body(other[1])),
    ]
    assert ingest_batch(store, messages) == ["b", "e"]  # only the failing machine's messages
    assert track(store, token).printed == 250
    assert store.quarantined  # the malformed one kept with its reason


def test_a_batch_that_moves_the_press_to_the_next_order_credits_each_order() -> None:
    store = CountingStore()
    first = order_on_press(store)
    second, _ = create_order(
        store, Order("B-2", "Customer", "Leaflet", 5000, date(2026, 12, 10), T0), None
    )
    keyed_in = snap(3, 1_500).model_copy(update={"job_id": "B-2"})
    batch = [snap(1, 1_200), snap(2, 1_300), keyed_in, snap(4, 1_800)]
    store.writes = 0
    assert ingest_batch(store, [(f"m{n}", body(s)) for n, s in enumerate(batch)]) == []
    assert track(store, first).printed == 300
    assert track(store, second).printed == 200 + 300  # the job id came with sheets 1300-1500
    assert store.writes == 2
