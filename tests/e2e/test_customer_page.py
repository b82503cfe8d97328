"""The customer's page in headless Chromium against the local stack.

A press's sheets arrive over MQTT through the topic rule, SQS and the ingest function; staff act
through the API; the customer only has the browser. Set PRESSTRACK_SCREENSHOTS to a folder to keep
the screenshots (`make screenshots` writes docs/screenshots/).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient
from presstrack.wire import Counters, ItemState, MachineSnapshot, MachineState, OperationMode
from tests.helpers import publish

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
GREEN, YELLOW, GREY, RED = (
    "rgb(46, 125, 50)",
    "rgb(249, 168, 37)",
    "rgb(158, 158, 158)",
    "rgb(198, 40, 40)",
)
PHONE = "13700001234"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="zh-CN"
    )
    opened = context.new_page()
    yield opened
    context.close()


def shot(page: Page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("PRESSTRACK_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


class Press:
    """A press that prints by publishing snapshots, as an edge agent would."""

    def __init__(self, stack: LocalStack, name: str) -> None:
        self.stack, self.name, self.seq, self.count = stack, name, 0, 500_000
        self.ts = datetime.now(UTC)

    def run(self, sheets: int, steps: int = 4) -> None:
        running = MachineState(item=ItemState.EXECUTING, mode=OperationMode.PROCESSING)
        snapshots = []
        for _ in range(steps):
            self.seq += 1
            self.count += sheets // steps
            self.ts += timedelta(seconds=5)
            snapshots.append(
                MachineSnapshot(
                    site="shop",
                    machine=self.name,
                    agent="edge-1",
                    seq=self.seq,
                    ts=self.ts,
                    state=running,
                    counters=Counters(lifetime=self.count),
                )
            )
        publish(self.stack.mqtt_url, snapshots)


def order(api: ApiClient, order_no: str, due: date, quantity: int = 5000) -> str:
    created = api.call(
        "POST",
        "/api/orders",
        {
            "order_no": order_no,
            "customer": "陈先生",
            "product": "宣传册",
            "quantity": quantity,
            "due": due.isoformat(),
            "phone": PHONE,
        },
    )
    return str(created["tracking_page"])


def tap(api: ApiClient, order_no: str, code: str) -> None:
    for action in ("start", "complete"):
        api.call("POST", f"/api/orders/{order_no}/stages/{code}/{action}", {"by": "小李"})


def colour(page: Page, code: str) -> str:
    return str(page.eval_on_selector(f"#s-{code}", "e => getComputedStyle(e).borderLeftColor"))


def test_a_live_order_moves_without_a_reload(
    stack: LocalStack, api_key: str, page: Page, tmp_path: Path
) -> None:
    api = ApiClient(stack.base_url, api_key)
    link = order(api, "WEB-LIVE", date.today() + timedelta(days=10))
    tap(api, "WEB-LIVE", "design")
    tap(api, "WEB-LIVE", "ctp")
    press = Press(stack, "press-live")
    api.call(
        "PUT",
        "/api/orders/WEB-LIVE/stages/printing/machine",
        {"site": "shop", "machine": "press-live"},
    )
    press.run(0, 1)
    press.run(1200)
    page.goto(stack.base_url + link)
    expect(page.locator("#s-printing .n")).to_have_text("1200 / 5000 张", timeout=10_000)
    page.reload()  # the first load may have come before the sheets
    assert colour(page, "design") == GREEN
    expect(page.locator("#s-design")).to_contain_text("已完成")
    assert colour(page, "printing") == YELLOW
    expect(page.locator("#s-printing")).to_contain_text("进行中")
    expect(page.locator("#s-printing .m")).to_have_text("机器运行中")
    expect(page.locator("#s-printing .eta")).to_contain_text("预计")
    assert colour(page, "qc") == GREY
    expect(page.locator("#s-qc")).to_contain_text("计划")
    expect(page.locator("#eta b")).not_to_be_empty()
    expect(page.locator("#summary")).to_contain_text("预计")
    shot(page, "live-order", tmp_path)

    page.evaluate("window.stillHere = true")
    press.run(1800)
    expect(page.locator("#s-printing .n")).to_have_text("3000 / 5000 张", timeout=15_000)
    assert page.evaluate("window.stillHere") is True  # updated in place, not reloaded

    page.fill("#say textarea", "请问周五能发货吗?")
    page.click("#say button")
    expect(page.locator("#thread")).to_contain_text("请问周五能发货吗?", timeout=10_000)
    thread = api.call("GET", "/api/orders/WEB-LIVE/messages")
    assert thread[-1]["text"] == "请问周五能发货吗?"
    api.call("POST", "/api/orders/WEB-LIVE/messages", {"text": "可以。", "by": "客服"})
    expect(page.locator("#thread li.shop")).to_contain_text("可以。", timeout=15_000)

    page.click("#lang")
    expect(page.locator("#summary")).to_contain_text("Your order is in printing", timeout=10_000)
    expect(page.locator("#s-printing .n")).to_have_text("3000 / 5000 sheets")
    expect(page.locator("#s-printing .m")).to_have_text("Machine running")
    expect(page.locator("#say h2")).to_have_text("Messages")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.evaluate("window.stillHere") is True

    page.fill("#sub input", "139 1234 5678")
    page.click("#sub button")
    expect(page.locator("#subbed")).to_contain_text("139****5678", timeout=10_000)


def test_a_delayed_order_shows_red_with_reason_recovery_and_action(
    stack: LocalStack, api_key: str, page: Page, tmp_path: Path
) -> None:
    api = ApiClient(stack.base_url, api_key)
    link = order(api, "WEB-LATE", date.today())
    tap(api, "WEB-LATE", "design")
    recovery = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
    api.call(
        "POST",
        "/api/orders/WEB-LATE/stages/ctp/delay",
        {
            "by": "车间主任",
            "reason": "制版机故障",
            "expected_recovery": recovery,
            "action": "维修师傅已到场,备用制版机已启用",
        },
    )
    page.goto(stack.base_url + link)
    assert colour(page, "ctp") == RED
    delayed = page.locator("#s-ctp")
    expect(delayed).to_contain_text("延误")
    expect(delayed).to_contain_text("制版机故障")
    expect(delayed).to_contain_text("恢复")
    expect(delayed).to_contain_text("维修师傅已到场")
    expect(page.locator("#eta")).to_contain_text("可能延期")
    assert "late" in (page.get_attribute("#eta", "class") or "")
    shot(page, "delayed-order", tmp_path)


def test_a_finished_order(stack: LocalStack, api_key: str, page: Page, tmp_path: Path) -> None:
    api = ApiClient(stack.base_url, api_key)
    link = order(api, "WEB-DONE", date.today() + timedelta(days=3), quantity=800)
    for code in ("design", "ctp", "printing", "post_press", "qc", "shipped"):
        tap(api, "WEB-DONE", code)
    page.goto(stack.base_url + link)
    expect(page.locator("#eta")).to_contain_text("订单已完成")
    for code in ("design", "printing", "shipped"):
        assert colour(page, code) == GREEN
    shot(page, "finished-order", tmp_path)


def test_lookup_finds_the_order_and_is_rate_limited(
    stack: LocalStack, api_key: str, page: Page
) -> None:
    api = ApiClient(stack.base_url, api_key)
    link = order(api, "WEB-FIND", date.today() + timedelta(days=5))
    page.goto(stack.base_url + "/track")
    page.fill("input[name=order_no]", "WEB-FIND")
    page.fill("input[name=phone]", "1234")
    page.click("button")
    page.wait_for_url(stack.base_url + link)
    expect(page.locator("h1")).to_contain_text("WEB-FIND")

    page.goto(stack.base_url + "/track")
    answers = []
    for guess in range(12):
        page.fill("input[name=order_no]", "WEB-FIND")
        page.fill("input[name=phone]", f"{guess:04d}")
        with page.expect_response("**/api/lookup") as response:
            page.click("button")
        answers.append(response.value.status)
    assert 404 in answers
    assert answers[-1] == 429
    expect(page.locator("#why")).to_contain_text("尝试次数过多")
