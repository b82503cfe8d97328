"""Use case: apply one machine snapshot exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from pydantic import ValidationError

from cloud.domain.machines import JobRef, Machine, apply_snapshot
from cloud.domain.orders import Stage, StageKind, StageState
from cloud.service.ports import ConflictError, Store
from presstrack.wire import AgentStatus, MachineSnapshot, parse_snapshot

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


class RejectedRecordError(Exception):
    """A record that can never be applied; it is quarantined with this reason."""


def parse_or_reject(body: str) -> MachineSnapshot:
    """Validate a message body; the error names every bad field."""
    try:
        return parse_snapshot(body)
    except ValidationError as error:
        raise RejectedRecordError(named_fields(error)) from error


def named_fields(error: ValidationError) -> str:
    """Every bad field of a message with what is wrong with it."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
    )


FaultHook = Callable[[str], None]


def ingest_snapshot(
    store: Store, snapshot: MachineSnapshot, on_fault: FaultHook | None = None
) -> int:
    """Apply a snapshot with optimistic concurrency; returns the sheets credited to a job.

    `on_fault(machine key)` is called once when the machine goes into a fault."""
    return ingest_machine(store, [snapshot], on_fault)


def ingest_machine(
    store: Store, snapshots: list[MachineSnapshot], on_fault: FaultHook | None = None
) -> int:
    """Apply snapshots of one machine (a batch's worth) with as few writes as they allow:
    they are applied in sequence order to the machine as read, and the machine and the stage
    it counts for are written once, conditionally. A snapshot that moves the machine to
    another order's stage starts a new write. Returns the sheets credited to jobs."""
    pending = sorted(snapshots, key=lambda s: s.seq)
    credited = 0
    while pending:
        used, credit = _apply_run(store, pending, on_fault)
        pending = pending[used:]
        credited += credit
    return credited


def _apply_run(
    store: Store, snapshots: list[MachineSnapshot], on_fault: FaultHook | None
) -> tuple[int, int]:
    """Apply the longest run of snapshots that credit one stage, in one conditional write;
    returns (snapshots used, sheets credited)."""
    first = snapshots[0]
    key = f"{first.site}/{first.machine}"
    for _ in range(MAX_ATTEMPTS):
        current = store.get_machine(key)
        machine, stage, used, credited, changed = current, None, 0, 0, False
        for snapshot in snapshots:
            followed, switched = _follow_reported_job(store, machine, snapshot, key)
            if switched is not None and used:
                break  # the next order's sheets go in the next write
            used += 1
            applied = apply_snapshot(followed, snapshot)
            if applied is None:
                continue
            changed = True
            stage = switched or stage
            machine = applied.machine
            if applied.credit and applied.job is not None:
                if stage is None:
                    stage = store.get_stage(applied.job.order_no, applied.job.stage)
                if stage is None:  # the stage went away: keep the sheets visible to staff
                    machine = replace(machine, unattributed=machine.unattributed + applied.credit)
                else:
                    stage = stage.credit(applied.credit, snapshot.ts, applied.waste)
                    credited += applied.credit
        if not changed or machine is None:
            return used, 0
        try:
            store.save_machine(machine, stage)
        except ConflictError:
            continue
        began = machine.fault_since is not None and (current is None or not current.fault_since)
        if began and on_fault is not None:
            on_fault(key)
        return used, credited
    raise ConflictError(f"{key}: still conflicting after {MAX_ATTEMPTS} attempts")


def _agent_status(
    store: Store, body: str, message_id: str, on_lost: FaultHook | None, now: datetime | None
) -> int:
    try:
        status = AgentStatus.model_validate_json(body)
    except ValidationError as error:
        reason = named_fields(error)
        log.warning("quarantined message %s: %s", message_id, reason)
        store.quarantine(reason, body, message_id)
        return 0
    key = f"{status.site}/{status.agent}"
    store.put_agent(key, status.online, now or status.ts or datetime.fromtimestamp(0, UTC))
    if not status.online and on_lost is not None:
        on_lost(key)
    return 0


def _follow_reported_job(
    store: Store, machine: Machine | None, snapshot: MachineSnapshot, key: str
) -> tuple[Machine | None, Stage | None]:
    """A machine that shows a new job id (the order number keyed in at the press) moves to that
    order's next machine stage; its sheets from then on go there."""
    reported = snapshot.job_id
    if reported is None or (
        machine is not None and (snapshot.seq <= machine.seq or reported == machine.reported_job)
    ):
        return machine, None
    found = store.get_order(reported)
    if found is None:
        return machine, None
    stage = next(
        (
            s
            for s in sorted(found[1], key=lambda s: s.position)
            if s.kind is StageKind.MACHINE and s.state not in (StageState.DONE, StageState.SKIPPED)
        ),
        None,
    )
    if stage is None:
        return machine, None
    base = machine or Machine.from_key(key)
    return replace(base, job=JobRef(reported, stage.code)), replace(stage, machine=key)


def ingest_body(
    store: Store,
    body: str,
    message_id: str,
    on_fault: FaultHook | None = None,
    on_agent_lost: FaultHook | None = None,
    now: datetime | None = None,
) -> int:
    """Parse and apply one queue message (a machine snapshot, or an agent's birth or last
    will); bad ones are quarantined, never dropped."""
    if '"online"' in body and '"machine"' not in body:
        return _agent_status(store, body, message_id, on_agent_lost, now)
    try:
        snapshot = parse_or_reject(body)
    except RejectedRecordError as error:
        log.warning("quarantined message %s: %s", message_id, error)
        store.quarantine(str(error), body, message_id)
        return 0
    return ingest_snapshot(store, snapshot, on_fault)


def ingest_batch(
    store: Store,
    messages: list[tuple[str, str]],
    on_fault: FaultHook | None = None,
    on_agent_lost: FaultHook | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Apply a queue batch of (message id, body); returns the ids that failed, to be
    redelivered. Snapshots are grouped per machine and each machine is written once for the
    batch (a machine that fails fails only its own messages); agent statuses and malformed
    bodies are handled one by one."""
    failed: list[str] = []
    machines: dict[str, list[tuple[str, MachineSnapshot]]] = {}
    for message_id, body in messages:
        try:
            if '"online"' in body and '"machine"' not in body:
                _agent_status(store, body, message_id, on_agent_lost, now)
                continue
            try:
                snapshot = parse_or_reject(body)
            except RejectedRecordError as error:
                log.warning("quarantined message %s: %s", message_id, error)
                store.quarantine(str(error), body, message_id)
                continue
        except Exception:
            log.exception("message %s failed; it will be redelivered", message_id)
            failed.append(message_id)
            continue
        machines.setdefault(f"{snapshot.site}/{snapshot.machine}", []).append(
            (message_id, snapshot)
        )
    for key, group in machines.items():
        try:
            ingest_machine(store, [s for _, s in group], on_fault)
        except Exception:
            log.exception("%s: %d snapshots failed; they will be redelivered", key, len(group))
            failed += [message_id for message_id, _ in group]
    return failed
