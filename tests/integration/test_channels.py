"""Every channel client against a local HTTP server that checks that provider's request shape."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import boto3
import pytest

from cloud.channels.aliyun_sms import AliyunSms, signature, string_to_sign
from cloud.channels.base import ChannelError
from cloud.channels.sns_sms import SnsSms
from cloud.channels.wechat import WeChatTemplates
from cloud.channels.wecom import WeComRobots
from cloud.domain.alerts import Audience, Notice

Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, str, str]]


class Provider:
    """A provider's API on 127.0.0.1: records each request, answers with `handle`."""

    def __init__(self, handle: Handler) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        provider = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                provider.requests.append((self.command, self.path, body))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, ctype, text = handle(self.command, self.path, headers, body)
                data = text.encode()
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[Callable[[Handler], Provider]]:
    made: list[Provider] = []

    def make(handle: Handler) -> Provider:
        made.append(Provider(handle))
        return made[-1]

    yield make
    for p in made:
        p.close()


def notice(address: str, audience: Audience = Audience.MAINTENANCE) -> Notice:
    return Notice(
        f"t#{address}",
        audience,
        address,
        "x",
        "设备故障:1号机 卡纸",
        "订单 A-1 印刷\n开始于 12-03 10:00",
        datetime(2026, 12, 3, 2, tzinfo=UTC),
        link="https://shop.example/t/abc",
    )


def ok_json(body: dict[str, Any]) -> tuple[int, str, str]:
    return 200, "application/json", json.dumps(body)


def test_wecom_robot_posts_markdown_and_text_to_the_audiences_robot(
    provider: Callable[[Handler], Provider],
) -> None:
    seen: list[dict[str, Any]] = []

    def robot(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        assert (method, urlsplit(path).path) == ("POST", "/cgi-bin/webhook/send")
        assert parse_qs(urlsplit(path).query)["key"] == ["maint-key"]
        assert headers["content-type"].startswith("application/json")
        message = json.loads(body)
        assert message["msgtype"] in ("markdown", "text")
        content = message[message["msgtype"]]["content"]
        assert isinstance(content, str)
        assert len(content.encode()) <= 4096  # the robot's limit
        seen.append(message)
        return ok_json({"errcode": 0, "errmsg": "ok"})

    server = provider(robot)
    hooks = {"maintenance": f"{server.url}/cgi-bin/webhook/send?key=maint-key"}
    assert WeComRobots(hooks).send(notice("maintenance")) == "ok"
    WeComRobots(hooks, style="text").send(notice("maintenance"))
    assert seen[0]["markdown"]["content"].startswith("**设备故障:1号机 卡纸**")
    assert "[查看订单](https://shop.example/t/abc)" in seen[0]["markdown"]["content"]
    assert seen[1]["text"]["content"].startswith("设备故障")
    with pytest.raises(ChannelError, match="no robot"):
        WeComRobots(hooks).send(notice("lead", Audience.LEAD))


def test_wecom_rate_limit_answer_is_an_error_to_retry(
    provider: Callable[[Handler], Provider],
) -> None:
    server = provider(lambda *_: ok_json({"errcode": 45009, "errmsg": "api freq out of limit"}))
    robots = WeComRobots({"maintenance": f"{server.url}/cgi-bin/webhook/send?key=k"})
    with pytest.raises(ChannelError, match="45009"):
        robots.send(notice("maintenance"))


def test_wechat_template_message_caches_and_refreshes_the_access_token(
    provider: Callable[[Handler], Provider],
) -> None:
    tokens = iter(["tok-1", "tok-2", "tok-3"])
    live = {"token": ""}
    sent: list[dict[str, Any]] = []

    def wechat(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query))
        if parts.path == "/cgi-bin/token":
            assert method == "GET"
            assert query == {"grant_type": "client_credential", "appid": "wx-app", "secret": "s"}
            live["token"] = next(tokens)
            return ok_json({"access_token": live["token"], "expires_in": 7200})
        assert (method, parts.path) == ("POST", "/cgi-bin/message/template/send")
        if query["access_token"] != live["token"]:
            return ok_json({"errcode": 40001, "errmsg": "invalid credential"})
        message = json.loads(body)
        assert message["touser"] == "oOPENID123"
        assert message["template_id"] == "TPL-1"
        assert all("value" in v for v in message["data"].values())
        sent.append(message)
        return ok_json({"errcode": 0, "errmsg": "ok", "msgid": 200 + len(sent)})

    server = provider(wechat)
    now = [1000.0]
    client = WeChatTemplates("wx-app", "s", "TPL-1", api=server.url, clock=lambda: now[0])
    client.send(notice("oOPENID123", Audience.CUSTOMER))
    client.send(notice("oOPENID123", Audience.CUSTOMER))
    token_calls = [r for r in server.requests if r[1].startswith("/cgi-bin/token")]
    assert len(token_calls) == 1  # cached
    now[0] += 7200 - 299  # inside the refresh margin
    client.send(notice("oOPENID123", Audience.CUSTOMER))
    assert len([r for r in server.requests if r[1].startswith("/cgi-bin/token")]) == 2
    live["token"] = "rotated-elsewhere"  # another server took a new token: ours is stale
    assert client.send(notice("oOPENID123", Audience.CUSTOMER)) == "204"
    assert len(sent) == 4
    assert sent[0]["url"] == "https://shop.example/t/abc"


