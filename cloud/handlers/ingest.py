"""Ingest Lambda: SQS batches of machine snapshots, partial batch failures reported."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloud.service.ingest import ingest_body
from cloud.settings import store

logger = Logger(service="presstrack-ingest")
processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> int:
    """Apply one message; raising fails only this record, which SQS then redelivers."""
    return ingest_body(store(), record.body, record.message_id)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Entry point."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
