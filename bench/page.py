"""Weight and first render of the customer's tracking page, as WeChat's browser would load it.

Starts the local stack (Mosquitto, moto's server, template.yaml's functions), creates an order
in mid-production with a message thread, and loads `/t/{token}` in headless Chromium: on the
loopback network and under a weak mobile network emulated by the browser (Chrome's "Slow 3G":
400 ms round trip, 400 kbit/s each way). Reports bytes over the wire for everything the page
loads, requests and any that leave 127.0.0.1, first contentful paint (median of N loads), and
the bytes of each refresh while the page stays open.

    .venv/bin/python bench/page.py [--loads 7] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Page, sync_playwright

from cloud.domain.keys import Role
from cloud.service.keys import issue_key
from cloud.settings import store
from infra.broker import Mosquitto
from infra.local.aws import free_port
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
BUDGET = 50 * 1024


def prepare(stack: LocalStack) -> str:
    api = ApiClient(stack.base_url, issue_key(store(), "bench", Role.STAFF, datetime.now(UTC)))
    created = api.call(
        "POST",
        "/api/orders",
        {
            "order_no": "BENCH-PAGE",
            "customer": "客户",
            "product": "精装画册",
            "quantity": 8000,
            "due": (date.today() + timedelta(days=6)).isoformat(),
            "product_type": "picture_book",
            "phone": "13800001111",
        },
    )
    for code in ("design", "ctp"):
        for action in ("start", "complete"):
            api.call("POST", f"/api/orders/BENCH-PAGE/stages/{code}/{action}", {"by": "bench"})
    api.call("POST", "/api/orders/BENCH-PAGE/stages/printing/start", {"by": "bench"})
    token = created["token"]
    public = ApiClient(stack.base_url)
    public.call("POST", f"/api/track/{token}/messages", {"text": "请问什么时候能发货?"})
    api.call("POST", "/api/orders/BENCH-PAGE/messages", {"text": "预计周五发货。", "by": "客服"})
    return str(created["tracking_page"])


def load(page: Page, url: str) -> dict[str, Any]:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url, wait_until="load")
    page.wait_for_function(
        "performance.getEntriesByName('first-contentful-paint').length > 0", timeout=30_000
    )
    measured = page.evaluate(
        """() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const res = performance.getEntriesByType('resource');
        const fcp = performance.getEntriesByName('first-contentful-paint')[0].startTime;
        return {
          html_bytes: nav.encodedBodySize, html_decoded: nav.decodedBodySize,
          transferred: nav.transferSize + res.reduce((a, r) => a + r.transferSize, 0),
          fcp_ms: fcp, ttfb_ms: nav.responseStart - nav.requestStart
        };
    }"""
    )
    hosts = {urlsplit(u).hostname for u in requests}
    return {**measured, "requests": len(requests), "third_party": sorted(hosts - {"127.0.0.1"})}


def refresh_bytes(page: Page) -> int:
    """Bytes of one refresh of the page's main part."""
    with page.expect_response(lambda r: "part=main" in r.url, timeout=15_000) as got:
        pass
    sizes = got.value.request.sizes()
    return int(sizes["responseBodySize"] + sizes["responseHeadersSize"])


def run(loads: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(free_port(), Path(tmp))
        broker.start()
        stack = LocalStack(mqtt_url=broker.url, http_port=free_port())
        stack.start()
        try:
            url = stack.base_url + prepare(stack)
            results: dict[str, Any] = {}
            with sync_playwright() as play:
                browser = play.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for network in ("loopback", "slow_3g"):
                    runs = []
                    for _ in range(loads):
                        context = browser.new_context(viewport={"width": 390, "height": 844})
                        page = context.new_page()
                        if network == "slow_3g":
                            cdp = context.new_cdp_session(page)
                            cdp.send("Network.enable")
                            cdp.send("Network.emulateNetworkConditions", SLOW_3G)
                        runs.append(load(page, url))
                        if network == "loopback" and len(runs) == 1:
                            results["refresh_bytes"] = refresh_bytes(page)
                        context.close()
                    first = runs[0]
                    results[network] = {
                        "fcp_ms_median": round(statistics.median(r["fcp_ms"] for r in runs)),
                        "fcp_ms_max": round(max(r["fcp_ms"] for r in runs)),
                        "ttfb_ms_median": round(statistics.median(r["ttfb_ms"] for r in runs)),
                        "transferred_bytes": first["transferred"],
                        "html_bytes_on_wire": first["html_bytes"],
                        "html_bytes_decoded": first["html_decoded"],
                        "requests": first["requests"],
                        "third_party": first["third_party"],
                    }
                browser.close()
        finally:
            stack.stop()
            broker.stop()
    return {
        **results,
        "budget_bytes": BUDGET,
        "loads": loads,
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
        "date": datetime.now(UTC).date().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    result = run(args.loads)
    for network in ("loopback", "slow_3g"):
        r = result[network]
        print(
            f"{network:>9}: first contentful paint {r['fcp_ms_median']} ms median "
            f"({r['fcp_ms_max']} max of {args.loads}), server answer {r['ttfb_ms_median']} ms; "
            f"{r['transferred_bytes']} bytes over the "
            f"wire in {r['requests']} request(s) (HTML {r['html_bytes_on_wire']} gzip, "
            f"{r['html_bytes_decoded']} decoded); third-party requests: {r['third_party'] or 0}"
        )
    print(f"each refresh while open: {result['refresh_bytes']} bytes; budget {BUDGET} bytes")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
