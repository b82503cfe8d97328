"""Orders: idempotent creation, routes, assignment and the public view."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cloud.domain.orders import Order, StageKind, StagePlan
from cloud.service.orders import InvalidRequestError, assign_stage, create_order, track
from cloud.service.ports import NotFoundError
from tests.fakes import MemoryStore

ORDER = Order(
    "B-7", "Customer", "Gift box", 800, date(2026, 12, 9), datetime(2026, 12, 3, tzinfo=UTC)
)


def test_creating_the_same_order_twice_returns_the_same_link() -> None:
    store = MemoryStore()
    first, created = create_order(store, ORDER, None)
    again, created_again = create_order(store, ORDER, None)
    assert (first, created, created_again) == (again, True, False)
    assert len(first) >= 32  # 192 random bits, URL-safe


def test_a_route_needs_unique_stage_codes() -> None:
    route = [StagePlan("printing", "Printing", StageKind.MACHINE, 800)] * 2
    with pytest.raises(InvalidRequestError, match="route"):
        create_order(MemoryStore(), ORDER, route)


def test_only_machine_stages_go_on_a_machine() -> None:
    store = MemoryStore()
    create_order(store, ORDER, None)
    with pytest.raises(InvalidRequestError, match="stage"):
        assign_stage(store, "B-7", "qc", "shop/press-1")
    with pytest.raises(NotFoundError):
        assign_stage(store, "B-7", "nope", "shop/press-1")


def test_the_public_view_lists_the_route_in_order_without_the_customer() -> None:
    store = MemoryStore()
    token, _ = create_order(store, ORDER, None)
    view = track(store, token)
    assert [s.code for s in view.stages] == [
        "design",
        "ctp",
        "printing",
        "post_press",
        "qc",
        "shipped",
    ]
    assert (view.printed, view.planned, view.status) == (0, 800, "design")
    assert "Customer" not in view.model_dump_json()


def test_unknown_token_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        track(MemoryStore(), "x" * 32)
