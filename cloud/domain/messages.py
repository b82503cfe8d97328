"""The order's message board (在线留言) and the customer's push subscriptions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Sender(StrEnum):
    """Who wrote a message."""

    CUSTOMER = "customer"
    SHOP = "shop"


@dataclass(frozen=True)
class Message:
    """One message on an order's thread."""

    order_no: str
    id: str
    at: datetime
    sender: Sender
    text: str
    by: str | None = None  # the staff member who replied; never shown to the customer

    @classmethod
    def write(
        cls, order_no: str, at: datetime, sender: Sender, text: str, by: str | None = None
    ) -> Message:
        return cls(order_no, secrets.token_hex(6), at, sender, text.strip(), by)


class Channel(StrEnum):
    """How a customer wants to hear about the order."""

    SMS = "sms"
    WECHAT = "wechat"


@dataclass(frozen=True)
class Subscription:
    """A customer's opt-in: key nodes (printing started, shipped), delays and their resolution."""

    order_no: str
    channel: Channel
    address: str  # phone number (digits, with country code) or WeChat openid
    created: datetime
    cancelled: datetime | None = None
