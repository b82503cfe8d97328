"""Who hears what: notices for maintenance, the workshop lead, staff and customers, and the rules
that keep them from becoming a storm (one per incident and recipient, quiet hours for
customers, retries with backoff, budgets with a digest). Pure: time is passed in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from cloud.domain.alert_rules import QuietHours
from cloud.domain.incidents import Incident, IncidentKind
from cloud.domain.messages import Channel, Message, Subscription
from cloud.domain.orders import Stage, StageState
from cloud.domain.summary import ZH_NAMES

MAX_ATTEMPTS = 5
FIRST_RETRY_S = 30


class Audience(StrEnum):
    """Who a notice is for."""

    MAINTENANCE = "maintenance"  # faults, data gaps, stalls
    LEAD = "lead"  # the workshop lead: overdue stages, orders at risk
    STAFF = "staff"  # customer service: new customer messages
    CUSTOMER = "customer"


class NoticeState(StrEnum):
    """Where a notice is on its way out."""

    DUE = "due"  # to be sent now
    HELD = "held"  # waiting for the morning (customer quiet hours)
    RETRY = "retry"  # the channel failed; tried again at not_before
    DIGEST = "digest"  # over the channel's budget; goes out in the next digest
    SENT = "sent"
    DIGESTED = "digested"  # went out inside a digest
    FAILED = "failed"  # gave up after MAX_ATTEMPTS


@dataclass(frozen=True)
class Attempt:
    """One try at delivering a notice, as staff see it."""

    at: datetime
    channel: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Notice:
    """One message to one recipient about one thing; its key makes it unique."""

    key: str  # topic#audience#address: the same notice is never made twice
    audience: Audience
    address: str  # robot name, phone number or openid
    channel: str  # wecom | wechat | sms | outbox
    title: str
    text: str
    created: datetime
    state: NoticeState = NoticeState.DUE
    not_before: datetime | None = None
    order_no: str | None = None
    link: str | None = None
    attempts: tuple[Attempt, ...] = ()
    version: int = 0

    def tried(self, attempt: Attempt) -> Notice:
        """Record a delivery attempt: sent, or retried later with backoff, or given up."""
        attempts = (*self.attempts, attempt)
        if attempt.ok:
            return replace(self, attempts=attempts, state=NoticeState.SENT, not_before=None)
        if len(attempts) >= MAX_ATTEMPTS:
            return replace(self, attempts=attempts, state=NoticeState.FAILED, not_before=None)
        wait = timedelta(seconds=FIRST_RETRY_S * 2 ** (len(attempts) - 1))
        return replace(
            self, attempts=attempts, state=NoticeState.RETRY, not_before=attempt.at + wait
        )


@dataclass(frozen=True)
class Routing:
    """Which channel each audience is reached on (from the channel configuration)."""

    robots: frozenset[str] = frozenset()  # configured WeCom robots, by audience name
    sms: bool = False
    wechat: bool = False
    quiet: QuietHours = field(default_factory=QuietHours)

    def staff_channel(self, audience: Audience) -> str:
        return "wecom" if audience.value in self.robots else "outbox"

    def customer_channel(self, subscription: Subscription) -> str:
        if subscription.channel is Channel.SMS:
            return "sms" if self.sms else "outbox"
        return "wechat" if self.wechat else "outbox"


def _staff(
    topic: str, audience: Audience, title: str, text: str, now: datetime, routing: Routing
) -> Notice:
    return Notice(
        f"{topic}#{audience.value}#{audience.value}",
        audience,
        audience.value,
        routing.staff_channel(audience),
        title,
        text,
        now,
    )


def incident_notices(
    incident: Incident, now: datetime, routing: Routing, closed: bool = False
) -> list[Notice]:
    """Maintenance hears of faults, stalls and data gaps; the workshop lead of overdue stages
    and orders at risk; both hear when it is over."""
    audience = (
        Audience.MAINTENANCE
        if incident.kind in (IncidentKind.FAULT, IncidentKind.STALL, IncidentKind.DATA_GAP)
        else Audience.LEAD
    )
    where = " ".join(
        x
        for x in (
            incident.machine,
            f"订单 {incident.order_no}" if incident.order_no else None,
            f"工序 {ZH_NAMES.get(incident.stage, incident.stage)}" if incident.stage else None,
        )
        if x
    )
    label = KIND_WORDS[incident.kind]
    if closed:
        title = f"已恢复:{label}"
        lasted = f"持续 {_minutes(incident)} 分钟,波动 {incident.flaps} 次"
        text = f"{where}\n{incident.resolution}({lasted})"
        topic = f"incident-closed#{incident.id}"
    else:
        title = f"{label}:{incident.reason}"
        text = f"{where}\n{incident.reason}\n开始于 {incident.started:%m-%d %H:%M:%S}"
        topic = f"incident#{incident.id}"
    notice = _staff(topic, audience, title, text, now, routing)
    return [replace(notice, order_no=incident.order_no)]


KIND_WORDS = {
    IncidentKind.FAULT: "设备故障",
    IncidentKind.STALL: "设备停滞",
    IncidentKind.DATA_GAP: "数据中断",
    IncidentKind.OVERDUE: "工序超时",
    IncidentKind.AT_RISK: "交期风险",
}


def _minutes(incident: Incident) -> int:
    end = incident.ended or incident.started
    return max(1, round((end - incident.started).total_seconds() / 60))


def _customer(
    topic: str,
    subscription: Subscription,
    title: str,
    text: str,
    now: datetime,
    routing: Routing,
    link: str | None,
) -> Notice:
    held_until = routing.quiet.release(now)
    return Notice(
        f"{topic}#customer#{subscription.address}",
        Audience.CUSTOMER,
        subscription.address,
        routing.customer_channel(subscription),
        title,
        text,
        now,
        state=NoticeState.HELD if held_until else NoticeState.DUE,
        not_before=held_until,
        order_no=subscription.order_no,
        link=link,
    )


def delay_notices(
    incident: Incident,
    subscriptions: list[Subscription],
    delivery: datetime | None,
    now: datetime,
    routing: Routing,
    link: str | None,
) -> list[Notice]:
    """One clear message per incident to each subscribed customer, with the new estimate."""
    stage = ZH_NAMES.get(incident.stage or "", incident.stage or "生产")
    new = f",预计 {delivery:%m月%d日 %H:%M} 送达" if delivery else ""
    text = (
        f"您的订单 {incident.order_no} 在{stage}环节遇到延误({incident.reason}){new}。"
        "我们正在处理。"
    )
    return [
        _customer(f"delay#{incident.id}", s, "订单延误", text, now, routing, link)
        for s in subscriptions
        if s.cancelled is None
    ]


def resolution_notices(
    incident: Incident,
    subscriptions: list[Subscription],
    now: datetime,
    routing: Routing,
    link: str | None,
) -> list[Notice]:
    """Customers who heard of a delay hear that it is over."""
    text = f"您的订单 {incident.order_no} 已恢复生产:{incident.resolution}。"
    return [
        _customer(f"resolved#{incident.id}", s, "已恢复生产", text, now, routing, link)
        for s in subscriptions
        if s.cancelled is None
    ]


def key_node_notices(
    before: Stage | None,
    after: Stage,
    subscriptions: list[Subscription],
    now: datetime,
    routing: Routing,
    link: str | None,
) -> list[Notice]:
    """A key node (printing, shipping) started or finished."""
    if not after.key_node or before is None or before.state == after.state:
        return []
    name = ZH_NAMES.get(after.code, after.name)
    if after.state is StageState.ACTIVE and before.state is StageState.PENDING:
        event, text = "started", f"您的订单 {after.order_no} 已开始{name}。"
        if after.code == "shipped":
            text = f"您的订单 {after.order_no} 即将发货。"
    elif after.state is StageState.DONE:
        event, text = "done", f"您的订单 {after.order_no} {name}已完成。"
        if after.code == "shipped":
            text = f"您的订单 {after.order_no} 已发货。"
    else:
        return []
    return [
        _customer(f"node#{after.order_no}#{after.code}#{event}", s, name, text, now, routing, link)
        for s in subscriptions
        if s.cancelled is None
    ]


def message_notice(message: Message, now: datetime, routing: Routing) -> Notice:
    """Customer service hears of a new message from a customer."""
    notice = _staff(
        f"message#{message.order_no}#{message.id}",
        Audience.STAFF,
        f"客户留言:订单 {message.order_no}",
        message.text,
        now,
        routing,
    )
    return replace(notice, order_no=message.order_no)


def digest(notices: list[Notice]) -> tuple[str, str]:
    """One message standing for notices held back by a channel's budget."""
    lines = [f"- {n.title}" for n in notices[:20]]
    if len(notices) > 20:
        lines.append(f"- …另有 {len(notices) - 20} 条")
    return f"汇总:{len(notices)} 条通知", "\n".join(lines)


def customer_should_hear(incident: Incident, now: datetime, after_minutes: float) -> bool:
    """Customers hear of a delay once, and only of one that lasts: a short stop is the shop's
    business, not theirs."""
    return (
        incident.order_no is not None
        and not incident.customer_told
        and incident.kind is not IncidentKind.AT_RISK
        and now - incident.started >= timedelta(minutes=after_minutes)
    )


def customers_to_tell(
    open_incidents: list[Incident], now: datetime, after_minutes: float
) -> list[Incident]:
    """The incidents whose customers should hear now: one per order however many incidents it
    has (a fault and the data gap it causes are one delay to the customer)."""
    told = {i.order_no for i in open_incidents if i.customer_told}
    chosen: dict[str, Incident] = {}
    for incident in sorted(open_incidents, key=lambda i: i.started):
        order = incident.order_no
        if order is None or order in told or order in chosen:
            continue
        if customer_should_hear(incident, now, after_minutes):
            chosen[order] = incident
    return list(chosen.values())
