"""Aliyun SMS (dysmsapi SendSms) over HTTP with the RPC signature (HMAC-SHA1, version 1.0)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

from cloud.channels.base import ChannelError, http_json
from cloud.domain.alerts import Notice


def percent(value: str) -> str:
    """Aliyun's percent-encoding: RFC 3986 unreserved characters stay, all else is encoded."""
    return quote(value, safe="-_.~")


def string_to_sign(params: dict[str, str], method: str = "GET") -> str:
    """METHOD&%2F&percent(sorted, encoded query)."""
    query = "&".join(
        f"{percent(k)}={percent(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    return f"{method}&{percent('/')}&{percent(query)}"


def signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    """Base64(HMAC-SHA1(secret + "&", string to sign))."""
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(params, method).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    """Sends a notice's text as the `content` variable of one approved SMS template."""

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        template_code: str,
        endpoint: str = "https://dysmsapi.aliyuncs.com",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.key_id, self.secret = access_key_id, access_key_secret
        self.sign_name, self.template_code = sign_name, template_code
        self.endpoint, self.clock = endpoint.rstrip("/"), clock

    def params(self, notice: Notice) -> dict[str, str]:
        """The signed request's parameters."""
        params = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": notice.address,
            "RegionId": "cn-hangzhou",
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps({"content": notice.text[:60]}, ensure_ascii=False),
            "Timestamp": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = signature(params, self.secret)
        return params

    def send(self, notice: Notice) -> str:
        query = "&".join(f"{percent(k)}={percent(v)}" for k, v in self.params(notice).items())
        answer = http_json(f"{self.endpoint}/?{query}")
        if answer.get("Code") != "OK":
            raise ChannelError(f"aliyun: {answer.get('Code')} {answer.get('Message')}")
        return str(answer.get("BizId", "ok"))
