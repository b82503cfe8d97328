"""WeChat Official Account template messages, with the access token cached and refreshed
before it expires (and once more if the server says it is no longer valid)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode

from cloud.channels.base import ChannelError, http_json
from cloud.domain.alerts import Notice

REFRESH_MARGIN_S = 300  # renew this long before the token's stated expiry
STALE_TOKEN = {40001, 40014, 42001}  # invalid, invalid, expired


class WeChatTemplates:
    """Sends a notice as a template message to the subscriber's openid."""

    def __init__(
        self,
        appid: str,
        secret: str,
        template_id: str,
        api: str = "https://api.weixin.qq.com",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.appid, self.secret, self.template_id = appid, secret, template_id
        self.api, self.clock = api.rstrip("/"), clock
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def token(self, force: bool = False) -> str:
        """The cached access token, fetched anew when it is close to expiry."""
        with self._lock:
            if force or self._token is None or self.clock() >= self._expires:
                query = urlencode(
                    {"grant_type": "client_credential", "appid": self.appid, "secret": self.secret}
                )
                answer = http_json(f"{self.api}/cgi-bin/token?{query}")
                if "access_token" not in answer:
                    raise ChannelError(
                        f"wechat token: {answer.get('errcode')} {answer.get('errmsg')}"
                    )
                self._token = str(answer["access_token"])
                lifetime = float(answer.get("expires_in", 7200))
                self._expires = self.clock() + max(60.0, lifetime - REFRESH_MARGIN_S)
            return self._token

    def body(self, notice: Notice) -> dict[str, object]:
        """The template message for one notice."""
        message: dict[str, object] = {
            "touser": notice.address,
            "template_id": self.template_id,
            "data": {
                "thing1": {"value": notice.title[:20]},
                "thing2": {"value": notice.text[:20]},
                "time3": {"value": f"{notice.created:%Y-%m-%d %H:%M}"},
            },
        }
        if notice.link:
            message["url"] = notice.link
        return message

    def send(self, notice: Notice) -> str:
        for attempt in range(2):
            token = self.token(force=attempt > 0)
            answer = http_json(
                f"{self.api}/cgi-bin/message/template/send?access_token={token}", self.body(notice)
            )
            code = int(answer.get("errcode", 0))
            if code == 0:
                return str(answer.get("msgid", "ok"))
            if code not in STALE_TOKEN:
                break
        raise ChannelError(f"wechat: {answer.get('errcode')} {answer.get('errmsg')}")
