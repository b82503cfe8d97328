"""The cloud unreachable while the press prints, then DynamoDB alone unavailable while the
queue holds the backlog: the customer's count is exact once they are back."""

from __future__ import annotations

import time
from pathlib import Path

from infra.local.stack import LocalStack
from tests.faults.production import Production, ingest_depth, visibility_timeout
from tests.helpers import wait_for
from tests.link import AwsLink

CUT_SECONDS = 20
DYNAMODB_DOWN_SECONDS = 10


def test_the_cloud_unreachable_then_dynamodb_down_loses_no_sheet(
    stack: LocalStack, aws_link: AwsLink, api_key: str, tmp_path: Path
) -> None:
    job = Production(stack, api_key, tmp_path, "outage", job_sheets=1200)
    with visibility_timeout(stack, 5):
        run_outages(job, stack, aws_link)


def run_outages(job: Production, stack: LocalStack, aws_link: AwsLink) -> None:
    """Cut the link, then refuse DynamoDB, while the job runs."""
    bridge = stack.bridges[0]
    job.start()
    try:
        wait_for(lambda: (job.on_page() or 0) > 0, 20, "the first sheets on the page")
        aws_link.cut()
        cut_at, forwarded = job.printed(), bridge.forwarded
        time.sleep(CUT_SECONDS)
        printed_while_cut = job.printed() - cut_at
        assert bridge.forwarded == forwarded, "nothing reaches a cloud that cannot be reached"
        aws_link.restore()
        wait_for(lambda: (job.on_page() or 0) >= cut_at + printed_while_cut, 60, "the backlog")

        aws_link.throttle(1.0)  # every DynamoDB request refused; SQS still takes messages
        down_from = bridge.forwarded
        time.sleep(DYNAMODB_DOWN_SECONDS)
        backlog = ingest_depth(stack)
        assert bridge.forwarded > down_from, "the rule keeps queueing while DynamoDB is down"
        assert backlog > 0, "the queue holds the backlog"
        aws_link.restore()
        assert not job.finished(), "both outages must fall inside the job"
        job.wait_finished()
        sheets = job.assert_page_matches_truth()
        wait_for(lambda: ingest_depth(stack) == 0, 60, "the backlog to drain")
        print(
            f"cloud unreachable {CUT_SECONDS} s ({printed_while_cut} sheets printed, "
            f"{aws_link.dropped} requests dropped), DynamoDB refused {DYNAMODB_DOWN_SECONDS} s "
            f"({backlog} messages held in the queue); page {sheets} = truth {sheets}"
        )
    finally:
        aws_link.restore()
        job.stop()
