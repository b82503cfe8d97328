"""Use cases of the order record: create, assign a stage to a machine, track."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from typing import Literal, TypeVar

from cloud.domain.links import TrackingLink
from cloud.domain.machines import JobRef, Machine
from cloud.domain.orders import Order, Stage, StageKind, StagePlan, default_route, plan_stages
from cloud.domain.tracking import TrackingView, tracking_view
from cloud.service.ports import AlreadyExistsError, ConflictError, NotFoundError, Store

ATTEMPTS = 8
T = TypeVar("T")


class InvalidRequestError(Exception):
    """The request is well-formed but does not fit the order; the message names the field."""


def create_order(store: Store, order: Order, route: list[StagePlan] | None) -> tuple[str, bool]:
    """Create an order with its route; idempotent by order number. Returns (token, created)."""
    plans = route or default_route(order.quantity)
    codes = [p.code for p in plans]
    if len(set(codes)) != len(codes):
        raise InvalidRequestError("route: stage codes must be unique")
    link = TrackingLink.issue(order.order_no, order.created, label="order")
    try:
        store.create_order(order, plan_stages(order.order_no, plans), link)
    except AlreadyExistsError:
        existing = store.first_token(order.order_no)
        if existing is None:
            raise
        return existing, False
    return link.token, True


def _retrying(attempt: Callable[[], T], what: str) -> T:
    """Read, decide, write; again while another writer's conditional write got in first."""
    for _ in range(ATTEMPTS):
        try:
            return attempt()
        except ConflictError:
            continue
    raise ConflictError(f"{what}: busy, try again")


def _stage(store: Store, order_no: str, code: str) -> Stage:
    stage = store.get_stage(order_no, code)
    if stage is None:
        raise NotFoundError(f"order {order_no} has no stage {code!r}")
    return stage


def assign_stage(store: Store, order_no: str, stage_code: str, machine_key: str) -> None:
    """Put an order's machine stage on a machine; sheets it counts from now on go there."""

    def attempt() -> None:
        stage = _stage(store, order_no, stage_code)
        if stage.kind is not StageKind.MACHINE:
            raise InvalidRequestError(f"stage: {stage_code!r} is marked by hand, not counted")
        machine = store.get_machine(machine_key) or Machine.from_key(machine_key)
        store.assign(
            replace(machine, job=JobRef(order_no, stage_code)),
            replace(stage, machine=machine_key),
        )

    _retrying(attempt, machine_key)


def unassign_stage(store: Store, order_no: str, stage_code: str) -> None:
    """Take an order's stage off its machine: what the machine counts next is unattributed."""

    def attempt() -> None:
        stage = _stage(store, order_no, stage_code)
        if stage.machine is None:
            return
        machine = store.get_machine(stage.machine)
        if machine is not None and machine.job == JobRef(order_no, stage_code):
            store.assign(replace(machine, job=None), replace(stage, machine=None))
        else:  # the machine moved on already
            store.save_stage(replace(stage, machine=None))

    _retrying(attempt, f"{order_no}/{stage_code}")


def find_orders(
    store: Store,
    customer: str | None = None,
    due_before: date | None = None,
    status: str | None = None,
) -> list[tuple[Order, TrackingView]]:
    """Orders by due date, filtered by customer (substring), due date and current stage."""
    found = []
    for order in store.list_orders():
        if customer and customer.lower() not in order.customer.lower():
            continue
        if due_before and order.due > due_before:
            continue
        full = store.get_order(order.order_no)
        if full is None:
            continue
        view = tracking_view(*full)
        if status and view.status != status:
            continue
        found.append((order, view))
    return found


def delay_stage(
    store: Store,
    order_no: str,
    code: str,
    by: str,
    reason: str,
    expected_recovery: datetime | None,
    now: datetime,
    action: str | None = None,
) -> Stage:
    """Report a delay (reason, expected recovery, what the shop does about it) on a stage."""
    return _change_stage(
        store, order_no, code, lambda s: s.delay(now, by, reason, expected_recovery, action)
    )


def resolve_delay(store: Store, order_no: str, code: str, by: str, now: datetime) -> Stage:
    """End a stage's delay."""
    return _change_stage(store, order_no, code, lambda s: s.resolve(now, by))


def _change_stage(
    store: Store, order_no: str, code: str, change: Callable[[Stage], Stage]
) -> Stage:
    def attempt() -> Stage:
        stage = _stage(store, order_no, code)
        changed = change(stage)
        if changed != stage:
            store.save_stage(changed)
        return changed

    return _retrying(attempt, f"{order_no}/{code}")


def cancel_order(store: Store, order_no: str, reason: str, now: datetime) -> Order:
    """Cancel an order (idempotent); unfinished stages are skipped."""
    return _change_order(store, order_no, lambda o, s: o.cancel(now, reason, s))


def change_order(store: Store, order_no: str, quantity: int | None, due: date | None) -> Order:
    """New quantity or due date from the ERP; a cancelled order stays as it is."""

    def change(order: Order, stages: list[Stage]) -> tuple[Order, list[Stage]]:
        if order.cancelled is not None:
            raise InvalidRequestError(f"order {order_no} is cancelled")
        return order.change(stages, quantity, due)

    return _change_order(store, order_no, change)


def _change_order(
    store: Store, order_no: str, change: Callable[[Order, list[Stage]], tuple[Order, list[Stage]]]
) -> Order:
    def attempt() -> Order:
        found = store.get_order(order_no)
        if found is None:
            raise NotFoundError(f"no order {order_no}")
        order, stages = found
        updated, changed = change(order, stages)
        if updated != order or changed:
            store.save_order(updated, changed)
        return updated

    return _retrying(attempt, order_no)


def register_machine(
    store: Store,
    key: str,
    name: str | None,
    kind: str,
    rated_per_hour: int | None,
    impressions_per_sheet: int,
    fault_words: tuple[tuple[str, str], ...] = (),
) -> Machine:
    """Add a machine to the registry or change its entry; its counts and job stay."""

    def attempt() -> Machine:
        machine = store.get_machine(key) or Machine.from_key(key)
        updated = replace(
            machine,
            name=name,
            kind=kind,
            rated_per_hour=rated_per_hour,
            impressions_per_sheet=impressions_per_sheet,
            fault_words=fault_words,
        )
        if updated != machine:
            store.save_machine(updated)
        return updated

    return _retrying(attempt, key)


def all_orders(store: Store, open_only: bool = False) -> list[tuple[Order, list[Stage]]]:
    """Every order (or every one not closed) with its stages, by due date."""
    found = (store.get_order(o.order_no) for o in store.list_orders(open_only))
    return [f for f in found if f is not None]


def act_on_stage(
    store: Store,
    order_no: str,
    code: str,
    action: Literal["start", "complete"],
    by: str,
    now: datetime,
    note: str | None = None,
) -> Stage:
    """An operator starts or completes a stage; retried if a machine credited it meanwhile."""
    if action == "start":
        return _change_stage(store, order_no, code, lambda s: s.start(now, by))
    return _change_stage(store, order_no, code, lambda s: s.complete(now, by, note))


def track(store: Store, token: str) -> TrackingView:
    """The view behind a tracking token without estimate, photos or messages (the public
    routes use `cloud.service.tracking.track`, which checks the link's expiry too)."""
    order_no = store.order_for_token(token)
    found = store.get_order(order_no) if order_no else None
    if found is None:
        raise NotFoundError("no such tracking link")
    return tracking_view(*found)
