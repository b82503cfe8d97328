"""Delivery through a configured channel, its budget and the digest, on the real table."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cloud.channels.base import Sender
from cloud.channels.config import Outbox
from cloud.channels.wecom import WeComRobots
from cloud.domain.alerts import Audience, Notice, NoticeState
from cloud.service import detector, notifier
from cloud.settings import store
from infra.local.stack import LocalStack

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def robot_server(received: list[dict[str, Any]]) -> ThreadingHTTPServer:
    class Robot(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            body = b'{"errcode":0,"errmsg":"ok"}'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_robot_gets_20_a_minute_and_the_rest_as_one_digest(stack: LocalStack) -> None:
    received: list[dict[str, Any]] = []
    server = robot_server(received)
    url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=k"
    senders: dict[str, Sender] = {"wecom": WeComRobots({"lead": url}), "outbox": Outbox()}
    shop = store()
    try:
        states = []
        for n in range(25):
            notice = Notice(
                f"budget-test#{n}#lead#lead",
                Audience.LEAD,
                "lead",
                "wecom",
                f"工序超时 {n}",
                "text",
                NOW,
            )
            # delivered straight away, as the notifier does with a new due notice (stored
            # only with its outcome, so the stack's own notifier leaves it alone)
            states.append(notifier.deliver(shop, senders, notice, NOW).state)
        assert states.count(NoticeState.SENT) == 20
        assert states.count(NoticeState.DIGEST) == 5
        assert len(received) == 20
        _released, digests = detector.release_notices(shop, NOW + timedelta(minutes=1))
        assert digests == 1
        mine = [x for x in shop.list_notices(NOW) if x.address == "lead"]
        digest = next(x for x in mine if x.key.startswith("digest#wecom#lead#"))
        assert digest.state in (NoticeState.DUE, NoticeState.SENT)
        assert digest.title == "汇总:5 条通知"
        assert sum(1 for x in mine if x.state is NoticeState.DIGESTED) == 5
        sent = notifier.deliver(shop, senders, digest, NOW + timedelta(minutes=1))
        assert sent.state is NoticeState.SENT
        assert received[-1]["markdown"]["content"].startswith("**汇总:5 条通知**")
    finally:
        server.shutdown()
        server.server_close()


def test_a_failing_channel_is_retried_with_backoff_and_every_attempt_kept(
    stack: LocalStack,
) -> None:
    shop = store()
    dead: dict[str, Sender] = {
        "wecom": WeComRobots({"maintenance": "http://127.0.0.1:9/nothing"}),
        "outbox": Outbox(),
    }
    notice = Notice(
        "retry-test#maintenance#maintenance",
        Audience.MAINTENANCE,
        "maintenance",
        "wecom",
        "设备故障",
        "x",
        NOW,
    )
    tried = notifier.deliver(shop, dead, notice, NOW)
    assert not shop.add_notice(notice)  # the same key again is the same notice
    assert tried.state is NoticeState.RETRY
    assert tried.not_before == NOW + timedelta(seconds=30)
    assert tried.attempts[0].ok is False
    assert "unreachable" in tried.attempts[0].detail
    released, _ = detector.release_notices(shop, NOW + timedelta(seconds=31))
    assert released >= 1
    again = next(x for x in shop.list_notices(NOW) if x.key == notice.key)
    assert again.state in (NoticeState.DUE, NoticeState.RETRY, NoticeState.SENT)


def test_the_schedule_from_template_yaml_runs_the_detector(stack: LocalStack) -> None:
    (schedule,) = stack.schedules
    assert schedule.event.seconds == 60  # rate(1 minute), as declared
    before = schedule.runs
    answer = schedule.fire()  # what EventBridge does every minute
    assert schedule.runs == before + 1
    assert set(answer) == {"opened", "closed", "customers", "released", "digests"}
