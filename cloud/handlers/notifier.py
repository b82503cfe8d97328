"""Notifier Lambda: the table's stream in, notices out through WeCom, WeChat, SMS or the local
outbox; partial batch failures reported so one bad change never blocks the rest."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloud.channels.config import SecretChannels, routing
from cloud.service import notifier
from cloud.settings import store

logger = Logger(service="presstrack-notifier")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@cache
def channels() -> SecretChannels:
    return SecretChannels(os.environ.get("CHANNEL_SECRET", ""))


def record_handler(record: DynamoDBRecord) -> None:
    """One change of one item."""
    data = record.dynamodb
    change = notifier.Change(
        str(record.event_name.name if record.event_name else ""),
        dict(data.new_image) if data and data.new_image else None,
        dict(data.old_image) if data and data.old_image else None,
    )
    if not notifier.matters(change):
        return
    config = channels().config()
    shop = store().get_settings()
    notifier.handle(
        store(),
        channels().senders(),
        change,
        datetime.now(UTC),
        routing(config, shop.quiet),
        config.public_url.rstrip("/"),
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Entry point."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