ALIYUN_DOC_EXAMPLE = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_aliyun_signature_reproduces_the_published_example() -> None:
    """Aliyun SMS signature documentation: secret testSecret, the SendSms example."""
    assert string_to_sign(ALIYUN_DOC_EXAMPLE).startswith(
        "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123"
    )
    assert signature(ALIYUN_DOC_EXAMPLE, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    rpc_example = {  # the RPC signature page's DescribeRegions example
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Version": "2014-05-26",
        "Timestamp": "2016-02-23T12:46:24Z",
    }
    assert signature(rpc_example, "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_aliyun_sms_request_is_signed_and_complete(
    provider: Callable[[Handler], Provider],
) -> None:
    received: list[dict[str, str]] = []

    def dysms(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        assert method == "GET"
        params = dict(parse_qsl(urlsplit(path).query))
        received.append(params)
        required = {"AccessKeyId", "Action", "PhoneNumbers", "SignName", "TemplateCode"}
        assert required <= set(params)
        assert params["SignatureMethod"] == "HMAC-SHA1"
        assert params["Version"] == "2017-05-25"
        if signature(params, "key-secret") != params["Signature"]:
            return ok_json({"Code": "SignatureDoesNotMatch", "Message": "bad signature"})
        if params["PhoneNumbers"] == "13900000000":
            return ok_json({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控"})
        return ok_json({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})

    server = provider(dysms)
    sms = AliyunSms("key-id", "key-secret", "印厂通知", "SMS_1", endpoint=server.url)
    assert sms.send(notice("13800138000", Audience.CUSTOMER)) == "900619746936498440^0"
    assert json.loads(received[0]["TemplateParam"])["content"].startswith("订单 A-1")
    with pytest.raises(ChannelError, match="BUSINESS_LIMIT_CONTROL"):
        sms.send(notice("13900000000", Audience.CUSTOMER))
    wrong = AliyunSms("key-id", "not-the-secret", "印厂通知", "SMS_1", endpoint=server.url)
    with pytest.raises(ChannelError, match="SignatureDoesNotMatch"):
        wrong.send(notice("13800138000", Audience.CUSTOMER))


def test_sns_sms_publishes_a_transactional_text(provider: Callable[[Handler], Provider]) -> None:
    def sns(method: str, path: str, headers: dict[str, str], body: bytes) -> Any:
        form = dict(parse_qsl(body.decode()))
        assert method == "POST"
        assert form["Action"] == "Publish"
        assert form["PhoneNumber"] == "+8613800138000"
        assert form["Message"].startswith("设备故障")
        attrs = {
            form[f"MessageAttributes.entry.{n}.Name"]: form[
                f"MessageAttributes.entry.{n}.Value.StringValue"
            ]
            for n in (1, 2)
            if f"MessageAttributes.entry.{n}.Name" in form
        }
        assert attrs["AWS.SNS.SMS.SMSType"] == "Transactional"
        assert "AWS4-HMAC-SHA256" in headers["authorization"]
        xml = (
            '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
            "<PublishResult><MessageId>m-1</MessageId></PublishResult>"
            "<ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>"
        )
        return 200, "text/xml", xml

    server = provider(sns)
    client = boto3.client(
        "sns",
        endpoint_url=server.url,
        region_name="ap-southeast-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    assert SnsSms(client).send(notice("8613800138000", Audience.CUSTOMER)) == "m-1"
