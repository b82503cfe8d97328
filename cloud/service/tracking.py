"""Use cases of the customer's side: the tracking view with its estimate, lookup by phone,
links, the message board, push opt-ins and the shop's history."""

from __future__ import annotations

from datetime import datetime

from cloud.domain.estimate import Estimate, ShopSettings, estimate
from cloud.domain.links import TrackingLink, digits, mask, phone_matches
from cloud.domain.machines import Activity, JobRef, Machine, activity
from cloud.domain.messages import Channel, Message, Sender, Subscription
from cloud.domain.orders import Order, Stage, StageKind, StageState
from cloud.domain.photos import PhotoState
from cloud.domain.tracking import PhotoView, TrackingView, tracking_view
from cloud.service.ports import ConflictError, CustomerStore, NotFoundError, PhotoFiles

PHOTO_VIEW_S = 3600  # a photo link in the tracking JSON works for an hour
NO_LINK = "no such tracking link, or it has expired or been withdrawn"
NO_MATCH = "no order matches that order number and phone number"

# (window seconds, attempts) per key; generous for people, tight for scripts
LOOKUP_PER_CLIENT = (600, 10)
LOOKUP_PER_ORDER = (3600, 10)  # the last four digits of a phone cannot be walked
MESSAGES_PER_LINK = (3600, 20)
MESSAGES_PER_CLIENT = (3600, 60)
SUBSCRIBE_PER_LINK = (3600, 10)
MISSES_PER_CLIENT = (600, 100)  # unknown or lapsed tokens: someone guessing


def _limit(store: CustomerStore, key: str, rule: tuple[int, int], now: datetime) -> None:
    store.count(key, rule[0], rule[1], now)


def live_link(
    store: CustomerStore, token: str, now: datetime, client: str | None = None
) -> TrackingLink:
    """The link behind a token, or NotFoundError when unknown, expired or withdrawn. Misses
    count against the client: past the limit it is told to wait (RateLimitedError), so tokens
    cannot be walked even where 192 random bits would not be enough."""
    link = store.get_link(token)
    if link is None or not link.live(now):
        if client is not None:
            _limit(store, f"miss#client#{client}", MISSES_PER_CLIENT, now)
        raise NotFoundError(NO_LINK)
    return link


def stage_machines(store: CustomerStore, stages: list[Stage]) -> dict[str, Machine]:
    """The machines of the unfinished machine stages, each read once."""
    keys = {
        s.machine
        for s in stages
        if s.kind is StageKind.MACHINE
        and s.machine
        and s.state not in (StageState.DONE, StageState.SKIPPED)
    }
    found = {key: store.get_machine(key) for key in sorted(keys)}
    return {key: machine for key, machine in found.items() if machine is not None}


def working_on(
    order_no: str, stages: list[Stage], machines: dict[str, Machine]
) -> dict[str, Activity]:
    """By stage code, what the machine working on that stage is doing now (a machine assigned
    to a stage but still on another order's job says nothing about this one)."""
    doing = {}
    for s in stages:
        machine = machines.get(s.machine) if s.machine else None
        if machine is not None and machine.job == JobRef(order_no, s.code):
            doing[s.code] = activity(machine.available, machine.state)
    return doing


def estimate_order(
    store: CustomerStore,
    order: Order,
    stages: list[Stage],
    now: datetime,
    settings: ShopSettings,
    machines: dict[str, Machine] | None = None,
) -> Estimate:
    """The order's estimate from the shop's settings, history and machines' rated speeds
    (`machines` as read by `stage_machines`; else only the stages that have no observed rate
    yet read theirs)."""
    if machines is None:
        machines = stage_machines(store, [s for s in stages if s.rate <= 0])
    rated = {key: float(m.rated_per_hour) for key, m in machines.items() if m.rated_per_hour}
    return estimate(order, stages, now, settings, store.get_calibration(), rated)


def track(
    store: CustomerStore,
    files: PhotoFiles | None,
    token: str,
    now: datetime,
    client: str | None = None,
) -> TrackingView:
    """The public view behind a live link; the estimate given is kept for later measurement."""
    link = live_link(store, token, now, client)
    tracked = store.get_tracked(link.order_no)
    if tracked is None:
        raise NotFoundError(NO_LINK)
    settings = store.get_settings()
    machines = stage_machines(store, tracked.stages)
    guess = None
    if tracked.order.cancelled is None:
        guess = estimate_order(store, tracked.order, tracked.stages, now, settings, machines)
    photos: dict[str, list[PhotoView]] = {}
    for p in sorted(tracked.photos, key=lambda p: p.created):
        if p.state is PhotoState.READY and files is not None:
            url = files.view_url(p.key, PHOTO_VIEW_S)
            photos.setdefault(p.stage, []).append(PhotoView(id=p.id, url=url, caption=p.caption))
    view = tracking_view(
        tracked.order,
        tracked.stages,
        guess,
        tracked.messages,
        photos,
        settings.calendar.zone,
        working_on(link.order_no, tracked.stages, machines),
    )
    if guess is not None and view.status != "completed":
        store.log_estimate(link.order_no, guess, view.printed)
    return view


