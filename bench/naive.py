"""The naive design the cost bench compares with: every machine reports once a second, and an
IoT rule invokes a function per message that writes the machine's latest state to DynamoDB."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

MESSAGES_PER_MACHINE_DAY = 86_400  # one a second, around the clock
MEMORY_MB = 128  # the smallest sensible function: the naive design at its cheapest


def handler(event: dict[str, Any], context: Any) -> None:
    """The IoT rule's Lambda action: the message itself is the event; one write per message."""
    client = _client()
    client.put_item(
        TableName=os.environ["TABLE_NAME"],
        Item={
            "pk": {"S": f"NAIVE#{event['site']}/{event['machine']}"},
            "sk": {"S": "LATEST"},
            "seq": {"N": str(event["seq"])},
            "ts": {"S": event["ts"]},
            "state": {"S": json.dumps(event.get("state"))},
            "counters": {"S": json.dumps(event.get("counters"))},
        },
    )


_clients: dict[str, Any] = {}


def _client() -> Any:
    if "dynamodb" not in _clients:
        _clients["dynamodb"] = boto3.client("dynamodb")
    return _clients["dynamodb"]
