"""The one-paragraph answer to "where is my order?", in Chinese and English, from live data."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cloud.domain.orders import StageKind, StageState

if TYPE_CHECKING:
    from cloud.domain.tracking import EstimateView, StageView

ZH_NAMES = {
    "design": "设计稿确认",
    "ctp": "CTP 制版",
    "printing": "印刷",
    "lamination": "覆膜",
    "hot_foil": "烫金",
    "die_cutting": "模切",
    "folding_gluing": "折页糊盒",
    "binding": "装订",
    "post_press": "印后加工",
    "qc": "质检",
    "shipped": "发货",
}
ZH_UNITS = {"sheet": "张", "impression": "印", "piece": "件"}


def when_zh(at: datetime) -> str:
    """12月05日 17:00"""
    return f"{at.month}月{at.day:02d}日 {at:%H:%M}"


def when_en(at: datetime) -> str:
    """Dec 05, 17:00"""
    return f"{at:%b %d, %H:%M}"


def summarise(
    stages: list[StageView], unit: str = "sheet", estimate: EstimateView | None = None
) -> dict[str, str]:
    """What customer service would say now: the current stage, how far, and when it is done."""
    said = _where(list(stages), unit)
    if estimate is None or all(s.state in (StageState.DONE, StageState.SKIPPED) for s in stages):
        return said
    current = next((s for s in stages if s.state in (StageState.ACTIVE, StageState.DELAYED)), None)
    zh, en = said["zh"], said["en"]
    if current is not None and current.expected_end is not None:
        zh += f"本环节预计 {when_zh(current.expected_end)} 完成,"
        en += f" This stage should be done by {when_en(current.expected_end)};"
        en += f" expected delivery {when_en(estimate.delivery)}."
    else:
        en += f" Expected delivery {when_en(estimate.delivery)}."
    zh += f"预计 {when_zh(estimate.delivery)} 送达。"
    if estimate.at_risk:
        zh += "可能晚于约定交期,我们会尽快联系您。"
        en += " This may be after the agreed date; we will be in touch."
    return {"zh": zh, "en": en}


def _where(ordered: list[StageView], unit: str) -> dict[str, str]:
    if all(s.state in (StageState.DONE, StageState.SKIPPED) for s in ordered):
        return {"zh": "您的订单已全部完成。", "en": "Your order is complete."}
    delayed = next((s for s in ordered if s.state is StageState.DELAYED), None)
    current = delayed or next(
        (s for s in ordered if s.state is StageState.ACTIVE),
        next(s for s in ordered if s.state not in (StageState.DONE, StageState.SKIPPED)),
    )
    zh_name = ZH_NAMES.get(current.code, current.name)
    if current.state is StageState.PENDING and not any(s.state is StageState.DONE for s in ordered):
        return {
            "zh": "您的订单已接收,即将开始生产。",
            "en": "We have your order; production starts soon.",
        }
    if current.state is StageState.PENDING:
        return {
            "zh": f"您的订单即将进入{zh_name}环节。",
            "en": f"Your order is about to enter {current.name.lower()}.",
        }
    if delayed is not None:
        return {
            "zh": f"您的订单在{zh_name}环节遇到延误,我们正在处理。",
            "en": f"Your order is delayed at {current.name.lower()}; we are on it.",
        }
    if current.kind is StageKind.MACHINE and current.planned:
        done = current.done or 0
        left = max(0, current.planned - done)
        zh_unit = ZH_UNITS.get(unit, "张")
        return {
            "zh": f"您的订单已进入{zh_name}环节,当前已完成 {done} {zh_unit},"
            f"剩余 {left} {zh_unit}。",
            "en": f"Your order is in {current.name.lower()}: {done} of {current.planned} "
            f"{unit}s done, {left} to go.",
        }
    return {"zh": f"您的订单正在{zh_name}环节。", "en": f"Your order is in {current.name.lower()}."}
