"""The HTTP API through the local API Gateway: validation, idempotency, tracking, OpenAPI."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_create_is_idempotent_by_order_number(stack: LocalStack) -> None:
    api = ApiClient(stack.base_url)
    status, first = api.request("POST", "/api/orders", ORDER)
    again_status, again = api.request("POST", "/api/orders", ORDER)
    assert (status, again_status) == (201, 200)
    assert first["token"] == again["token"]


def test_malformed_bodies_get_422_naming_the_field(stack: LocalStack) -> None:
    api = ApiClient(stack.base_url)
    status, answer = api.request("POST", "/api/orders", {**ORDER, "quantity": -5})
    assert status == 422
    assert any(d["loc"][-1] == "quantity" for d in answer["detail"])
    status, answer = api.request("POST", "/api/orders", {**ORDER, "due": "someday"})
    assert status == 422
    assert any(d["loc"][-1] == "due" for d in answer["detail"])


def test_tracking_json_and_page(stack: LocalStack) -> None:
    api = ApiClient(stack.base_url)
    created = api.call("POST", "/api/orders", {**ORDER, "order_no": "API-2"})
    view = api.call("GET", created["tracking_json"])
    assert (view["order_no"], view["printed"], view["planned"]) == ("API-2", 0, 2000)
    assert "王先生" not in json.dumps(view, ensure_ascii=False)
    page = api.call("GET", created["tracking_page"])
    assert "API-2" in page
    assert "<progress" in page
    status, _ = api.request("GET", "/api/track/" + "A" * 32)
    assert status == 404


def test_assigning_an_unknown_stage_is_404(stack: LocalStack) -> None:
    api = ApiClient(stack.base_url)
    api.call("POST", "/api/orders", {**ORDER, "order_no": "API-3"})
    status, _ = api.request(
        "PUT", "/api/orders/API-3/stages/varnish/machine", {"site": "s", "machine": "m"}
    )
    assert status == 404
    status, answer = api.request("PUT", "/api/orders/API-3/stages/printing/machine", {"site": "s"})
    assert status == 422
    assert any(d["loc"][-1] == "machine" for d in answer["detail"])


def test_openapi_document_is_served_and_committed(stack: LocalStack) -> None:
    served = ApiClient(stack.base_url).call("GET", "/api/openapi.json")
    assert served["openapi"].startswith("3.1")
    assert served == json.loads((ROOT / "docs" / "openapi.json").read_text())
    assert "/api/orders" in served["paths"]
