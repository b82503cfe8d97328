"""Amazon SNS SMS: a transactional text to the subscriber's number."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloud.channels.base import ChannelError
from cloud.domain.alerts import Notice


class SnsSms:
    """Publishes straight to a phone number (E.164: + and country code)."""

    def __init__(self, client: Any, sender_id: str | None = None) -> None:
        self.client, self.sender_id = client, sender_id

    def send(self, notice: Notice) -> str:
        number = notice.address if notice.address.startswith("+") else f"+{notice.address}"
        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self.sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {
                "DataType": "String",
                "StringValue": self.sender_id,
            }
        try:
            answer = self.client.publish(
                PhoneNumber=number,
                Message=f"{notice.title}:{notice.text}",
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as error:
            raise ChannelError(f"sns: {error}") from error
        return str(answer.get("MessageId", "ok"))
