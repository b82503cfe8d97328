"""Orders and the route of stages they follow: pure rules, time is always passed in."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

RATE_WINDOW_S = 300.0  # the observed rate forgets with this time constant
RATE_GAP_S = 120.0  # a longer pause between counts (a stop, a night) says nothing about speed


class StageKind(StrEnum):
    """Who moves a stage forward."""

    MACHINE = "machine"
    MANUAL = "manual"


class StageState(StrEnum):
    """Where a stage stands."""

    PENDING = "pending"
    ACTIVE = "active"
    DONE = "done"
    DELAYED = "delayed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Stage:
    """One step of an order's route."""

    order_no: str
    code: str
    name: str
    kind: StageKind
    position: int
    planned: int | None = None
    good: int = 0
    waste: int = 0
    state: StageState = StageState.PENDING
    machine: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    by: str | None = None  # who started or finished it, for manual stages
    note: str | None = None
    delay_reason: str | None = None  # while delayed: why, for the customer too
    expected_recovery: datetime | None = None
    delay_action: str | None = None  # what the shop is doing about it
    standard_hours: float = 0.0
    key_node: bool = False
    rate: float = 0.0  # good sheets per hour while running, smoothed
    rate_at: datetime | None = None  # when the machine last counted for this stage
    version: int = 0

    def delay(
        self,
        at: datetime,
        by: str,
        reason: str,
        expected_recovery: datetime | None = None,
        action: str | None = None,
    ) -> Stage:
        """The shop reports a delay on an unfinished stage; the customer sees the reason."""
        if self.state in (StageState.DONE, StageState.SKIPPED):
            return self
        return replace(
            self,
            state=StageState.DELAYED,
            delay_reason=reason,
            expected_recovery=expected_recovery,
            delay_action=action,
            by=by,
            note=f"delayed at {at:%H:%M}",
        )

    def resolve(self, at: datetime, by: str) -> Stage:
        """The delay is over: the stage carries on where it was."""
        if self.state is not StageState.DELAYED:
            return self
        state = StageState.ACTIVE if self.started or self.good else StageState.PENDING
        return replace(
            self,
            state=state,
            delay_reason=None,
            expected_recovery=None,
            delay_action=None,
            by=by,
            note=f"resumed at {at:%H:%M}",
        )

    def start(self, at: datetime, by: str) -> Stage:
        """An operator starts the stage; starting a started stage changes nothing."""
        if self.state is not StageState.PENDING:
            return self
        return replace(self, state=StageState.ACTIVE, started=at, by=by)

    def complete(self, at: datetime, by: str, note: str | None = None) -> Stage:
        """An operator says the stage is done (a machine stage too: short runs, overs)."""
        if self.state is StageState.DONE:
            return self
        return replace(
            self, state=StageState.DONE, started=self.started or at, ended=at, by=by, note=note
        )

    def credit(self, sheets: int, at: datetime, waste: int = 0) -> Stage:
        """Add counted sheets (`waste` of them spoiled); the stage starts with its first sheet
        and is done when its good sheets reach the plan."""
        if sheets <= 0:
            return self
        good = self.good + sheets - waste
        state = StageState.ACTIVE if self.state is StageState.PENDING else self.state
        ended = self.ended
        working = state in (StageState.ACTIVE, StageState.DELAYED)
        if self.planned is not None and good >= self.planned and working:
            state, ended = StageState.DONE, at
        return replace(
            self,
            good=good,
            waste=self.waste + waste,
            state=state,
            started=self.started or at,
            ended=ended,
            rate=self._rate(sheets - waste, at),
            rate_at=max(at, self.rate_at) if self.rate_at else at,
        )

    def _rate(self, good: int, at: datetime) -> float:
        """Fold the sheets counted since the last count into the smoothed rate; counts after a
        long pause or out of order leave it alone."""
        if self.rate_at is None:
            return self.rate
        seconds = (at - self.rate_at).total_seconds()
        if not 0 < seconds <= RATE_GAP_S:
            return self.rate
        now = good * 3600 / seconds
        if self.rate <= 0:
            return now
        return self.rate + (1 - math.exp(-seconds / RATE_WINDOW_S)) * (now - self.rate)


