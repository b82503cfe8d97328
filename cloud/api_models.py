"""Request and response bodies of the HTTP API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from cloud.domain.orders import StageKind, StagePlan
from presstrack.wire import MachineState

OrderNo = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
Phone = Annotated[str, Field(pattern=r"^\+?[0-9][0-9 -]{3,22}$")]
Text = Annotated[str, Field(min_length=1, max_length=1000)]
Person = Annotated[str, Field(min_length=1, max_length=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StageSpec(_Body):
    """One stage of the route the order follows."""

    code: Code
    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: StageKind = StageKind.MANUAL
    planned: Annotated[int, Field(gt=0, le=10_000_000)] | None = None
    standard_hours: Annotated[float, Field(ge=0, le=1000)] = 0.0
    key_node: bool = False

    def plan(self) -> StagePlan:
        """The domain's view of this stage."""
        return StagePlan(
            self.code, self.name, self.kind, self.planned, self.standard_hours, self.key_node
        )


class CreateOrder(_Body):
    """An order as the shop's ERP sends it."""

    order_no: OrderNo
    customer: Annotated[str, Field(min_length=1, max_length=200)]
    product: Annotated[str, Field(min_length=1, max_length=200)]
    quantity: Annotated[int, Field(gt=0, le=10_000_000)]
    due: date
    product_type: Literal["sheet_job", "brochure", "gift_box", "picture_book"] = Field(
        default="sheet_job", description="route template used when no route is given"
    )
    route: Annotated[list[StageSpec], Field(min_length=1, max_length=40)] | None = None
    phone: Phone | None = Field(
        None, description="the customer's phone, for lookup and SMS; never shown publicly"
    )


class OrderCreated(BaseModel):
    """Where the customer follows the order."""

    order_no: str
    token: str
    tracking_page: str
    tracking_json: str


class AssignMachine(_Body):
    """Put a machine stage on a machine."""

    site: Slug
    machine: Slug


class ChangeOrder(_Body):
    """What the ERP may change on an order."""

    quantity: Annotated[int, Field(gt=0, le=10_000_000)] | None = None
    due: date | None = None


class CancelOrder(_Body):
    """Why an order is cancelled (shown to staff)."""

    by: Annotated[str, Field(min_length=1, max_length=100)]
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class StageAction(_Body):
    """An operator's tap on a stage."""

    by: Annotated[str, Field(min_length=1, max_length=100, description="who did it")]
    note: Annotated[str, Field(max_length=500)] | None = None
    at: AwareDatetime | None = Field(
        default=None, description="when it happened, for terminals that sync later; now if absent"
    )

    @field_validator("at")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + timedelta(minutes=5):
            raise ValueError("cannot be in the future")
        return value


class StageDelay(_Body):
    """A delay reported on a stage: the reason is shown to the customer."""

    by: Annotated[str, Field(min_length=1, max_length=100)]
    reason: Annotated[str, Field(min_length=1, max_length=300)]
    expected_recovery: AwareDatetime | None = None
    action: Annotated[str, Field(min_length=1, max_length=300)] | None = Field(
        None, description="what the shop is doing about it, shown to the customer"
    )


class StageDone(BaseModel):
    """Where the stage stands after the action."""

    order_no: str
    stage: str
    state: str
    started: str | None
    ended: str | None
    by: str | None


class OrderSummary(BaseModel):
    """One order in the ERP's list."""

    order_no: str
    customer: str
    product: str
    quantity: int
    due: date
    status: str
    printed: int
    planned: int


class MachineProfile(_Body):
    """A machine's registry entry."""

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    kind: Literal["press", "finisher", "counter"] = "press"
    rated_per_hour: Annotated[int, Field(gt=0, le=1_000_000)] | None = None
    impressions_per_sheet: Annotated[int, Field(ge=1, le=8)] = Field(
        default=1, description="2 for a perfecting press counting impressions"
    )
    fault_words: Annotated[
        dict[Annotated[str, Field(pattern=r"^[0-9]{1,10}$")], Annotated[str, Field(max_length=60)]],
        Field(max_length=500),
    ] = Field(default_factory=dict, description="fault code -> what it means on this machine")


class MachineView(BaseModel):
    """A machine as staff see it: state, counter, job and sheets counted without a job."""

    machine: str
    name: str | None
    kind: str
    rated_per_hour: int | None
    impressions_per_sheet: int
    available: bool
    state: MachineState | None
    lifetime: int | None
    job: str | None
    unattributed: int
    seen: datetime | None
    fault_since: datetime | None = None


class RouteTemplate(BaseModel):
    """A product type's route."""

    product_type: str
    name: str
    stages: list[StageSpec]


class StageTimeView(BaseModel):
    """One stage of an order's history."""

    code: str
    name: str
    state: str
    started: datetime | None
    ended: datetime | None
    hours: float | None
    standard_hours: float
    machine: str | None
    by: str | None


class StatsView(BaseModel):
    """Actual against standard hours for a stage type or a machine."""

    key: str
    count: int
    actual_hours: float
    standard_hours: float


class Analytics(BaseModel):
    """How the shop is doing."""

    stages: list[StatsView]
    machines: list[StatsView]
    delivered: int
    on_time: int
    on_time_rate: float | None


