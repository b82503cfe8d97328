"""The customer's side through the local API Gateway on moto: lookup and its rate limit, links
that expire and are withdrawn, messages, push opt-in, photos in S3, the shop's calendar."""

from __future__ import annotations

import json
import re
import secrets
import urllib.request
from datetime import UTC, datetime, timedelta

from cloud.adapters.dynamodb_customer import DynamoCustomerStore
from cloud.domain.links import TrackingLink
from infra.local.aws import client
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient

PHONE = "+86 138-0013-8000"


def _order(api: ApiClient, order_no: str, **extra: object) -> dict[str, str]:
    body = {
        "order_no": order_no,
        "customer": "李女士",
        "product": "Gift box",
        "quantity": 3000,
        "due": "2026-12-30",
        "product_type": "gift_box",
        "phone": PHONE,
        **extra,
    }
    created: dict[str, str] = api.call("POST", "/api/orders", body)
    return created


def _table(stack: LocalStack) -> DynamoCustomerStore:
    return DynamoCustomerStore(
        stack.template.physical_name("Table"), client("dynamodb", stack.endpoint)
    )


def test_lookup_by_whole_phone_or_last_four_and_the_same_answer_when_wrong(
    stack: LocalStack, api_key: str
) -> None:
    staff = ApiClient(stack.base_url, api_key)
    created = _order(staff, "LOOK-1")
    customer = ApiClient(stack.base_url, source="127.0.0.2")
    for phone in ("13800138000", "8000", "+86 13800138000"):
        found = customer.call("POST", "/api/lookup", {"order_no": "LOOK-1", "phone": phone})
        assert found["tracking_page"] == created["tracking_page"]
    wrong_phone = customer.request("POST", "/api/lookup", {"order_no": "LOOK-1", "phone": "1234"})
    wrong_order = customer.request("POST", "/api/lookup", {"order_no": "NOPE-9", "phone": "8000"})
    assert wrong_phone == wrong_order
    assert wrong_phone[0] == 404


def test_lookup_is_rate_limited_per_order_and_per_client(stack: LocalStack, api_key: str) -> None:
    _order(ApiClient(stack.base_url, api_key), "LOOK-2")
    statuses = []
    for n in range(12):  # someone walking the last four digits of one order's phone
        walker = ApiClient(stack.base_url, source=f"127.0.1.{n + 1}")
        status, answer = walker.request(
            "POST", "/api/lookup", {"order_no": "LOOK-2", "phone": f"{n:04d}"}
        )
        statuses.append(status)
    assert statuses[:10] == [404] * 10
    assert statuses[10:] == [429, 429]
    assert "try again" in answer["message"]
    one = ApiClient(stack.base_url, source="127.0.2.1")
    tries = [
        one.request("POST", "/api/lookup", {"order_no": f"X-{n}", "phone": "0000"})[0]
        for n in range(11)
    ]
    assert tries[-1] == 429
    assert 404 in tries


def test_several_links_per_order_listed_revocable_and_expiring(
    stack: LocalStack, api_key: str
) -> None:
    staff = ApiClient(stack.base_url, api_key)
    first = _order(staff, "LINK-1")
    group = staff.call("POST", "/api/orders/LINK-1/links", {"label": "WeChat group"})
    assert len(group["token"]) >= 22  # 192 random bits, URL-safe
    links = staff.call("GET", "/api/orders/LINK-1/links")
    assert {link["label"] for link in links} == {"order", "WeChat group"}
    assert all(link["live"] for link in links)
    staff.call("DELETE", f"/api/orders/LINK-1/links/{group['token']}")
    assert staff.request("GET", f"/api/track/{group['token']}")[0] == 404
    assert staff.request("GET", first["tracking_json"])[0] == 200
    lapsed = TrackingLink(
        secrets.token_urlsafe(24),
        "LINK-1",
        datetime.now(UTC) - timedelta(days=200),
        datetime.now(UTC) - timedelta(days=20),
        "old",
    )
    _table(stack).put_link(lapsed)
    assert staff.request("GET", f"/api/track/{lapsed.token}")[0] == 404
    assert staff.request("GET", f"/t/{lapsed.token}")[0] == 404
    listed = {link["label"]: link["live"] for link in staff.call("GET", "/api/orders/LINK-1/links")}
    assert listed == {"order": True, "WeChat group": False, "old": False}


def test_messages_from_the_page_and_replies_from_staff(stack: LocalStack, api_key: str) -> None:
    staff = ApiClient(stack.base_url, api_key)
    created = _order(staff, "MSG-1")
    token = created["token"]
    customer = ApiClient(stack.base_url)
    status, _ = customer.request("POST", f"/api/track/{token}/messages", {"text": "能提前吗?"})
    assert status == 201
    status, bad = customer.request("POST", f"/api/track/{token}/messages", {"text": ""})
    assert status == 422
    assert bad["detail"][0]["loc"][-1] == "text"
    thread = staff.call("GET", "/api/orders/MSG-1/messages")
    assert [(m["sender"], m["text"]) for m in thread] == [("customer", "能提前吗?")]
    staff.call("POST", "/api/orders/MSG-1/messages", {"text": "可以,周五发货。", "by": "小张"})
    view = customer.call("GET", created["tracking_json"])
    assert [(m["sender"], m["text"]) for m in view["messages"]] == [
        ("customer", "能提前吗?"),
        ("shop", "可以,周五发货。"),
    ]
    assert "小张" not in json.dumps(view, ensure_ascii=False)


