"""The broker restarted three times while the press prints: the customer's count is exact."""

from __future__ import annotations

import time
from pathlib import Path

from infra.broker import Mosquitto
from infra.local.stack import LocalStack
from tests.faults.production import Production

RESTARTS = 3
DOWN_SECONDS = 4


def test_broker_restarts_during_production_lose_no_sheet(
    stack: LocalStack, mosquitto: Mosquitto, api_key: str, tmp_path: Path
) -> None:
    job = Production(stack, api_key, tmp_path, "restart", job_sheets=600).start()
    try:
        printed_while_down = 0
        for _ in range(RESTARTS):
            time.sleep(3)
            mosquitto.stop()
            down_from = job.printed()
            time.sleep(DOWN_SECONDS)
            printed_while_down += job.printed() - down_from
            mosquitto.start()
        assert not job.finished(), "the outages must fall inside the job"
        job.wait_finished()
        sheets = job.assert_page_matches_truth()
        assert printed_while_down > 0
        print(
            f"{RESTARTS} broker restarts of {DOWN_SECONDS} s; {printed_while_down} sheets printed "
            f"while it was down; page {sheets} = truth {sheets}"
        )
    finally:
        job.stop()
