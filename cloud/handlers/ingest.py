"""Ingest Lambda: SQS batches of machine snapshots, partial batch failures reported."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
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


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


def _check_later(machine: str, seconds: float) -> None:
    queue = os.environ.get("FAULT_CHECK_QUEUE_URL")
    if queue:
        delay = min(900, math.ceil(seconds) + 1)
        _sqs().send_message(
            QueueUrl=queue, MessageBody=json.dumps({"machine": machine}), DelaySeconds=delay
        )


def check_fault_later(machine: str) -> None:
    """A fault began: have the detector look once it has lasted the shop's threshold, so a
    real one turns the stage red within seconds and a blip never does."""
    _check_later(machine, store().get_settings().rules.fault_seconds)


def check_agent_machines_later(agent: str) -> None:
    """An agent's last will arrived: look at its machines once they have been silent long
    enough to count as a data gap."""
    site = agent.split("/", 1)[0]
    wait = store().get_settings().rules.orphan_seconds
    for machine in store().list_machines():
        if machine.site == site and f"{site}/{machine.agent}" == agent:
            _check_later(machine.key, wait)


def record_handler(record: SQSRecord) -> int:
    """Apply one message; raising fails only this record, which SQS then redelivers."""
    return ingest_body(
        store(),
        record.body,
        record.message_id,
        check_fault_later,
        check_agent_machines_later,
        datetime.now(UTC),
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Entry point."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
