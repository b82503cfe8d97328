"""WeCom (企业微信) group robots: one webhook per audience, text or markdown messages."""

from __future__ import annotations

from typing import Any, Literal

from cloud.channels.base import ChannelError, http_json
from cloud.domain.alerts import Notice


class WeComRobots:
    """Posts to the group robot named by the notice's address (maintenance, lead, staff)."""

    def __init__(self, webhooks: dict[str, str], style: Literal["markdown", "text"] = "markdown"):
        self.webhooks, self.style = webhooks, style

    @staticmethod
    def body(notice: Notice, style: Literal["markdown", "text"]) -> dict[str, Any]:
        """The robot API's message body."""
        if style == "text":
            return {"msgtype": "text", "text": {"content": f"{notice.title}\n{notice.text}"}}
        lines = notice.text.replace("\n", "\n> ")
        link = f"\n[查看订单]({notice.link})" if notice.link else ""
        return {
            "msgtype": "markdown",
            "markdown": {"content": f"**{notice.title}**\n> {lines}{link}"},
        }

    def send(self, notice: Notice) -> str:
        url = self.webhooks.get(notice.address)
        if url is None:
            raise ChannelError(f"wecom: no robot for {notice.address}")
        answer = http_json(url, self.body(notice, self.style))
        if answer.get("errcode") != 0:
            raise ChannelError(f"wecom: {answer.get('errcode')} {answer.get('errmsg')}")
        return "ok"
