"""Channel credentials and API keys never reach the logs, even when a channel fails."""

from __future__ import annotations

import json

import pytest

from cloud.handlers import notifier as notifier_handler
from infra.local.aws import client
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient
from tests.helpers import wait_for

WEBHOOK_KEY = "SECRET-WEBHOOK-KEY-42"
ALIYUN_SECRET = "ALIYUN-SECRET-99"


def test_secrets_and_keys_are_not_logged(
    stack: LocalStack,
    api_key: str,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets = client("secretsmanager", stack.endpoint)
    secret_id = stack.template.physical_name("ChannelSecret")
    config = {
        "wecom": {"staff": f"http://127.0.0.1:9/cgi-bin/webhook/send?key={WEBHOOK_KEY}"},
        "sms": "aliyun",
        "aliyun": {
            "access_key_id": "LTAI-test",
            "access_key_secret": ALIYUN_SECRET,
            "sign_name": "印厂",
            "template_code": "SMS_1",
            "endpoint": "http://127.0.0.1:9",
        },
    }
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(config))
    notifier_handler.channels.cache_clear()
    try:
        api = ApiClient(stack.base_url, api_key)
        created = api.call(
            "POST",
            "/api/orders",
            {
                "order_no": "LOG-1",
                "customer": "C",
                "product": "P",
                "quantity": 5,
                "due": "2026-12-31",
            },
        )
        ApiClient(stack.base_url, "pt_not-a-real-key-SECRET").request("GET", "/api/orders")
        customer = ApiClient(stack.base_url)
        customer.call("POST", f"/api/track/{created['token']}/messages", {"text": "在吗?"})

        def failed_attempt() -> bool:
            return any(
                n["order_no"] == "LOG-1" and n["channel"] == "wecom" and n["attempts"]
                for n in api.call("GET", "/api/notices")
            )

        wait_for(failed_attempt, 60, "the staff notice to be tried on the dead robot")
        staff = next(n for n in api.call("GET", "/api/notices") if n["order_no"] == "LOG-1")
        assert staff["attempts"][0]["ok"] is False
        assert WEBHOOK_KEY not in json.dumps(staff)
    finally:
        secrets.put_secret_value(SecretId=secret_id, SecretString="{}")
        notifier_handler.channels.cache_clear()
    out, err = capfd.readouterr()
    logged = out + err + caplog.text
    assert "failed" in logged  # the failure itself is logged ...
    for secret in (WEBHOOK_KEY, ALIYUN_SECRET, api_key, "pt_not-a-real-key-SECRET"):
        assert secret not in logged  # ... without what would let someone use it
