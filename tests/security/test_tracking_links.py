"""Tracking links resist guessing: 10,000 guesses find nothing and the limit on misses engages."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from cloud.domain.links import TrackingLink
from cloud.service import tracking
from cloud.service.ports import CustomerStore, NotFoundError, RateLimitedError
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient

GUESSES = 10_000
CLIENTS = 100  # each stays at the limit, so every guess is really looked up
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


class Links:
    """Just the links and counters of the customer store, in memory, with the same limit rule
    as the DynamoDB adapter (a fixed window per key)."""

    def __init__(self, links: list[TrackingLink]) -> None:
        self.links = {link.token: link for link in links}
        self.hits: dict[tuple[str, int], int] = {}

    def get_link(self, token: str) -> TrackingLink | None:
        return self.links.get(token)

    def count(self, key: str, window_s: int, limit: int, now: datetime) -> int:
        start = int(now.timestamp()) // window_s * window_s
        seen = self.hits.get((key, start), 0)
        if seen >= limit:
            wait = start + window_s - int(now.timestamp())
            raise RateLimitedError(key.split("#", maxsplit=1)[0], wait)
        self.hits[(key, start)] = seen + 1
        return seen + 1


def test_ten_thousand_guesses_find_no_order_and_the_limit_engages() -> None:
    real = [TrackingLink.issue(f"O-{n}", NOW - timedelta(days=1)) for n in range(50)]
    store = cast(CustomerStore, Links(real))
    per_client = tracking.MISSES_PER_CLIENT[1]
    assert per_client == GUESSES // CLIENTS
    answers = {"hit": 0, "miss": 0, "limited": 0}
    for n in range(GUESSES):
        try:
            tracking.live_link(store, secrets.token_urlsafe(24), NOW, f"client-{n % CLIENTS}")
            answers["hit"] += 1
        except NotFoundError:
            answers["miss"] += 1
        except RateLimitedError:
            answers["limited"] += 1
    assert answers == {"hit": 0, "miss": GUESSES, "limited": 0}
    with pytest.raises(RateLimitedError):  # the 101st miss of one client in the window
        tracking.live_link(store, secrets.token_urlsafe(24), NOW, "client-7")
    assert tracking.live_link(store, real[0].token, NOW, "client-7").order_no == "O-0"
    assert len(real[0].token) == 32  # 192 bits, URL-safe


def test_the_limit_on_misses_engages_through_the_http_api(stack: LocalStack) -> None:
    window, limit = tracking.MISSES_PER_CLIENT
    if time.time() % window > window - 10:  # not across the edge of a window
        time.sleep(window - time.time() % window + 0.5)
    walker = ApiClient(stack.base_url, source="127.0.3.1")
    statuses = [
        walker.request("GET", f"/api/track/{secrets.token_urlsafe(24)}")[0]
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [404] * limit
    assert statuses[-1] == 429
    other = ApiClient(stack.base_url, source="127.0.3.2")
    assert other.request("GET", f"/api/track/{secrets.token_urlsafe(24)}")[0] == 404
