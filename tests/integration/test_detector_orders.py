"""The detector's minute pass reads only open orders: a finished or cancelled order is closed
once and then left out, while staff still see every order."""

from __future__ import annotations

from datetime import UTC, datetime

from cloud.service import detector
from cloud.settings import store
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


def test_a_cancelled_order_is_closed_once_and_staff_still_list_it(
    stack: LocalStack, api_key: str
) -> None:
    api = ApiClient(stack.base_url, api_key)
    for order_no in ("OPEN-1", "GONE-1"):
        api.call(
            "POST",
            "/api/orders",
            {
                "order_no": order_no,
                "customer": "C",
                "product": "Leaflet",
                "quantity": 1_000,
                "due": "2026-12-31",
            },
        )
    api.call("POST", "/api/orders/GONE-1/cancel", {"reason": "客户取消", "by": "前台"})
    shop = store()
    assert {"OPEN-1", "GONE-1"} <= {o.order_no for o in shop.list_orders(open_only=True)}

    detector.run(shop, NOW)

    open_now = {o.order_no for o in shop.list_orders(open_only=True)}
    assert "OPEN-1" in open_now
    assert "GONE-1" not in open_now
    listed = {o["order_no"] for o in api.call("GET", "/api/orders")}
    assert {"OPEN-1", "GONE-1"} <= listed
    everything = shop.list_orders()
    assert [(o.due, o.order_no) for o in everything] == sorted(
        (o.due, o.order_no) for o in everything
    )
