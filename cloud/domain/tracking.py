"""What the customer's tracking link shows: no phone numbers, prices or addresses."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from cloud.domain.estimate import Estimate
from cloud.domain.machines import Activity
from cloud.domain.messages import Message, Sender
from cloud.domain.orders import Order, Stage, StageKind, StageState
from cloud.domain.summary import summarise


class PhotoView(BaseModel):
    """A photo the customer may open; the link expires."""

    id: str
    url: str = Field(description="signed link to the file; expires within the hour")
    caption: str | None = None


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
    delay_action: str | None = Field(None, description="what the shop is doing about a delay")
    expected_start: datetime | None = None
    expected_end: datetime | None = None
    machine_state: Activity | None = Field(
        None, description="what the machine on this unfinished stage is doing now"
    )
    photos: list[PhotoView] = []


class MessageView(BaseModel):
    """One message on the order's thread."""

    sender: Sender
    text: str
    at: datetime


class EstimateView(BaseModel):
    """When the goods are expected at the customer's door."""

    delivery: datetime
    ready: datetime = Field(description="when the last stage is expected to be done")
    at_risk: bool = Field(description="the expected delivery is after the due date")
    computed: datetime


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
    estimate: EstimateView | None = None
    zone: str = Field("Asia/Shanghai", description="the shop's time zone; times are shown in it")
    stages: list[StageView]
    messages: list[MessageView] = []


CANCELLED = {
    "zh": "您的订单已取消。如有疑问请联系我们。",
    "en": "Your order was cancelled. Please contact us with any questions.",
}


def tracking_view(
    order: Order,
    stages: list[Stage],
    estimate: Estimate | None = None,
    messages: list[Message] | None = None,
    photos: dict[str, list[PhotoView]] | None = None,
    zone: str = "Asia/Shanghai",
    machines: dict[str, Activity] | None = None,
) -> TrackingView:
    """Build the customer's view of an order from its stages (and, when known, its estimate,
    its message thread, its photos by stage and, by stage, what the machine working on it is
    doing now)."""
    tz = ZoneInfo(zone)
    ordered = sorted(stages, key=lambda s: s.position)
    printing = [s for s in ordered if s.kind is StageKind.MACHINE]
    current = next((s for s in ordered if s.state is not StageState.DONE), None)
    live = estimate if estimate is not None and order.cancelled is None else None

    def local(t: datetime | None) -> datetime | None:
        return t.astimezone(tz) if t is not None else None

    views = []
    for s in ordered:
        guess = live.stage(s.code) if live else None
        unfinished = s.state not in (StageState.DONE, StageState.SKIPPED)
        ahead = guess is not None and unfinished
        doing = (machines or {}).get(s.code) if unfinished else None
        views.append(
            StageView(
                code=s.code,
                name=s.name,
                kind=s.kind,
                state=s.state,
                done=s.good if s.kind is StageKind.MACHINE else None,
                planned=s.planned,
                started=local(s.started),
                ended=local(s.ended),
                delay_reason=s.delay_reason,
                expected_recovery=local(s.expected_recovery),
                delay_action=s.delay_action,
                expected_start=local(guess.start) if ahead and guess else None,
                expected_end=local(guess.end) if ahead and guess else None,
                machine_state=doing if order.cancelled is None else None,
                photos=(photos or {}).get(s.code, []),
            )
        )
    shown = (
        EstimateView(
            delivery=live.delivery.astimezone(tz),
            ready=live.ready.astimezone(tz),
            at_risk=live.at_risk,
            computed=live.at.astimezone(tz),
        )
        if live
        else None
    )
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
        summary=CANCELLED if order.cancelled else summarise(views, estimate=shown),
        estimate=shown,
        zone=zone,
        stages=views,
        messages=[
            MessageView(sender=m.sender, text=m.text, at=m.at.astimezone(tz))
            for m in sorted(messages or [], key=lambda m: m.at)
        ],
    )
