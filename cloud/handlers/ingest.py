"""Ingest Lambda: SQS batches of machine snapshots, one write per machine per batch, partial
batch failures reported."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloud.service.ingest import ingest_batch
from cloud.settings import store

logger = Logger(service="presstrack-ingest")


@cache
def _sqs() -> Any:
    return boto3.client("sqs")


def _check_later(subject: dict[str, str], seconds: float) -> None:
    queue = os.environ.get("FAULT_CHECK_QUEUE_URL")
    if queue:
        delay = min(900, math.ceil(seconds) + 1)
        _sqs().send_message(QueueUrl=queue, MessageBody=json.dumps(subject), DelaySeconds=delay)


def check_fault_later(machine: str) -> None:
    """A fault began: have the detector look once it has lasted the shop's threshold, so a
    real one turns the stage red within seconds and a blip never does."""
    _check_later({"machine": machine}, store().get_settings().rules.fault_seconds)


def check_agent_machines_later(agent: str) -> None:
    """An agent's last will arrived: look at its machines once they have been silent long
    enough to count as a data gap. Which machines are its is decided then: the will takes the
    fast lane and may overtake their last snapshots."""
    _check_later({"agent": agent}, store().get_settings().rules.orphan_seconds)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Entry point: the batch's snapshots applied with one write per machine; the messages
    that failed are reported so SQS redelivers only them."""
    records = event.get("Records", [])
    failed = ingest_batch(
        store(),
        [(r["messageId"], r["body"]) for r in records],
        check_fault_later,
        check_agent_machines_later,
        datetime.now(UTC),
    )
    if failed:
        logger.warning("batch partly failed", failed=len(failed), records=len(records))
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed]}
