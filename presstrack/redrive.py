"""Move messages from a dead-letter queue back to the queue they came from.

Snapshots land in SnapshotDeadLetterQueue after the ingest function failed them five times
(throttling that outlasted the retries, a bug since fixed). Ingest is idempotent, so sending
them back once the cause is gone is always safe: a snapshot already applied changes nothing.
"""

from __future__ import annotations

from typing import Any

BATCH = 10


def redrive(sqs: Any, dead_letters: str, target: str, limit: int | None = None) -> int:
    """Move every message (or at most `limit`) from `dead_letters` to `target`; a message is
    deleted from the dead-letter queue only after `target` has accepted it. Returns how many
    moved."""
    moved = 0
    while limit is None or moved < limit:
        want = BATCH if limit is None else min(BATCH, limit - moved)
        messages = sqs.receive_message(
            QueueUrl=dead_letters,
            MaxNumberOfMessages=want,
            WaitTimeSeconds=1,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return moved
        entries = [
            {
                "Id": str(index),
                "MessageBody": message["Body"],
                **(
                    {"MessageAttributes": message["MessageAttributes"]}
                    if message.get("MessageAttributes")
                    else {}
                ),
            }
            for index, message in enumerate(messages)
        ]
        answer = sqs.send_message_batch(QueueUrl=target, Entries=entries)
        accepted = {s["Id"] for s in answer.get("Successful", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in accepted
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=dead_letters, Entries=done)
        moved += len(done)
        if len(done) < len(messages):  # the rest become visible again in the dead-letter queue
            failed = answer.get("Failed", [])
            raise RedriveError(f"{len(failed)} messages were not accepted: {failed[:3]}")
    return moved


class RedriveError(Exception):
    """The target queue refused messages; they stay in the dead-letter queue."""