def test_push_opt_in_masks_the_number_and_names_a_missing_field(
    stack: LocalStack, api_key: str
) -> None:
    token = _order(ApiClient(stack.base_url, api_key), "SUB-1")["token"]
    customer = ApiClient(stack.base_url)
    done = customer.call(
        "POST", f"/api/track/{token}/subscriptions", {"channel": "sms", "phone": "13912345678"}
    )
    assert done["address"] == "139****5678"
    done = customer.call(
        "POST", f"/api/track/{token}/subscriptions", {"channel": "wechat", "openid": "oABC_123456"}
    )
    assert done["channel"] == "wechat"
    status, answer = customer.request(
        "POST", f"/api/track/{token}/subscriptions", {"channel": "sms"}
    )
    assert status == 422
    assert "phone" in answer["message"]
    subs = _table(stack).list_subscriptions("SUB-1")
    assert {(s.channel.value, s.address) for s in subs} == {
        ("sms", "13912345678"),
        ("wechat", "oABC_123456"),
    }


def _upload(upload: dict[str, object], data: bytes, content_type: str) -> int:
    boundary = secrets.token_hex(8)
    fields = dict(upload["fields"])  # type: ignore[call-overload]
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        str(upload["url"]),
        data=b"".join(parts),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.status)


def test_photos_upload_by_signed_form_are_checked_and_shown_by_expiring_links(
    stack: LocalStack, api_key: str
) -> None:
    staff = ApiClient(stack.base_url, api_key)
    created = _order(staff, "PIC-1")
    png = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(300)
    status, bad = staff.request(
        "POST",
        "/api/orders/PIC-1/stages/design/photos",
        {"content_type": "image/gif", "size": 10, "by": "小王"},
    )
    assert status == 422
    assert bad["detail"][0]["loc"][-1] == "content_type"
    status, _ = staff.request(
        "POST",
        "/api/orders/PIC-1/stages/design/photos",
        {"content_type": "image/png", "size": 20_000_000, "by": "小王"},
    )
    assert status == 422
    upload = staff.call(
        "POST",
        "/api/orders/PIC-1/stages/design/photos",
        {"content_type": "image/png", "size": len(png), "by": "小王", "caption": "打样"},
    )
    pending = staff.call("POST", f"/api/orders/PIC-1/photos/{upload['photo_id']}/confirm")
    assert pending["state"] == "pending"  # nothing uploaded yet
    assert _upload(upload, png, "image/png") in (200, 201, 204)
    ready = staff.call("POST", f"/api/orders/PIC-1/photos/{upload['photo_id']}/confirm")
    assert ready["state"] == "ready"
    view = ApiClient(stack.base_url).call("GET", created["tracking_json"])
    design = next(s for s in view["stages"] if s["code"] == "design")
    assert design["photos"][0]["caption"] == "打样"
    assert "Expires=" in design["photos"][0]["url"]
    with urllib.request.urlopen(design["photos"][0]["url"], timeout=10) as got:
        assert got.read() == png
    with urllib.request.urlopen(
        f"{stack.base_url}/t/{created['token']}/photos/{upload['photo_id']}", timeout=10
    ) as got:
        assert got.read() == png

    liar = staff.call(
        "POST",
        "/api/orders/PIC-1/stages/design/photos",
        {"content_type": "image/png", "size": 10, "by": "小王"},
    )
    _upload(liar, png, "image/png")
    rejected = staff.call("POST", f"/api/orders/PIC-1/photos/{liar['photo_id']}/confirm")
    assert rejected["state"] == "rejected"
    assert rejected["reason"].startswith("size:")
    assert len(staff.call("GET", "/api/orders/PIC-1/photos")) == 2


def test_the_shop_calendar_is_set_through_the_api(stack: LocalStack, api_key: str) -> None:
    staff = ApiClient(stack.base_url, api_key)
    default = staff.call("GET", "/api/settings")
    assert default["zone"] == "Asia/Shanghai"
    status, bad = staff.request("PUT", "/api/settings", {**default, "zone": "Mars/Olympus"})
    assert status == 422
    assert bad["detail"][0]["loc"][-1] == "zone"
    status, bad = staff.request(
        "PUT",
        "/api/settings",
        {**default, "shifts": [{"days": [8], "start": "08:00", "end": "20:00"}]},
    )
    assert status == 422
    two_shifts = {
        **default,
        "shifts": [
            {"days": [1, 2, 3, 4, 5, 6, 7], "start": "08:00", "end": "20:00"},
            {"days": [1, 2, 3, 4, 5], "start": "20:00", "end": "04:00"},
        ],
        "logistics_hours": 36,
    }
    try:
        assert staff.call("PUT", "/api/settings", two_shifts)["logistics_hours"] == 36
        assert staff.call("GET", "/api/settings")["shifts"][1]["end"] == "04:00"
    finally:
        staff.call("PUT", "/api/settings", default)


def test_the_public_json_and_page_carry_no_phone_and_estimates_are_kept(
    stack: LocalStack, api_key: str
) -> None:
    staff = ApiClient(stack.base_url, api_key)
    created = _order(staff, "PRIV-1", phone="+86 139-2468-4721")
    public = ApiClient(stack.base_url)
    for path in (created["tracking_json"], created["tracking_page"]):
        text = json.dumps(public.call("GET", path), ensure_ascii=False)
        assert "13924684721" not in re.sub(r"[\s+-]", "", text)
        assert not re.search(r"(?<![\d.])4721(?!\d)", text)  # not even the last four
    kept = staff.call("GET", "/api/orders/PRIV-1/estimates")
    assert len(kept) == 1  # the same estimate shown twice is kept once
    assert kept[0]["delivery"] > "2026-12"
