"""Everything the public can fetch about an order, scanned for what must never be public: the
customer's phone (or its last four digits), prices, addresses, and staff members' names.

The order goes through its life first (a phone on it, operators starting, completing and
delaying stages by name, a customer message, a staff reply by name, an SMS opt-in), so every
field that could carry something private has something in it.
"""

from __future__ import annotations

import gzip
import json
import re
import urllib.request

from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient

PHONE = "+86 137-1122-9364"
STAFF = ("王师傅", "李主管", "客服小周")
PRICE = re.compile(r"[¥￥]|\bprice\b|\bRMB\b|\bCNY\b|金额|价格|单价|总价|报价", re.IGNORECASE)
# (the page script reads the opt-in answer's `r.address`: a name in code, not an address)
ADDRESS = re.compile(r"(?<!\.)\baddress\b|地址|收货|省|街道|路\d+号|\d+号楼", re.IGNORECASE)


def fetch(url: str) -> str:
    """A public GET as the customer's browser makes it (gzip accepted)."""
    request = urllib.request.Request(url, headers={"accept-encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        data = answer.read()
        if answer.headers.get("content-encoding") == "gzip":
            data = gzip.decompress(data)
        return str(data.decode("utf-8"))


def leaks(text: str) -> list[str]:
    """What in `text` must not be public."""
    found = []
    digits = re.sub(r"[\s+\-()]", "", text)
    if "13711229364" in digits:
        found.append("the phone number")
    if re.search(r"(?<![\d.])9364(?!\d)", text):
        found.append("the phone's last four digits")
    if re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", digits):
        found.append("a mobile number")
    found += [f"a price ({m.group()})" for m in PRICE.finditer(text)]
    found += [f"an address ({m.group()})" for m in ADDRESS.finditer(text)]
    found += [f"a staff name ({name})" for name in STAFF if name in text]
    return found


def test_nothing_private_in_anything_public(stack: LocalStack, api_key: str) -> None:
    staff = ApiClient(stack.base_url, api_key)
    created = staff.call(
        "POST",
        "/api/orders",
        {
            "order_no": "SCAN-1",
            "customer": "李女士",
            "product": "Gift box",
            "quantity": 3000,
            "due": "2026-12-30",
            "product_type": "gift_box",
            "phone": PHONE,
        },
    )
    stages = [s["code"] for s in staff.call("GET", created["tracking_json"])["stages"]]
    first, second = stages[0], stages[1]
    staff.call("POST", f"/api/orders/SCAN-1/stages/{first}/start", {"by": STAFF[0]})
    staff.call("POST", f"/api/orders/SCAN-1/stages/{first}/complete", {"by": STAFF[0]})
    staff.call("POST", f"/api/orders/SCAN-1/stages/{second}/start", {"by": STAFF[0]})
    staff.call(
        "POST",
        f"/api/orders/SCAN-1/stages/{second}/delay",
        {"reason": "纸张未到", "by": STAFF[1], "action": "已联系纸厂加急"},
    )
    public = ApiClient(stack.base_url)
    token = created["token"]
    answers = [public.call("POST", f"/api/track/{token}/messages", {"text": "请问什么时候发货?"})]
    opted_in = public.call(
        "POST", f"/api/track/{token}/subscriptions", {"channel": "sms", "phone": PHONE}
    )
    # the number just typed comes back masked: never whole
    assert "13711229364" not in re.sub(r"\D", "", json.dumps(opted_in))
    staff.call("POST", "/api/orders/SCAN-1/messages", {"text": "明天下午发货", "by": STAFF[2]})

    base = stack.base_url
    pages = {
        "tracking JSON": json.dumps(
            json.loads(fetch(f"{base}{created['tracking_json']}")), ensure_ascii=False
        ),
        "page (zh)": fetch(f"{base}{created['tracking_page']}"),
        "page (en)": fetch(f"{base}{created['tracking_page']}?lang=en"),
        "page refresh": fetch(f"{base}{created['tracking_page']}?part=main"),
        "lookup page": fetch(f"{base}/track"),
        "answers to the customer": json.dumps(answers, ensure_ascii=False),
    }
    assert "明天下午发货" in pages["tracking JSON"], "the thread is public, so it was scanned"
    assert "纸张未到" in pages["page (zh)"], "the delay is public, so it was scanned"
    found = {where: leaks(text) for where, text in pages.items()}
    assert not any(found.values()), found
