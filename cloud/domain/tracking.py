"""What the customer's tracking link shows: no phone numbers, prices or addresses."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from cloud.domain.orders import Order, Stage, StageKind, StageState
from cloud.domain.summary import summarise


class StageView(BaseModel):
    """One stage on the customer's timeline."""

    code: str
    name: str
    kind: StageKind
    state: StageState
    done: int | None = None
    planned: int | None = None
    started: datetime | None = None
    ended: datetime | None = None
    delay_reason: str | None = None
    expected_recovery: datetime | None = None


class TrackingView(BaseModel):
    """The public tracking JSON."""

    order_no: str
    product: str
    quantity: int
    due: date
    unit: str = "sheet"
    printed: int
    planned: int
    status: str
    summary: dict[str, str] = Field(description="customer-service answer, keys zh and en")
    stages: list[StageView]


CANCELLED = {
    "zh": "您的订单已取消。如有疑问请联系我们。",
    "en": "Your order was cancelled. Please contact us with any questions.",
}


def tracking_view(order: Order, stages: list[Stage]) -> TrackingView:
    """Build the customer's view of an order from its stages."""
    ordered = sorted(stages, key=lambda s: s.position)
    printing = [s for s in ordered if s.kind is StageKind.MACHINE]
    current = next((s for s in ordered if s.state is not StageState.DONE), None)
    views = [
        StageView(
            code=s.code,
            name=s.name,
            kind=s.kind,
            state=s.state,
            done=s.good if s.kind is StageKind.MACHINE else None,
            planned=s.planned,
            started=s.started,
            ended=s.ended,
            delay_reason=s.delay_reason,
            expected_recovery=s.expected_recovery,
        )
        for s in ordered
    ]
    return TrackingView(
        order_no=order.order_no,
        product=order.product,
        quantity=order.quantity,
        due=order.due,
        printed=printing[0].good if printing else 0,
        planned=(printing[0].planned or order.quantity) if printing else order.quantity,
        status="cancelled"
        if order.cancelled
        else (current.code if current is not None else "completed"),
        summary=CANCELLED if order.cancelled else summarise(views),
        stages=views,
    )
