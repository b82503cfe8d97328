"""DynamoDB adapter for the customer's side: links, messages, opt-ins, photos, settings,
history, estimates given and rate counters, in the same single table."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from cloud.adapters.dynamodb import (
    DynamoStore,
    _dt,
    _dump,
    _iso,
    _load,
    link_from,
    link_items,
    order_from,
    stage_from,
)
from cloud.domain.estimate import (
    Calibration,
    Estimate,
    ShopSettings,
    settings_from_dict,
    settings_to_dict,
)
from cloud.domain.links import TrackingLink
from cloud.domain.messages import Channel, Message, Sender, Subscription
from cloud.domain.photos import Photo, PhotoState
from cloud.service.ports import ConflictError, RateLimitedError, StoreError, Tracked

ESTIMATE_STEP = timedelta(minutes=5)  # a new estimate is kept when it moves at least this much


def message_item(m: Message) -> dict[str, Any]:
    return {
        "pk": f"ORDER#{m.order_no}",
        "sk": f"MSG#{m.at.isoformat()}#{m.id}",
        "order_no": m.order_no,
        "id": m.id,
        "at": m.at.isoformat(),
        "sender": m.sender.value,
        "text": m.text,
        "by": m.by,
    }


def message_from(item: dict[str, Any]) -> Message:
    return Message(
        item["order_no"],
        item["id"],
        datetime.fromisoformat(item["at"]),
        Sender(item["sender"]),
        item["text"],
        item.get("by"),
    )


def photo_item(p: Photo) -> dict[str, Any]:
    return {
        "pk": f"ORDER#{p.order_no}",
        "sk": f"PHOTO#{p.id}",
        "order_no": p.order_no,
        "id": p.id,
        "stage": p.stage,
        "key": p.key,
        "content_type": p.content_type,
        "size": p.size,
        "created": p.created.isoformat(),
        "by": p.by,
        "caption": p.caption,
        "state": p.state.value,
        "reason": p.reason,
    }


def photo_from(item: dict[str, Any]) -> Photo:
    return Photo(
        item["order_no"],
        item["id"],
        item["stage"],
        item["key"],
        item["content_type"],
        int(item["size"]),
        datetime.fromisoformat(item["created"]),
        item["by"],
        item.get("caption"),
        PhotoState(item["state"]),
        item.get("reason"),
    )


class DynamoCustomerStore(DynamoStore):
    """The CustomerStore port on the same table as the orders."""

    def _query(self, pk: str, prefix: str | None = None) -> list[dict[str, Any]]:
        condition = "pk = :pk" + (" AND begins_with(sk, :p)" if prefix else "")
        values: dict[str, Any] = {":pk": {"S": pk}}
        if prefix:
            values[":p"] = {"S": prefix}
        try:
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression=condition,
                ExpressionAttributeValues=values,
                ConsistentRead=True,
            )
            return [_load(i) for page in pages for i in page.get("Items", [])]
        except ClientError as error:
            raise StoreError(str(error)) from error

    def _overwrite(self, item: dict[str, Any]) -> None:
        """An unconditional put, for items whose last writer wins."""
        try:
            self.client.put_item(TableName=self.table, Item=_dump(item))
        except ClientError as error:
            raise StoreError(str(error)) from error

    def get_link(self, token: str) -> TrackingLink | None:
        item = self._get(f"TOKEN#{token}", "TOKEN")
        return link_from(item) if item and "expires" in item else None

    def put_link(self, link: TrackingLink) -> None:
        items = [self._put(i, link.version) for i in link_items(link)]
        self._transact(items, ConflictError)

    def list_links(self, order_no: str) -> list[TrackingLink]:
        found = [link_from(i) for i in self._query(f"ORDER#{order_no}", "LINK#")]
        return sorted(found, key=lambda link: link.created)

    def get_tracked(self, order_no: str) -> Tracked | None:
        items = self._query(f"ORDER#{order_no}")
        head = next((i for i in items if i["sk"] == "ORDER"), None)
        if head is None:
            return None

        def kind(prefix: str) -> list[dict[str, Any]]:
            return [i for i in items if str(i["sk"]).startswith(prefix)]

        return Tracked(
            order_from(head),
            [stage_from(i) for i in kind("STAGE#")],
            [message_from(i) for i in kind("MSG#")],
            [photo_from(i) for i in kind("PHOTO#")],
        )

    def add_message(self, message: Message) -> None:
        self._put_one(message_item(message), 0)

    def put_subscription(self, subscription: Subscription) -> None:
        s = subscription
        item = {
            "pk": f"ORDER#{s.order_no}",
            "sk": f"SUB#{s.channel.value}#{s.address}",
            "order_no": s.order_no,
            "channel": s.channel.value,
            "address": s.address,
            "created": s.created.isoformat(),
            "cancelled": _iso(s.cancelled),
        }
        self._overwrite(item)

    def list_subscriptions(self, order_no: str) -> list[Subscription]:
        return [
            Subscription(
                i["order_no"],
                Channel(i["channel"]),
                i["address"],
                datetime.fromisoformat(i["created"]),
                _dt(i.get("cancelled")),
            )
            for i in self._query(f"ORDER#{order_no}", "SUB#")
        ]

    def put_photo(self, photo: Photo) -> None:
        self._overwrite(photo_item(photo))

    def get_photo(self, order_no: str, photo_id: str) -> Photo | None:
        item = self._get(f"ORDER#{order_no}", f"PHOTO#{photo_id}")
        return photo_from(item) if item else None

    def get_settings(self) -> ShopSettings:
        item = self._get("SHOP", "SETTINGS")
        return settings_from_dict(json.loads(item["body"])) if item else ShopSettings()

    def put_settings(self, settings: ShopSettings) -> None:
        self._overwrite(
            {"pk": "SHOP", "sk": "SETTINGS", "body": json.dumps(settings_to_dict(settings))}
        )

    def get_calibration(self) -> Calibration:
        item = self._get("SHOP", "CALIBRATION")
        if item is None:
            return Calibration()
        return Calibration(
            {k: float(v) for k, v in item.get("factors", {}).items()},
            {k: int(v) for k, v in item.get("samples", {}).items()},
            int(item["version"]),
        )

    def save_calibration(self, calibration: Calibration) -> None:
        item = {
            "pk": "SHOP",
            "sk": "CALIBRATION",
            "factors": {k: Decimal(str(round(v, 4))) for k, v in calibration.factors.items()},
            "samples": calibration.samples,
            "version": calibration.version + 1,
        }
        self._put_one(item, calibration.version)

    def log_estimate(self, order_no: str, estimate: Estimate, printed: int) -> bool:
        latest = self._get(f"ESTIMATES#{order_no}", "LATEST")
        if latest is not None:
            last = datetime.fromisoformat(latest["delivery"])
            same_risk = bool(latest["at_risk"]) == estimate.at_risk
            if same_risk and abs(estimate.delivery - last) < ESTIMATE_STEP:
                return False
        version = int(latest["version"]) if latest else 0
        body = {
            "delivery": estimate.delivery.isoformat(),
            "ready": estimate.ready.isoformat(),
            "at_risk": estimate.at_risk,
            "printed": printed,
        }
        pk = f"ESTIMATES#{order_no}"
        entry = {"pk": pk, "sk": f"AT#{estimate.at.isoformat()}", "at": estimate.at.isoformat()}
        head = {"pk": pk, "sk": "LATEST", **body, "version": version + 1}
        try:
            self._transact(
                [self._put(head, version), self._put({**entry, **body}, 0)], ConflictError
            )
        except ConflictError:
            return False  # another reader kept this one first
        return True

    def list_estimates(self, order_no: str) -> list[dict[str, object]]:
        return [
            {k: i[k] for k in ("at", "delivery", "ready", "at_risk", "printed")}
            for i in self._query(f"ESTIMATES#{order_no}", "AT#")
        ]

    def count(self, key: str, window_s: int, limit: int, now: datetime) -> int:
        start = int(now.timestamp()) // window_s * window_s
        try:
            answer = self.client.update_item(
                TableName=self.table,
                Key=_dump({"pk": f"RATE#{key}", "sk": str(start)}),
                UpdateExpression="ADD hits :one SET expires_at = :exp",
                ConditionExpression="attribute_not_exists(hits) OR hits < :limit",
                ExpressionAttributeValues=_dump(
                    {":one": 1, ":limit": limit, ":exp": start + 2 * window_s}
                ),
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                wait = start + window_s - int(now.timestamp())
                raise RateLimitedError(key.split("#", maxsplit=1)[0], wait) from error
            raise StoreError(str(error)) from error
        return int(answer["Attributes"]["hits"]["N"])