def lookup(store: CustomerStore, order_no: str, phone: str, client: str, now: datetime) -> str:
    """Order number plus phone gives the order's live link (a new one when all have lapsed).
    A wrong number and a wrong phone get the same answer; both are rate-limited."""
    _limit(store, f"lookup#client#{client}", LOOKUP_PER_CLIENT, now)
    _limit(store, f"lookup#order#{order_no}", LOOKUP_PER_ORDER, now)
    found = store.get_order(order_no)
    if found is None or not phone_matches(found[0].phone, phone):
        raise NotFoundError(NO_MATCH)
    live = [link for link in store.list_links(order_no) if link.live(now)]
    if live:
        return max(live, key=lambda link: link.expires).token
    link = TrackingLink.issue(order_no, now, label="lookup")
    store.put_link(link)
    return link.token


def new_link(
    store: CustomerStore, order_no: str, label: str | None, days: int, now: datetime
) -> TrackingLink:
    """Another link to the same order, e.g. for a WeChat group."""
    if store.get_order(order_no) is None:
        raise NotFoundError(f"no order {order_no}")
    link = TrackingLink.issue(order_no, now, days, label)
    store.put_link(link)
    return link


def revoke_link(store: CustomerStore, order_no: str, token: str, now: datetime) -> TrackingLink:
    """Withdraw a link at once (revoking twice changes nothing)."""
    link = store.get_link(token)
    if link is None or link.order_no != order_no:
        raise NotFoundError(f"order {order_no} has no such link")
    revoked = link.revoke(now)
    if revoked != link:
        store.put_link(revoked)
    return revoked


def post_message(
    store: CustomerStore, token: str, text: str, client: str, now: datetime
) -> Message:
    """The customer writes to the shop from the page."""
    link = live_link(store, token, now, client)
    _limit(store, f"message#link#{token}", MESSAGES_PER_LINK, now)
    _limit(store, f"message#client#{client}", MESSAGES_PER_CLIENT, now)
    message = Message.write(link.order_no, now, Sender.CUSTOMER, text)
    store.add_message(message)
    return message


def reply(store: CustomerStore, order_no: str, text: str, by: str, now: datetime) -> Message:
    """Staff answer on the order's thread."""
    if store.get_order(order_no) is None:
        raise NotFoundError(f"no order {order_no}")
    message = Message.write(order_no, now, Sender.SHOP, text, by)
    store.add_message(message)
    return message


def thread(store: CustomerStore, order_no: str) -> list[Message]:
    """An order's messages, oldest first."""
    tracked = store.get_tracked(order_no)
    if tracked is None:
        raise NotFoundError(f"no order {order_no}")
    return sorted(tracked.messages, key=lambda m: m.at)


def subscribe(
    store: CustomerStore, token: str, channel: Channel, address: str, now: datetime
) -> Subscription:
    """Push opt-in from the page; the answer shows the address masked."""
    link = live_link(store, token, now)
    _limit(store, f"subscribe#link#{token}", SUBSCRIBE_PER_LINK, now)
    stored = digits(address) if channel is Channel.SMS else address
    subscription = Subscription(link.order_no, channel, stored, now)
    store.put_subscription(subscription)
    return Subscription(link.order_no, channel, mask(stored), now)


def learn_from(store: CustomerStore, stage: Stage) -> None:
    """A finished manual stage teaches the shop's history how long such stages really take
    (in working hours, so a night in between does not count)."""
    if stage.kind is not StageKind.MANUAL or stage.state is not StageState.DONE:
        return
    if stage.started is None or stage.ended is None or stage.standard_hours <= 0:
        return
    actual = store.get_settings().calendar.between(stage.started, stage.ended)
    for _ in range(8):
        history = store.get_calibration()
        learned = history.learn(stage.code, stage.standard_hours, actual)
        if learned == history:
            return
        try:
            store.save_calibration(learned)
        except ConflictError:
            continue
        return
