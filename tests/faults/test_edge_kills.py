"""The edge agent SIGKILLed again and again while the press prints: the customer's count is
exact, because the agent's outbox is on disk and the press's counter is the truth."""

from __future__ import annotations

import time
from pathlib import Path

from infra.local.stack import LocalStack
from tests.faults.production import Production

KILLS = 5


def test_an_edge_agent_killed_five_times_loses_no_sheet(
    stack: LocalStack, api_key: str, tmp_path: Path
) -> None:
    job = Production(stack, api_key, tmp_path, "kills", job_sheets=600).start()
    try:
        for _ in range(KILLS):
            time.sleep(2.5)
            job.edge.kill()
            time.sleep(1)
            job.edge.start()
        assert not job.finished(), "the kills must fall inside the job"
        job.wait_finished()
        sheets = job.assert_page_matches_truth()
        print(f"agent SIGKILLed {KILLS} times; page {sheets} = truth {sheets}")
    finally:
        job.stop()
