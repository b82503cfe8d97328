"""DynamoDB adapter for incidents and notices, in the same single table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from cloud.adapters.dynamodb import _dt, _dump, _iso, _load
from cloud.adapters.dynamodb_customer import DynamoCustomerStore
from cloud.domain.alerts import Attempt, Audience, Notice, NoticeState
from cloud.domain.incidents import Incident, IncidentKind
from cloud.service.ports import ConflictError, StoreError


def incident_item(i: Incident) -> dict[str, Any]:
    state = "CLOSED" if i.ended else "OPEN"
    return {
        "pk": f"INCIDENT#{i.key}",
        "sk": i.started.isoformat() if i.ended else "OPEN",
        "gsi1pk": "INCIDENT",
        "gsi1sk": f"{state}#{i.started.isoformat()}#{i.key}",
        "kind": i.kind.value,
        "subject": i.subject,
        "started": i.started.isoformat(),
        "reason": i.reason,
        "machine": i.machine,
        "order_no": i.order_no,
        "stage": i.stage,
        "expected_recovery": _iso(i.expected_recovery),
        "ended": _iso(i.ended),
        "resolution": i.resolution,
        "clear_since": _iso(i.clear_since),
        "flaps": i.flaps,
        "customer_told": i.customer_told,
        "version": i.version + 1,
    }


def incident_from(item: dict[str, Any]) -> Incident:
    started = datetime.fromisoformat(item["started"])
    return Incident(
        IncidentKind(item["kind"]),
        item["subject"],
        started,
        item["reason"],
        item.get("machine"),
        item.get("order_no"),
        item.get("stage"),
        _dt(item.get("expected_recovery")),
        _dt(item.get("ended")),
        item.get("resolution"),
        _dt(item.get("clear_since")),
        int(item.get("flaps", 0)),
        bool(item.get("customer_told", False)),
        int(item["version"]),
    )


def notice_item(n: Notice) -> dict[str, Any]:
    return {
        "pk": f"NOTICE#{n.key}",
        "sk": "NOTICE",
        "gsi1pk": "NOTICE",
        "gsi1sk": f"{n.created.isoformat()}#{n.key}",
        "key": n.key,
        "audience": n.audience.value,
        "address": n.address,
        "channel": n.channel,
        "title": n.title,
        "text": n.text,
        "created": n.created.isoformat(),
        "state": n.state.value,
        "not_before": _iso(n.not_before),
        "order_no": n.order_no,
        "link": n.link,
        "attempts": [
            {"at": a.at.isoformat(), "channel": a.channel, "ok": a.ok, "detail": a.detail}
            for a in n.attempts
        ],
        "version": n.version + 1,
    }


def notice_from(item: dict[str, Any]) -> Notice:
    return Notice(
        item["key"],
        Audience(item["audience"]),
        item["address"],
        item["channel"],
        item["title"],
        item["text"],
        datetime.fromisoformat(item["created"]),
        NoticeState(item["state"]),
        _dt(item.get("not_before")),
        item.get("order_no"),
        item.get("link"),
        tuple(
            Attempt(datetime.fromisoformat(a["at"]), a["channel"], bool(a["ok"]), a["detail"])
            for a in item.get("attempts", [])
        ),
        int(item["version"]),
    )


class DynamoShopStore(DynamoCustomerStore):
    """Every port the functions use, on one table."""

    def _index(self, kind: str, prefix: str) -> list[dict[str, Any]]:
        try:
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                IndexName="ByType",
                KeyConditionExpression="gsi1pk = :t AND gsi1sk >= :p",
                ExpressionAttributeValues={":t": {"S": kind}, ":p": {"S": prefix}},
                ScanIndexForward=False,
            )
            return [_load(i) for page in pages for i in page.get("Items", [])]
        except ClientError as error:
            raise StoreError(str(error)) from error

    def list_open_incidents(self) -> list[Incident]:
        items = self._index("INCIDENT", "OPEN#")
        return [incident_from(i) for i in items if str(i["gsi1sk"]).startswith("OPEN#")]

    def save_incident(self, incident: Incident) -> None:
        if incident.ended is None:
            self._put_one(incident_item(incident), incident.version)
            return
        opened = {
            "Delete": {
                "TableName": self.table,
                "Key": _dump({"pk": f"INCIDENT#{incident.key}", "sk": "OPEN"}),
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": _dump({":v": incident.version}),
            }
        }
        log = self._put(incident_item(incident), 0)
        self._transact([opened, log], ConflictError)  # type: ignore[list-item]

    def list_incidents(self, since: datetime) -> list[Incident]:
        closed = [
            incident_from(i)
            for i in self._index("INCIDENT", f"CLOSED#{since.isoformat()}")
            if str(i["gsi1sk"]).startswith("CLOSED#")
        ]
        return sorted(self.list_open_incidents() + closed, key=lambda i: i.started, reverse=True)

    def add_notice(self, notice: Notice) -> bool:
        try:
            self._put_one(notice_item(notice), 0)
        except ConflictError:
            return False
        return True

    def save_notice(self, notice: Notice) -> None:
        self._put_one(notice_item(notice), notice.version)

    def list_notices(self, since: datetime) -> list[Notice]:
        return [notice_from(i) for i in self._index("NOTICE", since.isoformat())]
