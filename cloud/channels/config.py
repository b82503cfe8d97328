"""Channel credentials from Secrets Manager, and the senders they make.

The secret is JSON; every part is optional, and whatever is not configured goes to the local
outbox (shown to staff at /staff/outbox and by GET /api/notices), so nothing is lost:

    {"wecom": {"maintenance": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...",
               "lead": "...", "staff": "..."},
     "wechat": {"appid": "wx...", "secret": "...", "template_id": "..."},
     "sms": "aliyun",
     "aliyun": {"access_key_id": "...", "access_key_secret": "...",
                "sign_name": "...", "template_code": "SMS_..."},
     "public_url": "https://track.example-print.cn"}
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Literal

import boto3
from pydantic import BaseModel, ConfigDict, Field

from cloud.channels.aliyun_sms import AliyunSms
from cloud.channels.base import Sender
from cloud.channels.sns_sms import SnsSms
from cloud.channels.wechat import WeChatTemplates
from cloud.channels.wecom import WeComRobots
from cloud.domain.alert_rules import QuietHours
from cloud.domain.alerts import Notice, Routing

log = logging.getLogger(__name__)
CACHE_S = 300.0


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WeChatConfig(_Part):
    appid: str = Field(min_length=1)
    secret: str = Field(min_length=1, repr=False)
    template_id: str = Field(min_length=1)
    api: str = "https://api.weixin.qq.com"


class AliyunConfig(_Part):
    access_key_id: str = Field(min_length=1)
    access_key_secret: str = Field(min_length=1, repr=False)
    sign_name: str = Field(min_length=1)
    template_code: str = Field(min_length=1)
    endpoint: str = "https://dysmsapi.aliyuncs.com"


class ChannelConfig(_Part):
    """What the secret holds."""

    wecom: dict[str, str] = Field(default_factory=dict, repr=False)
    wechat: WeChatConfig | None = None
    sms: Literal["aliyun", "sns"] | None = None
    aliyun: AliyunConfig | None = None
    sns_sender_id: str | None = None
    public_url: str = ""


class Outbox:
    """The local outbox: the notice record itself is what staff read; the console shows it."""

    def send(self, notice: Notice) -> str:
        log.info(
            "outbox -> %s (%s): %s | %s",
            notice.address,
            notice.audience.value,
            notice.title,
            notice.text.replace("\n", " / "),
        )
        return "local outbox"


def senders(config: ChannelConfig) -> dict[str, Sender]:
    """The channel clients the configuration allows, plus the outbox."""
    made: dict[str, Sender] = {"outbox": Outbox()}
    if config.wecom:
        made["wecom"] = WeComRobots(config.wecom)
    if config.wechat:
        w = config.wechat
        made["wechat"] = WeChatTemplates(w.appid, w.secret, w.template_id, w.api)
    if config.sms == "aliyun" and config.aliyun:
        a = config.aliyun
        made["sms"] = AliyunSms(
            a.access_key_id, a.access_key_secret, a.sign_name, a.template_code, a.endpoint
        )
    elif config.sms == "sns":
        made["sms"] = SnsSms(boto3.client("sns"), config.sns_sender_id)
    return made


def routing(config: ChannelConfig, quiet: QuietHours) -> Routing:
    """Which audiences have a channel of their own."""
    return Routing(
        robots=frozenset(config.wecom),
        sms=config.sms == "sns" or (config.sms == "aliyun" and config.aliyun is not None),
        wechat=config.wechat is not None,
        quiet=quiet,
    )


class SecretChannels:
    """The configuration read from Secrets Manager, kept for a few minutes per container."""

    def __init__(self, secret_id: str, client: Any = None) -> None:
        self.secret_id, self._client = secret_id, client
        self._config: ChannelConfig | None = None
        self._senders: dict[str, Sender] = {}
        self._read = 0.0

    def config(self) -> ChannelConfig:
        if self._config is None or time.monotonic() - self._read > CACHE_S:
            if not self.secret_id:
                self._config = ChannelConfig()
            else:
                client = self._client or boto3.client("secretsmanager")
                raw = client.get_secret_value(SecretId=self.secret_id)["SecretString"]
                self._config = ChannelConfig.model_validate(json.loads(raw or "{}"))
            self._senders = senders(self._config)
            self._read = time.monotonic()
        return self._config

    def senders(self) -> dict[str, Sender]:
        self.config()
        return self._senders
