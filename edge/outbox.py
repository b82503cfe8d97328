"""Durable outbox: snapshots are committed to SQLite before they are published.

A row leaves the outbox only after the broker acknowledged it (QoS 1 PUBACK). The machine's
sequence number and odometer are committed in the same transaction as the row, so after a
crash or power cut the agent resumes exactly where its last committed message left off.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edge.domain.counters import OdometerState

_SCHEMA = """
CREATE TABLE IF NOT EXISTS machine (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    odometers TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class MachineRecord:
    """A machine's persisted sequence number and odometers (one per counter point)."""

    seq: int
    odometers: dict[str, OdometerState]


@dataclass(frozen=True)
class OutboxRow:
    """One message waiting for the broker's acknowledgement."""

    id: int
    topic: str
    payload: bytes


class Outbox:
    """SQLite-backed, bounded; when full the oldest messages are dropped and counted."""

    def __init__(self, path: Path, max_messages: int = 1_000_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_messages = max_messages
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        self._seqs: dict[str, int] = {}  # last committed sequence number per machine
        newest = self._db.execute("SELECT MAX(id) FROM outbox").fetchone()[0]
        self.last_row_id: int = int(newest or 0)

    def machine(self, machine_id: str) -> MachineRecord:
        """The last committed sequence number and odometer of a machine."""
        row = self._db.execute(
            "SELECT seq, odometers FROM machine WHERE id = ?", (machine_id,)
        ).fetchone()
        if row is None:
            return MachineRecord(0, {})
        odometers = {name: OdometerState(*values) for name, values in json.loads(row[1]).items()}
        return MachineRecord(row[0], odometers)

    def record(
        self,
        machine_id: str,
        odometers: dict[str, OdometerState],
        message: Callable[[int], tuple[str, bytes]],
    ) -> int:
        """Commit the next sequence number, the odometers and the message built for it."""
        with self._transaction():
            if machine_id not in self._seqs:
                self._seqs[machine_id] = self.machine(machine_id).seq
            seq = self._seqs[machine_id] + 1
            topic, payload = message(seq)
            stored = {name: [o.total, o.last_raw, o.last_time] for name, o in odometers.items()}
            self._db.execute(
                "INSERT INTO machine (id, seq, odometers) VALUES (?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, odometers = excluded.odometers",
                (machine_id, seq, json.dumps(stored)),
            )
            inserted = self._db.execute(
                "INSERT INTO outbox (topic, payload) VALUES (?, ?)", (topic, payload)
            )
            self.last_row_id = int(inserted.lastrowid or self.last_row_id)
            self._depth += 1
            self._enforce_bound()
        self._seqs[machine_id] = seq  # only once the transaction committed
        return seq

    def _enforce_bound(self) -> None:
        excess = self._depth - self.max_messages
        if excess > 0:
            self._depth -= excess
            self._db.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
                (excess,),
            )
            self._db.execute(
                "INSERT INTO counters (name, value) VALUES ('dropped', ?)"
                " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                (excess,),
            )

    def pending(self, after_id: int, limit: int) -> list[OutboxRow]:
        """Messages not yet acknowledged, oldest first, with ids above `after_id`."""
        rows = self._db.execute(
            "SELECT id, topic, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [OutboxRow(r[0], r[1], bytes(r[2])) for r in rows]

    def acknowledge(self, row_ids: list[int]) -> None:
        """Remove messages the broker has acknowledged."""
        if row_ids:
            with self._transaction():
                deleted = self._db.executemany(
                    "DELETE FROM outbox WHERE id = ?", [(i,) for i in row_ids]
                ).rowcount
            self._depth -= max(0, deleted)

    def depth(self) -> int:
        """Messages waiting."""
        return self._depth

    def dropped(self) -> int:
        """Messages dropped because the outbox was full, since it was created."""
        row = self._db.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
