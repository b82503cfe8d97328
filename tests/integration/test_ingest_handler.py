"""The ingest Lambda against DynamoDB on moto's server: redelivery changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cloud.handlers.ingest import lambda_handler
from infra.local.aws import client
from infra.local.lambdas import LambdaContext
from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient
from presstrack.wire import Counters, ItemState, MachineSnapshot, MachineState

T0 = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def body(machine: str, seq: int, lifetime: int) -> str:
    return (
        MachineSnapshot(
            site="it",
            machine=machine,
            agent="edge-1",
            seq=seq,
            ts=T0 + timedelta(seconds=seq),
            state=MachineState(item=ItemState.EXECUTING),
            counters=Counters(lifetime=lifetime),
        )
        .to_json()
        .decode()
    )


def batch(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "r",
                "body": b,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for b in bodies
        ]
    }


def invoke(event: dict[str, Any]) -> Any:
    return lambda_handler(event, LambdaContext(function_name="IngestFunction", timeout_seconds=30))


def items(stack: LocalStack, order_no: str, machine: str) -> list[dict[str, Any]]:
    dynamodb = client("dynamodb", stack.endpoint)
    table = stack.template.physical_name("Table")
    keys = [(f"MACHINE#it/{machine}", "MACHINE"), (f"ORDER#{order_no}", "STAGE#printing")]
    return [
        dynamodb.get_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )["Item"]
        for pk, sk in keys
    ]


def setup_order(stack: LocalStack, api_key: str, order_no: str, machine: str) -> str:
    api = ApiClient(stack.base_url, api_key)
    created = api.call(
        "POST",
        "/api/orders",
        {
            "order_no": order_no,
            "customer": "C",
            "product": "Leaflet",
            "quantity": 1000,
            "due": date(2026, 12, 20).isoformat(),
        },
    )
    assert invoke(batch([body(machine, 1, 50_000)])) == {"batchItemFailures": []}
    api.call(
        "PUT", f"/api/orders/{order_no}/stages/printing/machine", {"site": "it", "machine": machine}
    )
    return str(created["tracking_json"])


def test_the_same_batch_twice_and_reversed_leaves_the_record_unchanged(
    stack: LocalStack, api_key: str
) -> None:
    tracking = setup_order(stack, api_key, "IT-REDELIVER", "press-a")
    bodies = [body("press-a", seq, 50_000 + 37 * (seq - 1)) for seq in range(2, 12)]
    assert invoke(batch(bodies)) == {"batchItemFailures": []}
    first = items(stack, "IT-REDELIVER", "press-a")
    assert invoke(batch(bodies)) == {"batchItemFailures": []}
    assert invoke(batch(list(reversed(bodies)))) == {"batchItemFailures": []}
    assert items(stack, "IT-REDELIVER", "press-a") == first
    view = ApiClient(stack.base_url, api_key).call("GET", tracking)
    assert view["printed"] == 37 * 10


def test_a_bad_record_is_quarantined_and_the_good_ones_beside_it_applied(
    stack: LocalStack, api_key: str
) -> None:
    tracking = setup_order(stack, api_key, "IT-QUARANTINE", "press-b")
    bodies = [
        body("press-b", 2, 50_100),
        json.dumps({"v": 9, "seq": "?"}),
        "not json",
        body("press-b", 3, 50_250),
    ]
    assert invoke(batch(bodies)) == {"batchItemFailures": []}
    assert ApiClient(stack.base_url, api_key).call("GET", tracking)["printed"] == 250
    dynamodb = client("dynamodb", stack.endpoint)
    table = stack.template.physical_name("Table")
    found = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"QUARANTINE#{datetime.now(UTC).date()}"}},
    )["Items"]
    reasons = {i["body"]["S"]: i["reason"]["S"] for i in found}
    assert "v:" in reasons['{"v": 9, "seq": "?"}']
    assert "Invalid JSON" in reasons["not json"]


def test_a_stage_taken_off_its_machine_stops_counting_and_the_machine_keeps_the_sheets(
    stack: LocalStack, api_key: str
) -> None:
    tracking = setup_order(stack, api_key, "IT-UNASSIGN", "press-c")
    api = ApiClient(stack.base_url, api_key)
    assert invoke(batch([body("press-c", 2, 50_100)])) == {"batchItemFailures": []}
    machines = {m["machine"]: m for m in api.call("GET", "/api/machines")}
    assert machines["it/press-c"]["job"] == "IT-UNASSIGN/printing"
    api.call("DELETE", "/api/orders/IT-UNASSIGN/stages/printing/machine")
    assert invoke(batch([body("press-c", 3, 50_180)])) == {"batchItemFailures": []}
    machines = {m["machine"]: m for m in api.call("GET", "/api/machines")}
    assert machines["it/press-c"]["job"] is None
    assert machines["it/press-c"]["unattributed"] == 80  # kept, shown to staff, never lost
    assert api.call("GET", tracking)["printed"] == 100
