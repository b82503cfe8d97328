"""What the customer is told a stage's machine is doing: the OPC 40001-1 / JDF state in words."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from cloud.domain.machines import Activity, JobRef, Machine, activity
from cloud.domain.orders import Order, Stage, StageState, default_route, plan_stages
from cloud.domain.tracking import tracking_view
from cloud.service.tracking import working_on
from presstrack.wire import ItemState, MachineState, OperationMode, StatusDetail

Item, Mode, Detail = ItemState, OperationMode, StatusDetail


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            MachineState(item=Item.EXECUTING, mode=Mode.PROCESSING, detail=Detail.GOOD),
            Activity.RUNNING,
        ),
        (
            MachineState(item=Item.EXECUTING, mode=Mode.PROCESSING, detail=Detail.WASTE),
            Activity.RUNNING,
        ),
        (
            MachineState(item=Item.EXECUTING, mode=Mode.SETUP, detail=Detail.FORM_CHANGE),
            Activity.MAKEREADY,
        ),
        (MachineState(item=Item.NOT_EXECUTING, detail=Detail.BLANKET_CHANGE), Activity.MAKEREADY),
        (MachineState(item=Item.EXECUTING, detail=Detail.WASH_UP), Activity.WASHUP),
        (MachineState(item=Item.NOT_EXECUTING, mode=Mode.PROCESSING), Activity.STOPPED),
        # a fault reads as a pause; only a lasting one becomes a delay with its reason
        (MachineState(item=Item.OUT_OF_SERVICE, detail=Detail.BREAKDOWN), Activity.STOPPED),
        (
            MachineState(item=Item.EXECUTING, detail=Detail.PAPER_JAM, fault_code=101),
            Activity.STOPPED,
        ),
        (MachineState(item=Item.OUT_OF_SERVICE, mode=Mode.MAINTENANCE), Activity.MAINTENANCE),
        (MachineState(item=Item.NOT_AVAILABLE), Activity.OFFLINE),
        (None, Activity.OFFLINE),
    ],
)
def test_machine_states_in_the_customers_words(
    state: MachineState | None, expected: Activity
) -> None:
    assert activity(True, state) is expected


def test_a_machine_that_does_not_answer_is_offline_whatever_it_last_said() -> None:
    running = MachineState(item=Item.EXECUTING, mode=Mode.PROCESSING, detail=Detail.GOOD)
    assert activity(False, running) is Activity.OFFLINE


ORDER = Order("A-1", "C", "Leaflet", 5000, date(2026, 12, 9), datetime(2026, 12, 3, tzinfo=UTC))
RUNNING = MachineState(item=Item.EXECUTING, mode=Mode.PROCESSING, detail=Detail.GOOD)


def _stages(printing: StageState = StageState.ACTIVE) -> list[Stage]:
    """The order's route with printing on shop/press-1."""
    return [
        replace(s, machine="shop/press-1", state=printing) if s.code == "printing" else s
        for s in plan_stages("A-1", default_route(5000))
    ]


def test_only_the_stage_the_machine_is_working_on_says_what_it_does() -> None:
    # GIVEN a press assigned to this order's printing stage, working on it
    stages = _stages()
    here = Machine("shop", "press-1", state=RUNNING, job=JobRef("A-1", "printing"))
    # WHEN the view is built
    doing = working_on("A-1", stages, {"shop/press-1": here})
    view = tracking_view(ORDER, stages, machines=doing)
    # THEN printing says the machine runs and no other stage says anything
    said = {s.code: s.machine_state for s in view.stages}
    assert said.pop("printing") is Activity.RUNNING
    assert set(said.values()) == {None}


def test_a_machine_still_on_another_orders_job_says_nothing_about_this_one() -> None:
    elsewhere = Machine("shop", "press-1", state=RUNNING, job=JobRef("B-9", "printing"))
    assert working_on("A-1", _stages(), {"shop/press-1": elsewhere}) == {}


def test_a_finished_stage_no_longer_shows_its_machine() -> None:
    view = tracking_view(ORDER, _stages(StageState.DONE), machines={"printing": Activity.RUNNING})
    assert next(s for s in view.stages if s.code == "printing").machine_state is None
