"""DynamoDB single-table adapter; every write is conditional on the version that was read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from cloud.domain.keys import ApiKey, Role
from cloud.domain.links import TrackingLink
from cloud.domain.machines import JobRef, Machine
from cloud.domain.orders import Order, Stage, StageKind, StageState
from cloud.service.ports import AlreadyExistsError, ConflictError, StoreError
from presstrack.wire import MachineState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_ser = TypeSerializer()
_de = TypeDeserializer()


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _ser.serialize(v) for k, v in item.items() if v is not None}


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _de.deserialize(v) for k, v in item.items()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _versioned(version: int) -> dict[str, Any]:
    if version == 0:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "version = :v",
        "ExpressionAttributeValues": {":v": _ser.serialize(version)},
    }


def machine_item(m: Machine) -> dict[str, Any]:
    """The stored form of a machine, with its version bumped."""
    return {
        "pk": f"MACHINE#{m.key}",
        "gsi1pk": "MACHINE",
        "gsi1sk": m.key,
        "sk": "MACHINE",
        "site": m.site,
        "machine": m.machine,
        "seq": m.seq,
        "lifetime": m.lifetime,
        "waste_total": m.waste_total,
        "available": m.available,
        "state": m.state.model_dump(mode="json", exclude_none=True) if m.state else None,
        "seen": _iso(m.seen),
        "job_order": m.job.order_no if m.job else None,
        "job_stage": m.job.stage if m.job else None,
        "reported_job": m.reported_job,
        "name": m.name,
        "kind": m.kind,
        "rated_per_hour": m.rated_per_hour,
        "impressions_per_sheet": m.impressions_per_sheet,
        "carry": m.carry,
        "unattributed": m.unattributed,
        "fault_since": _iso(m.fault_since),
        "counted_at": _iso(m.counted_at),
        "fault_words": dict(m.fault_words) or None,
        "agent": m.agent,
        "version": m.version + 1,
    }


def machine_from(item: dict[str, Any]) -> Machine:
    """A machine from its stored form."""
    job = JobRef(item["job_order"], item["job_stage"]) if item.get("job_order") else None
    return Machine(
        site=item["site"],
        machine=item["machine"],
        seq=int(item["seq"]),
        lifetime=int(item["lifetime"]) if item.get("lifetime") is not None else None,
        waste_total=int(item["waste_total"]) if item.get("waste_total") is not None else None,
        available=bool(item["available"]),
        state=MachineState.model_validate(item["state"]) if item.get("state") else None,
        seen=_dt(item.get("seen")),
        job=job,
        reported_job=item.get("reported_job"),
        name=item.get("name"),
        kind=str(item.get("kind", "press")),
        rated_per_hour=int(item["rated_per_hour"]) if item.get("rated_per_hour") else None,
        impressions_per_sheet=int(item.get("impressions_per_sheet", 1)),
        carry=int(item.get("carry", 0)),
        unattributed=int(item.get("unattributed", 0)),
        fault_since=_dt(item.get("fault_since")),
        counted_at=_dt(item.get("counted_at")),
        fault_words=tuple(sorted((item.get("fault_words") or {}).items())),
        agent=item.get("agent"),
        version=int(item["version"]),
    )


def stage_item(s: Stage) -> dict[str, Any]:
    """The stored form of a stage, with its version bumped."""
    return {
        "pk": f"ORDER#{s.order_no}",
        "sk": f"STAGE#{s.code}",
        "order_no": s.order_no,
        "code": s.code,
        "name": s.name,
        "kind": s.kind.value,
        "position": s.position,
        "planned": s.planned,
        "good": s.good,
        "waste": s.waste,
        "state": s.state.value,
        "machine": s.machine,
        "started": _iso(s.started),
        "ended": _iso(s.ended),
        "by": s.by,
        "note": s.note,
        "delay_reason": s.delay_reason,
        "standard_hours": Decimal(str(round(s.standard_hours, 4))),  # DynamoDB: 38 digits
        "key_node": s.key_node,
        "expected_recovery": _iso(s.expected_recovery),
        "delay_action": s.delay_action,
        "rate": Decimal(str(round(s.rate, 3))),
        "rate_at": _iso(s.rate_at),
        "version": s.version + 1,
    }


def stage_from(item: dict[str, Any]) -> Stage:
    """A stage from its stored form."""
    return Stage(
        order_no=item["order_no"],
        code=item["code"],
        name=item["name"],
        kind=StageKind(item["kind"]),
        position=int(item["position"]),
        planned=int(item["planned"]) if item.get("planned") is not None else None,
        good=int(item["good"]),
        waste=int(item.get("waste", 0)),
        state=StageState(item["state"]),
        machine=item.get("machine"),
        started=_dt(item.get("started")),
        ended=_dt(item.get("ended")),
        by=item.get("by"),
        note=item.get("note"),
        delay_reason=item.get("delay_reason"),
        standard_hours=float(item.get("standard_hours", 0)),
        key_node=bool(item.get("key_node", False)),
        expected_recovery=_dt(item.get("expected_recovery")),
        delay_action=item.get("delay_action"),
        rate=float(item.get("rate", 0)),
        rate_at=_dt(item.get("rate_at")),
        version=int(item["version"]),
    )


def order_from(item: dict[str, Any]) -> Order:
    """An order from its stored form."""
    return Order(
        order_no=item["order_no"],
        customer=item["customer"],
        product=item["product"],
        quantity=int(item["quantity"]),
        due=date.fromisoformat(item["due"]),
        created=datetime.fromisoformat(item["created"]),
        cancelled=_dt(item.get("cancelled")),
        cancel_reason=item.get("cancel_reason"),
        phone=item.get("phone"),
        version=int(item.get("version", 1)),
    )


CLOSED_ORDER = "ORDER#CLOSED"  # the index partition of finished and cancelled orders


def order_item(order: Order, token: str) -> dict[str, Any]:
    """The stored form of an order, with its version bumped."""
    return {
        "pk": f"ORDER#{order.order_no}",
        "sk": "ORDER",
        "gsi1pk": "ORDER",
        "gsi1sk": f"{order.due.isoformat()}#{order.order_no}",
        "order_no": order.order_no,
        "customer": order.customer,
        "product": order.product,
        "quantity": order.quantity,
        "due": order.due.isoformat(),
        "created": order.created.isoformat(),
        "cancelled": _iso(order.cancelled),
        "cancel_reason": order.cancel_reason,
        "phone": order.phone,
        "token": token,
        "version": order.version + 1,
    }


LINK_TTL_DAYS = 30  # an expired link's items stay this long for staff, then TTL removes them


def link_items(link: TrackingLink) -> list[dict[str, Any]]:
    """A link's two stored copies: one the token looks up, one the order lists."""
    body = {
        "order_no": link.order_no,
        "token": link.token,
        "created": link.created.isoformat(),
        "expires": link.expires.isoformat(),
        "label": link.label,
        "revoked": _iso(link.revoked),
        "expires_at": int(link.expires.timestamp()) + LINK_TTL_DAYS * 86400,
        "version": link.version + 1,
    }
    return [
        {"pk": f"TOKEN#{link.token}", "sk": "TOKEN", **body},
        {"pk": f"ORDER#{link.order_no}", "sk": f"LINK#{link.token}", **body},
    ]


