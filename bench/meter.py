"""What AWS would bill for the requests that cross the relay to moto's server.

moto answers every request but says nothing true about capacity, so the meter works it out the
way DynamoDB's pricing page does: an item's size from its attribute names and values; a write
costs one unit per KB of the larger of the item before and after (two in a transaction), also
when its condition fails; every global secondary index the item is in costs a write of its own;
a read costs one unit per 4 KB (half for an eventually consistent read, two for a transactional
one), and a query is sized by everything it returned. To see the items before and after a
write, the meter reads them from moto directly, past the relay. SQS and the rest are counted
per request.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from infra.local.aws import client

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
READS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}
Key = tuple[str, str, str]  # table, pk, sk


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (DynamoDB JSON)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return number_size(str(data))
    if kind == "B":
        return len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in data)
    if kind == "NS":
        return sum(number_size(str(n)) for n in data)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in data.items())
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in data)
    raise ValueError(f"unknown DynamoDB type {kind}")


def number_size(text: str) -> int:
    """A number: one byte per two significant digits, plus one."""
    digits = format(Decimal(text).normalize(), "f").lstrip("-").replace(".", "").strip("0")
    return math.ceil(max(1, len(digits)) / 2) + 1


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes of a whole item: attribute names plus values."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    """Write units of one item write (1 KB each, at least one)."""
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    """Read units of one read (4 KB each, at least one; half when eventually consistent)."""
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


class CapacityMeter:
    """A relay observer: counts requests and DynamoDB capacity units as AWS would bill them."""

    def __init__(self, upstream_endpoint: str, index_keys: dict[str, tuple[str, str]]) -> None:
        """`index_keys`: each global secondary index's (hash, range) attributes."""
        self.index_keys = index_keys
        self._dynamodb = client("dynamodb", upstream_endpoint)
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()  # by operation
        self.write_units: Counter[str] = Counter()  # "table", "transaction", "index"
        self.read_units: dict[str, float] = {"consistent": 0.0, "eventual": 0.0, "transaction": 0.0}
        self.sent: list[dict[str, Any]] = []  # bodies of SQS SendMessage requests
        self.by_function: defaultdict[tuple[str, str], float] = defaultdict(
            float
        )  # (fn, "write"|"read")
        self.function = ""  # who is making the requests now
        self.paused = False  # while set, nothing is counted (the bench's own setup)
        self.overhead = 0.0  # seconds spent reading items for sizes, not part of any bill

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self._lock:
            self.requests.clear()
            self.write_units.clear()
            self.read_units = dict.fromkeys(self.read_units, 0.0)
            self.sent.clear()
            self.by_function.clear()

    def __call__(self, operation: str, body: bytes) -> Callable[[int, bytes], None]:
        """Before the request goes on: remember the items it writes as they are now."""
        if self.paused or not operation:
            return _ignore
        request = json.loads(body) if body else {}
        with self._lock:
            self.requests[operation] += 1
            if operation == "SendMessage":
                self.sent.append(request)
        if operation in WRITES:
            keys = _written_keys(operation, request)
            before = {k: self._item(k) for k in keys}
            return lambda status, data: self._wrote(operation, keys, before)
        if operation in READS:
            return lambda status, data: self._read(operation, request, status, data)
        return _ignore

    def _item(self, key: Key) -> dict[str, Any] | None:
        started = time.perf_counter()
        table, pk, sk = key
        found = self._dynamodb.get_item(
            TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = found.get("Item")
        with self._lock:
            self.overhead += time.perf_counter() - started
        return item

    def _wrote(
        self, operation: str, keys: list[Key], before: dict[Key, dict[str, Any] | None]
    ) -> None:
        factor = 2 if operation == "TransactWriteItems" else 1
        bucket = "transaction" if factor == 2 else "table"
        for key in keys:
            old, new = before[key], self._item(key)
            units = write_units(max(item_size(old), item_size(new)))
            indexed = self._index_writes(old, new)
            with self._lock:
                self.write_units[bucket] += factor * units
                self.write_units["index"] += indexed
                self.by_function[self.function, "write"] += factor * units + indexed

    def _index_writes(self, old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
        """An index is written when the item is (or was) in it: a changed index key is a
        delete and a put."""
        units = 0
        for keys in self.index_keys.values():
            was, now = _index_key(old, keys), _index_key(new, keys)
            if was is not None and now is not None and was == now:
                if old != new:
                    units += write_units(max(item_size(old), item_size(new)))
            else:
                units += write_units(item_size(old)) if was is not None else 0
                units += write_units(item_size(new)) if now is not None else 0
        return units

    def _read(self, operation: str, request: dict[str, Any], status: int, data: bytes) -> None:
        if status != 200:
            return
        answer = json.loads(data)
        consistent = bool(request.get("ConsistentRead")) and "IndexName" not in request
        with self._lock:
            before = sum(self.read_units.values())
            if operation == "GetItem":
                self.read_units["consistent" if consistent else "eventual"] += read_units(
                    item_size(answer.get("Item")), consistent
                )
            elif operation in ("Query", "Scan"):
                size = sum(item_size(i) for i in answer.get("Items", []))
                self.read_units["consistent" if consistent else "eventual"] += read_units(
                    size, consistent
                )
            elif operation == "BatchGetItem":
                for items in answer.get("Responses", {}).values():
                    for item in items:
                        self.read_units["eventual"] += read_units(item_size(item), False)
            elif operation == "TransactGetItems":
                for found in answer.get("Responses", []):
                    units = read_units(item_size(found.get("Item")), True)
                    self.read_units["transaction"] += 2 * units
            self.by_function[self.function, "read"] += sum(self.read_units.values()) - before

    def totals(self) -> dict[str, float]:
        """Write and read units so far."""
        return {
            "write_units": float(sum(self.write_units.values())),
            "read_units": float(sum(self.read_units.values())),
        }


def _index_key(item: dict[str, Any] | None, keys: tuple[str, str]) -> str | None:
    """The item's key in an index, or None when it is not in it."""
    if not item or any(k not in item for k in keys):
        return None
    return json.dumps([item[k] for k in keys])


def _ignore(status: int, data: bytes) -> None:
    """Nothing to meter in the answer."""


def _written_keys(operation: str, request: dict[str, Any]) -> list[Key]:
    """The (table, pk, sk) of every item a write request touches."""

    def key(table: str, attributes: dict[str, Any]) -> Key:
        return table, attributes["pk"]["S"], attributes["sk"]["S"]

    if operation == "PutItem":
        return [key(request["TableName"], request["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [key(request["TableName"], request["Key"])]
    if operation == "TransactWriteItems":
        keys = []
        for entry in request["TransactItems"]:
            ((kind, part),) = entry.items()
            keys.append(key(part["TableName"], part["Item"] if kind == "Put" else part["Key"]))
        return keys
    keys = []
    for table, entries in request["RequestItems"].items():  # BatchWriteItem
        for entry in entries:
            if "PutRequest" in entry:
                keys.append(key(table, entry["PutRequest"]["Item"]))
            else:
                keys.append(key(table, entry["DeleteRequest"]["Key"]))
    return keys
