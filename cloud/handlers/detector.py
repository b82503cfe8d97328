"""Stall detector Lambda: every minute on its schedule, and a few seconds after a fault began
(a delayed message on the fault-check queue)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloud.service import detector
from cloud.settings import store

logger = Logger(service="presstrack-detector")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Entry point: SQS records name machines (or agents, for all their machines) to check;
    anything else is the schedule."""
    now = datetime.now(UTC)
    records = event.get("Records")
    if records:
        subjects = [json.loads(r["body"]) for r in records]
        keys = {str(s["machine"]) for s in subjects if "machine" in s}
        agents = {str(s["agent"]) for s in subjects if "agent" in s}
        if agents:
            keys |= {m.key for m in store().list_machines() if f"{m.site}/{m.agent}" in agents}
        done = detector.check_machines(store(), sorted(keys), now)
    else:
        done = detector.run(store(), now)
    logger.info("detector pass", extra=asdict(done))
    return asdict(done)
