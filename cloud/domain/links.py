"""Tracking links: unguessable, expiring, revocable, several per order; phone checks for lookup."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

TOKEN_BYTES = 24  # 192 random bits, URL-safe: 32 characters
DEFAULT_DAYS = 180


def new_token() -> str:
    """An unguessable tracking token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


@dataclass(frozen=True)
class TrackingLink:
    """One link to one order's tracking page."""

    token: str
    order_no: str
    created: datetime
    expires: datetime
    label: str | None = None  # who it was made for: "WeChat group", "lookup", ...
    revoked: datetime | None = None
    version: int = 0

    @classmethod
    def issue(
        cls, order_no: str, now: datetime, days: int = DEFAULT_DAYS, label: str | None = None
    ) -> TrackingLink:
        return cls(new_token(), order_no, now, now + timedelta(days=days), label)

    def live(self, now: datetime) -> bool:
        return self.revoked is None and now < self.expires

    def revoke(self, now: datetime) -> TrackingLink:
        return self if self.revoked else replace(self, revoked=now)


def digits(phone: str) -> str:
    """A phone number's digits only: "+86 138-0013-8000" -> "8613800138000"."""
    return re.sub(r"\D", "", phone)


def phone_matches(on_file: str | None, given: str) -> bool:
    """The whole number (country code optional) or its last four digits, compared in constant
    time so the answer's timing gives nothing away."""
    have, want = digits(on_file or ""), digits(given)
    if not have or len(want) < 4:
        return False
    if len(want) == 4:
        return secrets.compare_digest(have[-4:], want)
    tail = have[-len(want) :] if len(want) <= len(have) else have
    return secrets.compare_digest(tail, want) or secrets.compare_digest(have, want[-len(have) :])


def mask(address: str) -> str:
    """A phone number or openid as staff and the customer may see it: 138****8000."""
    if len(address) <= 7:
        return "*" * len(address)
    return f"{address[:3]}{'*' * (len(address) - 7)}{address[-4:]}"
