"""Channel credentials never reach a log line, the console, or what staff see of a notice.

The credentials come from a secret on the local stack's Secrets Manager, as on AWS. Every
provider then fails in its own way (an error code, HTTP 500, a refused connection, a bad
signature, a rejected app secret), because a failure is where a careless client logs its URL
or request. The notifier's entry point is driven with a stream record of a due notice; the
service's delivery is driven for each channel.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer

from cloud.adapters.dynamodb_alerts import notice_item
from cloud.channels.config import SecretChannels
from cloud.domain.alerts import Audience, Notice, NoticeState
from cloud.service import notifier
from cloud.settings import store
from infra.local.aws import free_port
from infra.local.lambdas import LambdaContext
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient


class Provider(BaseHTTPRequestHandler):
    """WeCom, WeChat and Aliyun in one server, each refusing."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if "robot-500" in self.path:
            self._json(500, {"message": "internal error"})
        else:
            self._json(200, {"errcode": 93000, "errmsg": "invalid webhook url"})

    def do_GET(self) -> None:
        if self.path.startswith("/cgi-bin/token"):
            self._json(200, {"errcode": 40125, "errmsg": "invalid appsecret, rid: 1"})
        else:  # Aliyun's RPC endpoint
            self._json(
                400,
                {
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched with our calculation.",
                },
            )


@pytest.fixture
def provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_credentials_stay_out_of_logs_and_notices(
    stack: LocalStack,
    api_key: str,
    provider: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)  # the channels' budgets are counted per minute of this clock
    hidden = {name: f"{name}-{secrets.token_hex(12)}" for name in ("robot", "wechat", "aliyun")}
    config = {
        "wecom": {
            "maintenance": f"{provider}/cgi-bin/webhook/send?key={hidden['robot']}",
            "lead": f"{provider}/cgi-bin/webhook/send?key=robot-500-{hidden['robot']}",
            "staff": f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send?key={hidden['robot']}",
        },
        "wechat": {
            "appid": "wx0123",
            "secret": hidden["wechat"],
            "template_id": "T1",
            "api": provider,
        },
        "sms": "aliyun",
        "aliyun": {
            "access_key_id": "LTAI-test",
            "access_key_secret": hidden["aliyun"],
            "sign_name": "印厂",
            "template_code": "SMS_1",
            "endpoint": provider,
        },
    }
    arn = boto3.client("secretsmanager").create_secret(
        Name=f"presstrack-leak-{secrets.token_hex(4)}", SecretString=json.dumps(config)
    )["ARN"]
    channels = SecretChannels(arn)
    caplog.set_level(logging.INFO)
    tag = secrets.token_hex(4)

    def notice(audience: Audience, address: str, channel: str) -> Notice:
        return Notice(
            f"leak-{tag}#{audience.value}#{address}",
            audience,
            address,
            channel,
            "测试",
            "纸张卡纸",
            now,
            order_no=f"LEAK-{tag}",
        )

    delivered = [
        notifier.deliver(store(), channels.senders(), notice(audience, address, channel), now)
        for audience, address, channel in [
            (Audience.MAINTENANCE, "maintenance", "wecom"),  # errcode
            (Audience.LEAD, "lead", "wecom"),  # HTTP 500
            (Audience.STAFF, "staff", "wecom"),  # connection refused
            (Audience.CUSTOMER, "oOPENID", "wechat"),  # app secret rejected
            (Audience.CUSTOMER, "+8613800000000", "sms"),  # signature refused
        ]
    ]
    assert all(not n.attempts[-1].ok for n in delivered), "every provider refused"

    # and through the Lambda entry point, with a stream record of a due notice
    from cloud.handlers import notifier as handler

    monkeypatch.setattr(handler, "channels", lambda: channels)
    due = notice(Audience.MAINTENANCE, "maintenance", "wecom")
    due = replace(due, key=f"{due.key}#stream", state=NoticeState.DUE)
    image = {k: TypeSerializer().serialize(v) for k, v in notice_item(due).items()}
    answer = handler.lambda_handler(
        {
            "Records": [
                {
                    "eventID": "1",
                    "eventName": "INSERT",
                    "eventSource": "aws:dynamodb",
                    "dynamodb": {"NewImage": image, "SequenceNumber": "1", "Keys": {}},
                }
            ]
        },
        LambdaContext("NotifierFunction", 30),
    )
    assert answer == {"batchItemFailures": []}

    staff_view = json.dumps(ApiClient(stack.base_url, api_key).call("GET", "/api/notices"))
    assert f"LEAK-{tag}" in staff_view
    out, err = capfd.readouterr()
    logged = caplog.text + out + err
    assert "failed" in logged, "the failures were logged"
    for name, value in hidden.items():
        assert value not in logged, f"the {name} credential reached the logs"
        assert value not in staff_view, f"the {name} credential reached the notices"
