"""Orders and the route of stages they follow: pure rules, time is always passed in."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum


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
    version: int = 0

    def delay(
        self, at: datetime, by: str, reason: str, expected_recovery: datetime | None = None
    ) -> Stage:
        """The shop reports a delay on an unfinished stage; the customer sees the reason."""
        if self.state in (StageState.DONE, StageState.SKIPPED):
            return self
        return replace(
            self,
            state=StageState.DELAYED,
            delay_reason=reason,
            expected_recovery=expected_recovery,
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
        )


@dataclass(frozen=True)
class Order:
    """A customer's print order."""

    order_no: str
    customer: str
    product: str
    quantity: int
    due: date
    created: datetime


@dataclass(frozen=True)
class StagePlan:
    """A stage as a route template or the ERP describes it."""

    code: str
    name: str
    kind: StageKind
    planned: int | None = None


def default_route(quantity: int) -> list[StagePlan]:
    """The usual route of a sheet-fed job when the ERP does not send one."""
    return [
        StagePlan("design", "Design file confirmed", StageKind.MANUAL),
        StagePlan("ctp", "CTP plates", StageKind.MANUAL),
        StagePlan("printing", "Printing", StageKind.MACHINE, quantity),
        StagePlan("post_press", "Post-press", StageKind.MANUAL),
        StagePlan("qc", "Quality check", StageKind.MANUAL),
        StagePlan("shipped", "Shipped", StageKind.MANUAL),
    ]


def plan_stages(order_no: str, route: list[StagePlan]) -> list[Stage]:
    """Stages of a new order, in route order."""
    return [
        Stage(order_no, p.code, p.name, p.kind, position, p.planned)
        for position, p in enumerate(route)
    ]