def link_from(item: dict[str, Any]) -> TrackingLink:
    """A tracking link from either stored copy."""
    return TrackingLink(
        token=item["token"],
        order_no=item["order_no"],
        created=datetime.fromisoformat(item["created"]),
        expires=datetime.fromisoformat(item["expires"]),
        label=item.get("label"),
        revoked=_dt(item.get("revoked")),
        version=int(item["version"]),
    )


class DynamoStore:
    """The Store port on one DynamoDB table."""

    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self.table = table
        self.client: DynamoDBClient = client or boto3.client("dynamodb")

    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            found = self.client.get_item(
                TableName=self.table, Key=_dump({"pk": pk, "sk": sk}), ConsistentRead=True
            )
        except ClientError as error:
            raise StoreError(str(error)) from error
        item = found.get("Item")
        return _load(item) if item else None

    def _put(self, item: dict[str, Any], version: int) -> TransactWriteItemTypeDef:
        put: Any = {"TableName": self.table, "Item": _dump(item), **_versioned(version)}
        return {"Put": put}

    def _transact(self, items: list[TransactWriteItemTypeDef], conflict: type[StoreError]) -> None:
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            reasons = error.response.get("CancellationReasons", [])
            if code == "TransactionCanceledException" and any(
                r.get("Code") == "ConditionalCheckFailed" for r in reasons
            ):
                raise conflict(str(error)) from error
            raise StoreError(str(error)) from error

    def get_machine(self, key: str) -> Machine | None:
        item = self._get(f"MACHINE#{key}", "MACHINE")
        return machine_from(item) if item else None

    def get_stage(self, order_no: str, code: str) -> Stage | None:
        item = self._get(f"ORDER#{order_no}", f"STAGE#{code}")
        return stage_from(item) if item else None

    def save_machine(self, machine: Machine, stage: Stage | None = None) -> None:
        if stage is None:  # one item: a conditional put costs half a transaction
            self._put_one(machine_item(machine), machine.version)
            return
        items = [self._put(machine_item(machine), machine.version)]
        items.append(self._put(stage_item(stage), stage.version))
        self._transact(items, ConflictError)

    def _put_one(self, item: dict[str, Any], version: int) -> None:
        put: Any = {"TableName": self.table, "Item": _dump(item), **_versioned(version)}
        try:
            self.client.put_item(**put)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ConflictError(str(error)) from error
            raise StoreError(str(error)) from error

    def assign(self, machine: Machine, stage: Stage) -> None:
        self.save_machine(machine, stage)

    def save_stage(self, stage: Stage) -> None:
        self._put_one(stage_item(stage), stage.version)

    def create_order(self, order: Order, stages: list[Stage], link: TrackingLink) -> None:
        head = order_item(order, link.token)
        items = [self._put(head, 0), *(self._put(i, 0) for i in link_items(link))]
        items += [self._put(stage_item(s), 0) for s in stages]
        self._transact(items, AlreadyExistsError)

    def get_order(self, order_no: str) -> tuple[Order, list[Stage]] | None:
        try:
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_no}"}},
                ConsistentRead=True,
            )
            items = [_load(i) for page in pages for i in page.get("Items", [])]
        except ClientError as error:
            raise StoreError(str(error)) from error
        head = next((i for i in items if i["sk"] == "ORDER"), None)
        if head is None:
            return None
        stages = [stage_from(i) for i in items if str(i["sk"]).startswith("STAGE#")]
        return order_from(head), stages

    def _by_type(self, kind: str) -> list[dict[str, Any]]:
        try:
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table,
                IndexName="ByType",
                KeyConditionExpression="gsi1pk = :t",
                ExpressionAttributeValues={":t": {"S": kind}},
            )
            return [_load(i) for page in pages for i in page.get("Items", [])]
        except ClientError as error:
            raise StoreError(str(error)) from error

    def list_machines(self) -> list[Machine]:
        return [machine_from(i) for i in self._by_type("MACHINE")]

    def list_orders(self, open_only: bool = False) -> list[Order]:
        found = self._by_type("ORDER")
        if not open_only:
            found += self._by_type(CLOSED_ORDER)
        found.sort(key=lambda i: str(i["gsi1sk"]))
        return [order_from(i) for i in found]

    def close_order(self, order_no: str) -> None:
        try:  # the head moves to its own index partition; saving the order moves it back
            self.client.update_item(
                TableName=self.table,
                Key=_dump({"pk": f"ORDER#{order_no}", "sk": "ORDER"}),
                UpdateExpression="SET gsi1pk = :closed",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":closed": {"S": CLOSED_ORDER}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return
            raise StoreError(str(error)) from error

    def save_order(self, order: Order, stages: list[Stage]) -> None:
        token = self.first_token(order.order_no) or ""
        items = [self._put(order_item(order, token), order.version)]
        items += [self._put(stage_item(s), s.version) for s in stages]
        self._transact(items, ConflictError)

    def first_token(self, order_no: str) -> str | None:
        item = self._get(f"ORDER#{order_no}", "ORDER")
        return str(item["token"]) if item else None

    def order_for_token(self, token: str) -> str | None:
        item = self._get(f"TOKEN#{token}", "TOKEN")
        return str(item["order_no"]) if item else None

    def put_api_key(self, key: ApiKey) -> None:
        item = {
            "pk": f"APIKEY#{key.digest}",
            "sk": "APIKEY",
            "name": key.name,
            "role": key.role.value,
            "created": key.created.isoformat(),
            "version": 1,
        }
        self._put_one(item, 0)

    def get_api_key(self, digest: str) -> ApiKey | None:
        item = self._get(f"APIKEY#{digest}", "APIKEY")
        if item is None:
            return None
        return ApiKey(
            digest, item["name"], Role(item["role"]), datetime.fromisoformat(item["created"])
        )

    def put_agent(self, key: str, online: bool, at: datetime) -> None:
        item = {
            "pk": f"AGENT#{key}",
            "sk": "AGENT",
            "gsi1pk": "AGENT",
            "gsi1sk": key,
            "online": online,
            "at": at.isoformat(),
        }
        try:
            self.client.put_item(TableName=self.table, Item=_dump(item))
        except ClientError as error:
            raise StoreError(str(error)) from error

    def offline_agents(self) -> set[str]:
        return {str(i["gsi1sk"]) for i in self._by_type("AGENT") if not i.get("online")}

    def quarantine(self, reason: str, body: str, message_id: str) -> None:
        now = datetime.now(UTC)
        item = {
            "pk": f"QUARANTINE#{now.date().isoformat()}",
            "sk": f"{now.isoformat()}#{message_id}",
            "reason": reason,
            "body": body,
            "message_id": message_id,
        }
        try:
            self.client.put_item(TableName=self.table, Item=_dump(item))
        except ClientError as error:
            raise StoreError(str(error)) from error