@dataclass(frozen=True)
class Order:
    """A customer's print order."""

    order_no: str
    customer: str
    product: str
    quantity: int
    due: date
    created: datetime
    cancelled: datetime | None = None
    cancel_reason: str | None = None
    phone: str | None = None  # for lookup and SMS; never shown publicly
    version: int = 0

    def cancel(self, at: datetime, reason: str, stages: list[Stage]) -> tuple[Order, list[Stage]]:
        """Cancel the order: stages not done are skipped. Cancelling twice changes nothing."""
        if self.cancelled is not None:
            return self, []
        skipped = [
            replace(s, state=StageState.SKIPPED, note=reason)
            for s in stages
            if s.state not in (StageState.DONE, StageState.SKIPPED)
        ]
        return replace(self, cancelled=at, cancel_reason=reason), skipped

    def change(
        self, stages: list[Stage], quantity: int | None = None, due: date | None = None
    ) -> tuple[Order, list[Stage]]:
        """New quantity or due date from the ERP; unfinished machine stages follow the quantity."""
        order = replace(self, quantity=quantity or self.quantity, due=due or self.due)
        changed = []
        if quantity is not None and quantity != self.quantity:
            changed = [
                replace(s, planned=quantity)
                for s in stages
                if s.kind is StageKind.MACHINE and s.state is not StageState.DONE
            ]
        return order, changed


@dataclass(frozen=True)
class StagePlan:
    """A stage as a route template or the ERP describes it."""

    code: str
    name: str
    kind: StageKind
    planned: int | None = None
    standard_hours: float = 0.0  # for stages no machine counts; calibrated by history later
    key_node: bool = False  # customers who subscribe hear about it


def _step(code: str, name: str, hours: float, key: bool = False) -> StagePlan:
    return StagePlan(code, name, StageKind.MANUAL, None, hours, key)


#: Routes per product type: the stages a job of that kind goes through, with standard hours.
ROUTE_TEMPLATES: dict[str, tuple[str, list[StagePlan]]] = {
    "sheet_job": (
        "Sheet-fed job",
        [
            _step("design", "Design file confirmed", 2),
            _step("ctp", "CTP plates", 1),
            StagePlan("printing", "Printing", StageKind.MACHINE, None, 0, True),
            _step("post_press", "Post-press", 4),
            _step("qc", "Quality check", 1),
            _step("shipped", "Shipped", 0, True),
        ],
    ),
    "brochure": (
        "Brochure",
        [
            _step("design", "Design file confirmed", 2),
            _step("ctp", "CTP plates", 1),
            StagePlan("printing", "Printing", StageKind.MACHINE, None, 0, True),
            _step("lamination", "Lamination", 2),
            _step("folding_gluing", "Folding", 2),
            _step("binding", "Binding", 4),
            _step("qc", "Quality check", 1),
            _step("shipped", "Shipped", 0, True),
        ],
    ),
    "gift_box": (
        "Gift box",
        [
            _step("design", "Design file confirmed", 4),
            _step("ctp", "CTP plates", 1),
            StagePlan("printing", "Printing", StageKind.MACHINE, None, 0, True),
            _step("lamination", "Lamination", 3),
            _step("hot_foil", "Hot-foil stamping", 4),
            _step("die_cutting", "Die-cutting", 4),
            _step("folding_gluing", "Folding/gluing", 6),
            _step("qc", "Quality check", 2),
            _step("shipped", "Shipped", 0, True),
        ],
    ),
    "picture_book": (
        "Picture book",
        [
            _step("design", "Design file confirmed", 4),
            _step("ctp", "CTP plates", 1),
            StagePlan("printing", "Printing", StageKind.MACHINE, None, 0, True),
            _step("lamination", "Lamination", 2),
            _step("binding", "Binding", 8),
            _step("qc", "Quality check", 2),
            _step("shipped", "Shipped", 0, True),
        ],
    ),
}


def route_for(product_type: str, quantity: int) -> list[StagePlan]:
    """A template's stages, the machine stages planned for the order's quantity."""
    _, plans = ROUTE_TEMPLATES[product_type]
    return [replace(p, planned=quantity) if p.kind is StageKind.MACHINE else p for p in plans]


def default_route(quantity: int) -> list[StagePlan]:
    """The usual route of a sheet-fed job when the ERP does not send one."""
    return route_for("sheet_job", quantity)


def plan_stages(order_no: str, route: list[StagePlan]) -> list[Stage]:
    """Stages of a new order, in route order."""
    return [
        Stage(
            order_no,
            p.code,
            p.name,
            p.kind,
            position,
            p.planned,
            standard_hours=p.standard_hours,
            key_node=p.key_node,
        )
        for position, p in enumerate(route)
    ]
