"""moto's server for the local stack, with two changes that keep it fast as it fills up.

First, how a DynamoDB transaction rolls back.

moto backs up every table a TransactWriteItems touches with a deep copy before it starts, so it
can put the whole table back if a condition fails. The copy includes every item and every
stream record since the table was created: each transaction gets slower as the table grows,
and a day of snapshots makes the local stack crawl. Here a transaction instead keeps the items
it touches (and where each table's stream stood) and puts exactly those back when it is
cancelled: the same outcome, at the cost of the transaction's own items.

Second, SQS with a backlog: for every message sent, and every message a ReceiveMessage returns,
moto computes all the queue's attributes (counting every message in it) to read one of them, so
each message costs the queue's depth and a queue a few thousand deep falls further behind with
every request. Here those two reads take the one attribute they need, and SQS reads the clock
with time.time() instead of building a datetime for every message it looks at.

Run as `python -m infra.local.moto_server -H 127.0.0.1 -p PORT`, as `moto.server` is.
"""

from __future__ import annotations

import copy
import threading
import time
import types
from typing import Any

import moto.dynamodb.models as dynamodb_models
import moto.sqs.models as sqs_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.server import main
from moto.sqs.models import Message, Queue, SQSBackend


def _copy_unless_table(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """What moto's backup calls: a table is not copied (the undo log below replaces it)."""
    return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_ORIGINAL = DynamoDBBackend.transact_write_items
Undo = tuple[Table, DynamoType, DynamoType | None, Item | None]


def _touched(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Undo]:
    """Each item the transaction names, as it is now."""
    saved: list[Undo] = []
    for entry in transact_items:
        for op in entry.values():
            table = backend.tables.get(op.get("TableName", ""))
            attributes = op.get("Item") or op.get("Key") or {}
            if table is None or table.hash_key_attr not in attributes:
                continue
            hash_key = DynamoType(attributes[table.hash_key_attr])
            range_key = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attributes:
                    continue
                range_key = DynamoType(attributes[table.range_key_attr])
            before = table.get_item(hash_key, range_key)
            saved.append((table, hash_key, range_key, copy.deepcopy(before)))
    return saved


def _put_back(saved: list[Undo], streams: dict[int, tuple[Table, int]]) -> None:
    for table, hash_key, range_key, before in reversed(saved):
        if range_key is not None:
            if before is None:
                table.items[hash_key].pop(range_key, None)
                if not table.items[hash_key]:
                    table.items.pop(hash_key, None)
            else:
                table.items[hash_key][range_key] = before
        elif before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before  # type: ignore[assignment]
    for table, length in streams.values():  # a cancelled transaction leaves no stream record
        if table.stream_shard is not None:
            del table.stream_shard.items[length:]


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems with an undo log of the touched items."""
    saved = _touched(self, transact_items)
    streams = {
        id(table): (table, len(table.stream_shard.items))
        for table, _, _, _ in saved
        if table.stream_shard is not None
    }
    try:
        _ORIGINAL(self, transact_items)
    except Exception:
        _put_back(saved, streams)
        raise


_ATTRIBUTES: Any = Queue.attributes
_ORIGINAL_SEND = SQSBackend.send_message
_sending = threading.local()


def _attributes(queue: Queue) -> dict[str, Any]:
    """Queue.attributes; while a message is being sent, only the one send_message reads."""
    if getattr(_sending, "now", False):
        flag = bool(queue.content_based_deduplication)  # type: ignore[attr-defined]
        return {"ContentBasedDeduplication": str(flag).lower()}
    return dict(_ATTRIBUTES.fget(queue))


def _send_message(backend: SQSBackend, *args: Any, **kwargs: Any) -> Message:
    _sending.now = True
    try:
        return _ORIGINAL_SEND(backend, *args, **kwargs)
    finally:
        _sending.now = False


def _retained(backend: SQSBackend, queue_name: str, message: Message) -> bool:
    """moto's retention check, reading the one attribute it needs."""
    period = int(backend.get_queue(queue_name).message_retention_period)  # type: ignore[attr-defined]
    return bool(period + message.sent_timestamp / 1000 > time.time())  # type: ignore[operator]


def install() -> None:
    """Apply the changes to this process's moto."""
    setattr(dynamodb_models, "copy", types.SimpleNamespace(deepcopy=_copy_unless_table))  # noqa: B010
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    Queue.attributes = property(_attributes)  # type: ignore[assignment,method-assign]
    SQSBackend.send_message = _send_message  # type: ignore[method-assign,assignment]
    setattr(sqs_models, "unix_time", time.time)  # noqa: B010
    setattr(sqs_models, "unix_time_millis", lambda: time.time() * 1000)  # noqa: B010
    SQSBackend.is_message_valid_based_on_retention_period = _retained  # type: ignore[method-assign,assignment]


if __name__ == "__main__":
    install()
    main()
