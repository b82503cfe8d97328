"""Use case: apply one machine snapshot exactly once."""

from __future__ import annotations

import logging
from dataclasses import replace

from pydantic import ValidationError

from cloud.domain.machines import apply_snapshot
from cloud.service.ports import ConflictError, Store
from presstrack.wire import MachineSnapshot, parse_snapshot

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class RejectedRecordError(Exception):
    """A record that can never be applied; it is quarantined with this reason."""


def parse_or_reject(body: str) -> MachineSnapshot:
    """Validate a message body; the error names every bad field."""
    try:
        return parse_snapshot(body)
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
        )
        raise RejectedRecordError(fields) from error


def ingest_snapshot(store: Store, snapshot: MachineSnapshot) -> int:
    """Apply a snapshot with optimistic concurrency; returns the sheets credited to a job."""
    key = f"{snapshot.site}/{snapshot.machine}"
    for _ in range(MAX_ATTEMPTS):
        applied = apply_snapshot(store.get_machine(key), snapshot)
        if applied is None:
            return 0
        machine, stage = applied.machine, None
        if applied.credit and applied.job is not None:
            stage = store.get_stage(applied.job.order_no, applied.job.stage)
            if stage is None:  # the stage went away: keep the sheets visible to staff
                machine = replace(machine, unattributed=machine.unattributed + applied.credit)
            else:
                stage = stage.credit(applied.credit, snapshot.ts, applied.waste)
        try:
            store.save_machine(machine, stage)
        except ConflictError:
            continue
        return applied.credit if stage is not None else 0
    raise ConflictError(f"{key}: still conflicting after {MAX_ATTEMPTS} attempts")


def ingest_body(store: Store, body: str, message_id: str) -> int:
    """Parse and apply one queue message; bad ones are quarantined, never dropped."""
    try:
        snapshot = parse_or_reject(body)
    except RejectedRecordError as error:
        log.warning("quarantined message %s: %s", message_id, error)
        store.quarantine(str(error), body, message_id)
        return 0
    return ingest_snapshot(store, snapshot)
