"""DynamoDB throttled while the press prints: records that fail are retried alone (partial batch
failure), those that keep failing go to the dead-letter queue, and `presstrack redrive` brings
them back so the customer's count ends exact."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import boto3

from infra.local.stack import LocalStack
from tests.faults.production import Production, ingest_depth, queue_depth, visibility_timeout
from tests.helpers import wait_for
from tests.link import AwsLink


def test_throttling_dead_letters_and_redrive_lose_no_sheet(
    stack: LocalStack, aws_link: AwsLink, api_key: str, tmp_path: Path
) -> None:
    queue = stack.template.ref("SnapshotQueue")
    dead_letters = stack.template.ref("SnapshotDeadLetterQueue")
    ingest = next(s for s in stack.sources if s.queue_url == queue)
    failed_before, batches_before = ingest.failures, ingest.batches
    job = Production(stack, api_key, tmp_path, "throttle", job_sheets=400, counter_seconds=1)
    with visibility_timeout(stack, 2):
        job.start()
        try:
            aws_link.throttle(0.5)
            wait_for(lambda: job.printed() >= 340, 60, "most of the job under throttling")
            retried = ingest.failures - failed_before
            aws_link.throttle(1.0)  # from here every record fails until it is dead-lettered
            job.wait_finished()
            time.sleep(2)  # the agent's last reports reach the queue
            job.edge.stop()  # and no heartbeat may repair the count behind our back
            wait_for(lambda: ingest_depth(stack) == 0, 180, "each message applied or dead-lettered")
            dead = queue_depth(stack, "SnapshotDeadLetterQueue")
            aws_link.restore()
            on_page = job.on_page()
            assert retried > 0, "throttling failed single records, which were retried"
            assert dead > 0, "records that kept failing went to the dead-letter queue"
            assert on_page is not None
            assert on_page < job.job_sheets, "the last sheets wait in the dead-letter queue"

            redriven = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "presstrack",
                    "redrive",
                    "--from",
                    dead_letters,
                    "--to",
                    queue,
                    "--endpoint-url",
                    stack.endpoint,
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            assert f"moved {dead} messages" in redriven.stdout
            sheets = job.assert_page_matches_truth()
            wait_for(lambda: ingest_depth(stack) == 0, 30, "the redriven messages applied")
            assert queue_depth(stack, "SnapshotDeadLetterQueue") == 0
            print(
                f"{aws_link.throttled} DynamoDB requests throttled; {retried} records failed "
                f"alone and were retried in {ingest.batches - batches_before} batches; {dead} "
                f"dead-lettered, page {on_page} before the redrive, {sheets} = truth after"
            )
        finally:
            aws_link.restore()
            job.stop()
    assert (
        boto3.client("sqs").get_queue_attributes(
            QueueUrl=queue, AttributeNames=["VisibilityTimeout"]
        )["Attributes"]["VisibilityTimeout"]
        == "180"
    )