class Problem(BaseModel):
    """An error answer."""

    message: str


class NewLink(_Body):
    """Another tracking link for an order (a WeChat group, the sales rep, ...)."""

    label: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    valid_days: Annotated[int, Field(ge=1, le=730)] = 180


class LinkView(BaseModel):
    """A tracking link as staff see it."""

    token: str
    tracking_page: str
    label: str | None
    created: datetime
    expires: datetime
    revoked: datetime | None
    live: bool


class Lookup(_Body):
    """The customer's order number and phone (the whole number or its last four digits)."""

    order_no: OrderNo
    phone: Phone


class LookupFound(BaseModel):
    """Where the customer's order is tracked."""

    tracking_page: str
    tracking_json: str


class PostMessage(_Body):
    """A message from the customer's page."""

    text: Text


class Reply(_Body):
    """A staff member's reply on an order's thread."""

    text: Text
    by: Person


class MessageOut(BaseModel):
    """One message as staff see it."""

    id: str
    sender: str
    text: str
    at: datetime
    by: str | None


class Subscribe(_Body):
    """Push opt-in from the page: an SMS number or a WeChat openid."""

    channel: Literal["sms", "wechat"]
    phone: Phone | None = None
    openid: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{6,64}$")] | None = None

    def address(self) -> str:
        """The number or openid the channel needs; ValueError names the missing field."""
        if self.channel == "sms":
            if self.phone is None:
                raise ValueError("phone: needed for SMS")
            return self.phone
        if self.openid is None:
            raise ValueError("openid: needed for WeChat")
        return self.openid


class Subscribed(BaseModel):
    """What the customer signed up for, with the address masked."""

    channel: str
    address: str


class NewPhoto(_Body):
    """A photo about to be uploaded to a stage."""

    content_type: Literal["image/jpeg", "image/png", "image/webp"]
    size: Annotated[int, Field(gt=0, le=10 * 1024 * 1024)]
    by: Person
    caption: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class PhotoUpload(BaseModel):
    """Where to upload: POST the fields and then the file as multipart form data to `url`."""

    photo_id: str
    url: str
    fields: dict[str, str]
    expires_in: int


class PhotoOut(BaseModel):
    """A photo as staff see it."""

    photo_id: str
    stage: str
    state: str
    caption: str | None
    content_type: str
    size: int
    reason: str | None
    created: datetime
    by: str


class ShiftSpec(_Body):
    """Working hours on some weekdays (1 = Monday); an end at or before the start is next day."""

    days: Annotated[list[Annotated[int, Field(ge=1, le=7)]], Field(min_length=1, max_length=7)]
    start: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    end: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class AlertRules(_Body):
    """When trouble becomes an incident and who hears of it when."""

    fault_seconds: Annotated[float, Field(ge=0, le=3600)] = 3.0
    clear_seconds: Annotated[float, Field(ge=0, le=86400)] = 120.0
    stall_minutes: Annotated[float, Field(gt=0, le=1440)] = 10.0
    silent_minutes: Annotated[float, Field(gt=0, le=1440)] = 5.0
    orphan_seconds: Annotated[float, Field(ge=0, le=3600)] = 30.0
    overdue_grace: Annotated[float, Field(ge=0, le=10)] = 0.25
    recovery_minutes: Annotated[float, Field(gt=0, le=10080)] = 30.0
    customer_after_minutes: Annotated[float, Field(ge=0, le=10080)] = 10.0


class Settings(_Body):
    """The shop's calendar and the figures the delivery estimate uses."""

    zone: Annotated[str, Field(min_length=1, max_length=64)] = "Asia/Shanghai"
    shifts: Annotated[list[ShiftSpec], Field(min_length=1, max_length=21)]
    days_off: Annotated[list[date], Field(max_length=400)] = []
    extra_workdays: Annotated[list[date], Field(max_length=100)] = []
    logistics_hours: Annotated[float, Field(ge=0, le=2000)] = 24.0
    default_rate_per_hour: Annotated[float, Field(gt=0, le=100_000)] = 6000.0
    rated_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.8
    alerts: AlertRules = Field(default_factory=AlertRules)
    quiet_start: Annotated[str, Field(pattern=HHMM)] = "21:00"
    quiet_end: Annotated[str, Field(pattern=HHMM)] = "08:00"

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {zone!r}") from error
        return zone


class IncidentView(BaseModel):
    """An incident as staff see it."""

    kind: str
    subject: str
    reason: str
    machine: str | None
    order_no: str | None
    stage: str | None
    started: datetime
    expected_recovery: datetime | None
    ended: datetime | None
    resolution: str | None
    flaps: int
    customer_told: bool


class AttemptView(BaseModel):
    """One delivery attempt."""

    at: datetime
    channel: str
    ok: bool
    detail: str


class NoticeView(BaseModel):
    """A notice with every attempt to deliver it (the outbox, for staff)."""

    key: str
    audience: str
    address: str
    channel: str
    title: str
    text: str
    created: datetime
    state: str
    not_before: datetime | None
    order_no: str | None
    attempts: list[AttemptView]
