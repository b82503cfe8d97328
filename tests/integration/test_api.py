"""The HTTP API through the local API Gateway: validation, idempotency, tracking, OpenAPI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from infra.local.aws import LOCAL_CREDENTIALS
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient

ROOT = Path(__file__).resolve().parents[2]
ORDER = {
    "order_no": "API-1",
    "customer": "王先生",
    "product": "Picture book",
    "quantity": 2000,
    "due": "2026-12-24",
}


def test_create_is_idempotent_by_order_number(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    status, first = api.request("POST", "/api/orders", ORDER)
    again_status, again = api.request("POST", "/api/orders", ORDER)
    assert (status, again_status) == (201, 200)
    assert first["token"] == again["token"]


def test_malformed_bodies_get_422_naming_the_field(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    status, answer = api.request("POST", "/api/orders", {**ORDER, "quantity": -5})
    assert status == 422
    assert any(d["loc"][-1] == "quantity" for d in answer["detail"])
    status, answer = api.request("POST", "/api/orders", {**ORDER, "due": "someday"})
    assert status == 422
    assert any(d["loc"][-1] == "due" for d in answer["detail"])


def test_tracking_json_and_page(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    created = api.call("POST", "/api/orders", {**ORDER, "order_no": "API-2"})
    view = api.call("GET", created["tracking_json"])
    assert (view["order_no"], view["printed"], view["planned"]) == ("API-2", 0, 2000)
    assert "王先生" not in json.dumps(view, ensure_ascii=False)
    page = api.call("GET", created["tracking_page"])
    assert "API-2" in page
    assert 'id="s-printing" class="pending" data-state="pending"' in page
    assert view["estimate"]["delivery"] > view["stages"][0]["expected_end"]
    status, _ = api.request("GET", "/api/track/" + "A" * 32)
    assert status == 404


def test_assigning_an_unknown_stage_is_404(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    api.call("POST", "/api/orders", {**ORDER, "order_no": "API-3"})
    status, _ = api.request(
        "PUT", "/api/orders/API-3/stages/varnish/machine", {"site": "s", "machine": "m"}
    )
    assert status == 404
    status, answer = api.request("PUT", "/api/orders/API-3/stages/printing/machine", {"site": "s"})
    assert status == 422
    assert any(d["loc"][-1] == "machine" for d in answer["detail"])


def test_openapi_document_is_served_and_committed(stack: LocalStack, api_key: str) -> None:
    served = ApiClient(stack.base_url, api_key).call("GET", "/api/openapi.json")
    assert served["openapi"].startswith("3.1")
    assert served == json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert "/api/orders" in served["paths"]


def test_every_write_route_needs_a_known_key(stack: LocalStack, api_key: str) -> None:
    writes = [
        ("POST", "/api/orders", {**ORDER, "order_no": "API-KEY"}),
        ("PUT", "/api/orders/API-KEY/stages/printing/machine", {"site": "s", "machine": "m"}),
    ]
    for key in (None, "pt_not-a-key"):
        for method, path, body in writes:
            status, answer = ApiClient(stack.base_url, key).request(method, path, body)
            assert status == 401, (method, path, key)
            assert "API key" in answer["message"]
    assert ApiClient(stack.base_url, api_key).request(*writes[0])[0] == 201


def test_the_public_routes_need_no_key(stack: LocalStack, api_key: str) -> None:
    created = ApiClient(stack.base_url, api_key).call(
        "POST", "/api/orders", {**ORDER, "order_no": "API-PUBLIC"}
    )
    anonymous = ApiClient(stack.base_url)
    assert anonymous.request("GET", created["tracking_json"])[0] == 200
    assert anonymous.request("GET", created["tracking_page"])[0] == 200
    assert anonymous.request("GET", "/api/openapi.json")[0] == 200


def test_apikey_create_issues_a_key_the_api_accepts(stack: LocalStack) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "presstrack",
            "apikey",
            "create",
            "--name",
            "ERP",
            "--table",
            stack.template.physical_name("Table"),
            "--endpoint-url",
            stack.endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, **LOCAL_CREDENTIALS},
    )
    secret = done.stdout.split()[0]
    client = ApiClient(stack.base_url, secret)
    assert client.request("POST", "/api/orders", {**ORDER, "order_no": "API-CLI"})[0] == 201


def test_operator_taps_move_the_timeline(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    created = api.call("POST", "/api/orders", {**ORDER, "order_no": "API-TAP"})
    done = api.call(
        "POST",
        "/api/orders/API-TAP/stages/design/complete",
        {"by": "王师傅", "note": "proof signed"},
    )
    assert (done["state"], done["by"]) == ("done", "王师傅")
    started = api.call("POST", "/api/orders/API-TAP/stages/ctp/start", {"by": "plate room"})
    assert started["state"] == "active"
    view = api.call("GET", created["tracking_json"])
    states = {s["code"]: s["state"] for s in view["stages"]}
    assert (states["design"], states["ctp"], view["status"]) == ("done", "active", "ctp")
    assert "王师傅" not in json.dumps(view, ensure_ascii=False)  # staff names stay inside
    status, answer = api.request("POST", "/api/orders/API-TAP/stages/ctp/complete", {"by": ""})
    assert status == 422
    assert answer["detail"][0]["loc"][-1] == "by"
    status, _ = ApiClient(stack.base_url).request(
        "POST", "/api/orders/API-TAP/stages/ctp/complete", {"by": "x"}
    )
    assert status == 401


def test_orders_are_listed_by_due_date_and_filtered(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    for number, due in (("LIST-2", "2027-01-20"), ("LIST-1", "2027-01-10")):
        api.call(
            "POST",
            "/api/orders",
            {**ORDER, "order_no": number, "customer": "Filter Books Ltd", "due": due},
        )
    found = api.call("GET", "/api/orders?customer=filter%20books")
    assert [o["order_no"] for o in found] == ["LIST-1", "LIST-2"]
    assert found[0]["status"] == "design"
    early = api.call("GET", "/api/orders?customer=filter&due_before=2027-01-15")
    assert [o["order_no"] for o in early] == ["LIST-1"]
    status, answer = api.request("GET", "/api/orders?due_before=soon")
    assert status == 422
    assert answer["detail"][0]["loc"][-1] == "due_before"


def test_a_reported_delay_shows_on_the_tracking_page(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    created = api.call("POST", "/api/orders", {**ORDER, "order_no": "API-LATE"})
    api.call(
        "POST",
        "/api/orders/API-LATE/stages/design/delay",
        {
            "by": "lead",
            "reason": "等待客户确认稿件",
            "expected_recovery": "2026-12-24T10:00:00+08:00",
        },
    )
    view = api.call("GET", created["tracking_json"])
    design = next(s for s in view["stages"] if s["code"] == "design")
    assert (design["state"], design["delay_reason"]) == ("delayed", "等待客户确认稿件")
    page = api.call("GET", created["tracking_page"])
    assert "等待客户确认稿件" in page
    assert 'data-state="delayed"' in page
    status, answer = api.request(
        "POST",
        "/api/orders/API-LATE/stages/design/delay",
        {"by": "lead", "reason": "x", "expected_recovery": "noon"},
    )
    assert status == 422
    assert answer["detail"][0]["loc"][-1] == "expected_recovery"
    assert (
        api.call("POST", "/api/orders/API-LATE/stages/design/resolve", {"by": "lead"})["state"]
        == "pending"
    )


def test_a_gift_box_follows_its_route_template(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    templates = {t["product_type"]: t for t in api.call("GET", "/api/routes")}
    assert set(templates) == {"sheet_job", "brochure", "gift_box", "picture_book"}
    created = api.call(
        "POST", "/api/orders", {**ORDER, "order_no": "API-BOX", "product_type": "gift_box"}
    )
    view = api.call("GET", created["tracking_json"])
    assert [s["code"] for s in view["stages"]] == [
        s["code"] for s in templates["gift_box"]["stages"]
    ]
    status, answer = api.request(
        "POST", "/api/orders", {**ORDER, "order_no": "API-BAD", "product_type": "poster"}
    )
    assert status == 422
    assert answer["detail"][0]["loc"][-1] == "product_type"


def test_the_erp_changes_and_cancels_orders(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    created = api.call("POST", "/api/orders", {**ORDER, "order_no": "API-CHG"})
    changed = api.call("PATCH", "/api/orders/API-CHG", {"quantity": 2500, "due": "2026-12-30"})
    assert (changed["quantity"], changed["planned"], changed["due"]) == (2500, 2500, "2026-12-30")
    cancel = {"by": "office", "reason": "customer withdrew"}
    assert api.call("POST", "/api/orders/API-CHG/cancel", cancel)["status"] == "cancelled"
    assert api.call("POST", "/api/orders/API-CHG/cancel", cancel)["status"] == "cancelled"
    view = api.call("GET", created["tracking_json"])
    assert view["summary"]["zh"].startswith("您的订单已取消")
    status, _ = api.request("PATCH", "/api/orders/API-CHG", {"quantity": 10})
    assert status == 422
    status, answer = api.request("PATCH", "/api/orders/API-CHG", {"quantity": -1})
    assert status == 422
    assert answer["detail"][0]["loc"][-1] == "quantity"


def test_history_analytics_and_csv_export(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    api.call("POST", "/api/orders", {**ORDER, "order_no": "API-HIST"})
    for code in ("design", "ctp"):
        api.call("POST", f"/api/orders/API-HIST/stages/{code}/start", {"by": "op"})
        api.call("POST", f"/api/orders/API-HIST/stages/{code}/complete", {"by": "op"})
    timeline = api.call("GET", "/api/orders/API-HIST/history")
    assert [t["state"] for t in timeline][:3] == ["done", "done", "pending"]
    assert timeline[0]["hours"] is not None
    assert timeline[0]["by"] == "op"
    stats = api.call("GET", "/api/analytics")
    assert any(s["key"] == "design" for s in stats["stages"])
    exported = api.call("GET", "/api/export/orders.csv")
    assert exported.startswith("order_no,customer,product")
    assert "API-HIST" in exported
    assert ApiClient(stack.base_url).request("GET", "/api/export/orders.csv")[0] == 401


def test_the_machine_registry(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    entry = {
        "name": "Heidelberg XL 106 perfector",
        "kind": "press",
        "rated_per_hour": 18000,
        "impressions_per_sheet": 2,
    }
    registered = api.call("PUT", "/api/machines/shop/xl106", entry)
    assert (registered["machine"], registered["impressions_per_sheet"]) == ("shop/xl106", 2)
    listed = {m["machine"]: m for m in api.call("GET", "/api/machines")}
    assert listed["shop/xl106"]["name"] == "Heidelberg XL 106 perfector"
    status, answer = api.request(
        "PUT", "/api/machines/shop/xl106", {**entry, "impressions_per_sheet": 0}
    )
    assert status == 422
    assert answer["detail"][0]["loc"][-1] == "impressions_per_sheet"


def test_every_route_but_the_customers_needs_a_key_before_anything_else(
    stack: LocalStack,
) -> None:
    """Read from template.yaml: whatever is added later is covered too."""
    routes = [r for f in stack.template.functions() for r in f.routes]
    anonymous, wrong = ApiClient(stack.base_url), ApiClient(stack.base_url, "pt_wrong")
    customers = {
        ("GET", "/api/track/{token}"),
        ("GET", "/t/{token}"),
        ("GET", "/t/{token}/photos/{photo_id}"),
        ("GET", "/track"),
        ("GET", "/api/openapi.json"),
        ("GET", "/staff/outbox"),  # a shell without data: it asks for a key
        ("POST", "/api/lookup"),
        ("POST", "/api/track/{token}/messages"),
        ("POST", "/api/track/{token}/subscriptions"),
    }
    public = 0
    for route in routes:
        path = re.sub(r"\{[^}]+\}", "x" * 32, route.path)
        if (route.method, route.path) in customers:
            public += 1
            continue
        for client in (anonymous, wrong):
            body = {"not": "even valid"} if route.method != "GET" else None
            status, _ = client.request(route.method, path, body)
            assert status == 401, (route.method, route.path)
    assert public == len(customers)
    assert len(routes) - public >= 25


def test_standard_hours_finer_than_dynamodb_keeps_are_rounded_not_a_500(
    stack: LocalStack, api_key: str
) -> None:
    """Found by the contract run: 5e-324 hours could not be stored and answered 500."""
    api = ApiClient(stack.base_url, api_key)
    route = [
        {"code": "design", "name": "设计", "standard_hours": 5e-324},
        {"code": "printing", "name": "印刷", "kind": "machine", "standard_hours": 2.123456789},
    ]
    created = api.call("POST", "/api/orders", {**ORDER, "order_no": "API-TINY", "route": route})
    view = api.call("GET", created["tracking_json"])
    assert [s["code"] for s in view["stages"]] == ["design", "printing"]
