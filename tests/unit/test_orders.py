"""Orders: idempotent creation, routes, assignment and the public view."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from cloud.domain.orders import Order, StageKind, StagePlan, route_for
from cloud.service.orders import (
    InvalidRequestError,
    act_on_stage,
    assign_stage,
    cancel_order,
    change_order,
    create_order,
    delay_stage,
    resolve_delay,
    track,
)
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


def test_operators_start_and_complete_manual_stages_with_who_and_when() -> None:
    store = MemoryStore()
    token, _ = create_order(store, ORDER, None)
    t1, t2 = datetime(2026, 12, 3, 8, tzinfo=UTC), datetime(2026, 12, 3, 9, tzinfo=UTC)
    started = act_on_stage(store, "B-7", "design", "start", "小李", t1)
    done = act_on_stage(store, "B-7", "design", "complete", "小李", t2, "customer approved")
    assert (started.state, done.state) == ("active", "done")
    assert (done.started, done.ended, done.by, done.note) == (t1, t2, "小李", "customer approved")
    again = act_on_stage(store, "B-7", "design", "complete", "someone else", t2)
    assert again.by == "小李"  # a second tap changes nothing
    assert track(store, token).status == "ctp"


def test_completing_a_stage_never_started_starts_it_then() -> None:
    store = MemoryStore()
    create_order(store, ORDER, None)
    at = datetime(2026, 12, 3, 10, tzinfo=UTC)
    done = act_on_stage(store, "B-7", "ctp", "complete", "plate room", at)
    assert (done.started, done.ended) == (at, at)


def test_the_customer_service_summary_follows_the_live_order() -> None:
    store = MemoryStore()
    token, _ = create_order(store, ORDER, None)
    assert track(store, token).summary["zh"] == "您的订单已接收,即将开始生产。"
    at = datetime(2026, 12, 3, 8, tzinfo=UTC)
    for code in ("design", "ctp"):
        act_on_stage(store, "B-7", code, "complete", "op", at)
    stage = store.get_stage("B-7", "printing")
    assert stage is not None
    store.save_stage(stage.credit(300, at))
    summary = track(store, token).summary
    assert summary["zh"] == "您的订单已进入印刷环节,当前已完成 300 张,剩余 500 张。"
    assert summary["en"] == "Your order is in printing: 300 of 800 sheets done, 500 to go."


def test_a_delay_turns_the_stage_red_with_its_reason_until_resolved() -> None:
    store = MemoryStore()
    token, _ = create_order(store, ORDER, None)
    at = datetime(2026, 12, 3, 8, tzinfo=UTC)
    back = datetime(2026, 12, 3, 14, tzinfo=UTC)
    act_on_stage(store, "B-7", "design", "complete", "op", at)
    delay_stage(store, "B-7", "ctp", "lead", "plate setter under repair", back, at)
    view = track(store, token)
    ctp = next(s for s in view.stages if s.code == "ctp")
    assert (ctp.state, ctp.delay_reason, ctp.expected_recovery) == (
        "delayed",
        "plate setter under repair",
        back,
    )
    assert view.summary["zh"] == "您的订单在CTP 制版环节遇到延误,我们正在处理。"
    resolved = resolve_delay(store, "B-7", "ctp", "lead", back)
    assert (resolved.state, resolved.delay_reason) == ("pending", None)


def test_a_finished_stage_cannot_be_delayed() -> None:
    store = MemoryStore()
    create_order(store, ORDER, None)
    at = datetime(2026, 12, 3, 8, tzinfo=UTC)
    act_on_stage(store, "B-7", "design", "complete", "op", at)
    assert delay_stage(store, "B-7", "design", "lead", "late", None, at).state == "done"


def test_route_templates_per_product_type() -> None:
    box = route_for("gift_box", 1200)
    codes = [p.code for p in box]
    assert codes[:3] == ["design", "ctp", "printing"]
    assert {"hot_foil", "die_cutting", "folding_gluing"} <= set(codes)
    printing = next(p for p in box if p.code == "printing")
    assert (printing.planned, printing.key_node) == (1200, True)
    assert all(p.standard_hours > 0 for p in box if p.code not in ("printing", "shipped"))


def test_cancelling_skips_what_is_not_done_and_twice_is_once() -> None:
    store = MemoryStore()
    token, _ = create_order(store, ORDER, None)
    at = datetime(2026, 12, 3, 8, tzinfo=UTC)
    act_on_stage(store, "B-7", "design", "complete", "op", at)
    cancel_order(store, "B-7", "customer withdrew", at)
    again = cancel_order(store, "B-7", "another reason", at)
    assert again.cancel_reason == "customer withdrew"
    view = track(store, token)
    assert view.status == "cancelled"
    states = {s.code: s.state for s in view.stages}
    assert states["design"] == "done"
    assert {states[c] for c in ("ctp", "printing", "shipped")} == {"skipped"}
    with pytest.raises(InvalidRequestError, match="cancelled"):
        change_order(store, "B-7", 900, None)


def test_a_new_quantity_moves_the_plan_of_unfinished_machine_stages() -> None:
    store = MemoryStore()
    token, _ = create_order(store, ORDER, None)
    change_order(store, "B-7", 1000, date(2026, 12, 12))
    view = track(store, token)
    assert (view.quantity, view.planned, view.due) == (1000, 1000, date(2026, 12, 12))
