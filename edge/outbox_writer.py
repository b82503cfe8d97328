"""The stage between the machine readers and the outbox: commits off the event loop, in groups.

Readers hand over snapshots without waiting; one thread commits everything that gathered
meanwhile in a single transaction (one fsync), together with the rows the broker acknowledged.
A slow disk therefore delays publishing, never reading.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Callable

from edge.domain.counters import OdometerState
from edge.outbox import Message, Outbox, Pending

log = logging.getLogger(__name__)


class OutboxWriter:
    """A bounded queue of snapshots to commit, drained by one writer thread."""

    def __init__(
        self, outbox: Outbox, on_committed: Callable[[], None], max_pending: int = 100_000
    ) -> None:
        self.outbox, self.on_committed = outbox, on_committed
        self._records: deque[Pending] = deque()
        self._acks: list[int] = []
        self._ready = asyncio.Event()
        self.max_pending = max_pending
        self.dropped = 0  # snapshots never committed because the queue overflowed

    def submit(
        self, machine_id: str, odometers: dict[str, OdometerState], message: Message
    ) -> None:
        """Queue a snapshot; when the disk has fallen far behind, the oldest give way."""
        if len(self._records) >= self.max_pending:
            self._records.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("outbox writer behind: %d snapshots dropped", self.dropped)
        self._records.append(Pending(machine_id, dict(odometers), message))
        self._ready.set()

    def acknowledge(self, row_ids: list[int]) -> None:
        """Queue acknowledged rows for deletion with the next commit."""
        self._acks.extend(row_ids)
        self._ready.set()

    async def run(self) -> None:
        """Commit until cancelled; what is queued is committed before this returns."""
        try:
            while True:
                await self._ready.wait()
                await self.flush()
        finally:
            await asyncio.shield(self.flush())

    async def flush(self) -> None:
        """Commit everything queued so far in one transaction."""
        self._ready.clear()
        if not self._records and not self._acks:
            return
        records, self._records = list(self._records), deque()
        acks, self._acks = self._acks, []
        try:
            await asyncio.to_thread(self.outbox.commit, records, acks)
        except sqlite3.Error:  # disk full, I/O error: keep everything, try again
            log.exception("outbox commit failed; retrying")
            self._records.extendleft(reversed(records))
            self._acks[:0] = acks
            await asyncio.sleep(1.0)
            self._ready.set()
            return
        self.on_committed()
