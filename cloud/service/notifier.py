"""Use cases of the notifier: from each change in the table, decide who hears what, and deliver
due notices within each channel's budget, logging every attempt on the notice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cloud.adapters.dynamodb import stage_from
from cloud.adapters.dynamodb_alerts import incident_from, notice_from
from cloud.adapters.dynamodb_customer import message_from
from cloud.channels.base import ChannelError, Sender
from cloud.domain.alerts import (
    Attempt,
    Notice,
    NoticeState,
    Routing,
    delay_notices,
    incident_notices,
    key_node_notices,
    message_notice,
    resolution_notices,
)
from cloud.domain.messages import Sender as Writer
from cloud.service.detector import BUDGETS, DIGEST
from cloud.service.ports import AlertStore, ConflictError, RateLimitedError
from cloud.service.tracking import estimate_order

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One item's change, from the table's stream (images already plain values)."""

    event: str  # INSERT | MODIFY | REMOVE
    new: dict[str, Any] | None
    old: dict[str, Any] | None


def matters(change: Change) -> bool:
    """Whether a change can lead to a notice: most of the stream (machines counting, rate
    counters, estimates kept) cannot, and is skipped before anything is read."""
    new, old = change.new, change.old
    if new is None:
        return False
    pk, sk = str(new.get("pk", "")), str(new.get("sk", ""))
    if pk.startswith(("INCIDENT#", "NOTICE#")):
        return True
    if pk.startswith("ORDER#") and sk.startswith("MSG#"):
        return change.event == "INSERT"
    if pk.startswith("ORDER#") and sk.startswith("STAGE#"):
        return (
            old is not None and old.get("state") != new.get("state") and bool(new.get("key_node"))
        )
    return False


def notices_for(
    store: AlertStore, change: Change, now: datetime, routing: Routing, base: str
) -> list[Notice]:
    """Who should hear of this change."""
    new, old = change.new, change.old
    if new is None:
        return []
    pk, sk = str(new["pk"]), str(new["sk"])
    if pk.startswith("INCIDENT#"):
        incident = incident_from(new)
        if change.event == "INSERT" and sk == "OPEN":
            return incident_notices(incident, now, routing)
        if change.event == "INSERT":  # moved to the log: it is over
            told = incident.customer_told and incident.order_no
            customers = (
                resolution_notices(
                    incident,
                    store.list_subscriptions(incident.order_no),
                    now,
                    routing,
                    _link(store, incident.order_no, base),
                )
                if told and incident.order_no
                else []
            )
            return incident_notices(incident, now, routing, closed=True) + customers
        was_told = bool(old and old.get("customer_told"))
        if incident.customer_told and not was_told and incident.order_no:
            return delay_notices(
                incident,
                store.list_subscriptions(incident.order_no),
                _delivery(store, incident.order_no, now),
                now,
                routing,
                _link(store, incident.order_no, base),
            )
        return []
    if pk.startswith("ORDER#") and sk.startswith("STAGE#") and old is not None:
        after, before = stage_from(new), stage_from(old)
        if before.state == after.state:
            return []
        return key_node_notices(
            before,
            after,
            store.list_subscriptions(after.order_no),
            now,
            routing,
            _link(store, after.order_no, base),
        )
    if pk.startswith("ORDER#") and sk.startswith("MSG#") and change.event == "INSERT":
        message = message_from(new)
        if message.sender is Writer.CUSTOMER:
            return [message_notice(message, now, routing)]
    return []


def _link(store: AlertStore, order_no: str, base: str) -> str | None:
    live = [link for link in store.list_links(order_no) if link.revoked is None]
    if not live:
        return None
    return f"{base}/t/{max(live, key=lambda link: link.expires).token}"


def _delivery(store: AlertStore, order_no: str, now: datetime) -> datetime | None:
    found = store.get_order(order_no)
    if found is None or found[0].cancelled is not None:
        return None
    return estimate_order(store, found[0], found[1], now, store.get_settings()).delivery


def due(change: Change) -> Notice | None:
    """A notice this change makes due for delivery."""
    new = change.new
    if new is None or not str(new["pk"]).startswith("NOTICE#"):
        return None
    notice = notice_from(new)
    return notice if notice.state is NoticeState.DUE else None


def deliver(store: AlertStore, senders: dict[str, Sender], notice: Notice, now: datetime) -> Notice:
    """Send one due notice: within budget, on its channel (the outbox when that channel is not
    configured), recording the attempt; a failure is retried later with backoff."""
    window, limit = BUDGETS.get(notice.channel, (0, 0))
    if limit and not notice.key.startswith(DIGEST):
        try:
            store.count(f"budget#{notice.channel}#{notice.address}", window, limit, now)
        except RateLimitedError:
            held = replace(notice, state=NoticeState.DIGEST)
            _save(store, held)
            return held
    sender = senders.get(notice.channel) or senders["outbox"]
    channel = notice.channel if notice.channel in senders else "outbox"
    try:
        receipt = sender.send(notice)
        attempt = Attempt(now, channel, True, receipt)
    except ChannelError as error:
        attempt = Attempt(now, channel, False, str(error))
        log.warning("notice %s via %s failed: %s", notice.key, channel, error)
    done = notice.tried(attempt)
    _save(store, done)
    return done


def _save(store: AlertStore, notice: Notice) -> None:
    try:
        store.save_notice(notice)
    except ConflictError:  # another delivery of the same change got there first
        log.info("notice %s changed meanwhile", notice.key)


def handle(
    store: AlertStore,
    senders: dict[str, Sender],
    change: Change,
    now: datetime,
    routing: Routing,
    base: str,
) -> None:
    """Everything one change leads to."""
    for notice in notices_for(store, change, now, routing, base):
        store.add_notice(notice)  # the key makes a repeat a no-op
    ready = due(change)
    if ready is not None and (ready.not_before is None or ready.not_before <= now):
        deliver(store, senders, ready, now)
