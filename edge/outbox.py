"""Durable outbox: snapshots are committed to SQLite before they are published.

A row leaves the outbox only after the broker acknowledged it (QoS 1 PUBACK). The machine's
sequence number and odometers are committed in the same transaction as the row, so after a
crash or power cut the agent resumes exactly where its last committed message left off.

Writes go through one connection (the writer stage's thread), reads of pending rows through
another: with SQLite's WAL journal the publisher reads while a commit is being synced.
"""

from __future__ import annotations

import json
import sqlite3
import threading
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

Message = Callable[[int], tuple[str, bytes]]


@dataclass(frozen=True)
class MachineRecord:
    """A machine's persisted sequence number and odometers (one per counter point)."""

    seq: int
    odometers: dict[str, OdometerState]


@dataclass(frozen=True)
class Pending:
    """A snapshot to commit: the machine, its odometers then, and how to build the message."""

    machine_id: str
    odometers: dict[str, OdometerState]
    message: Message


@dataclass(frozen=True)
class OutboxRow:
    """One message waiting for the broker's acknowledgement."""

    id: int
    topic: str
    payload: bytes


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    return db


class Outbox:
    """SQLite-backed, bounded; when full the oldest messages are dropped and counted."""

    def __init__(self, path: Path, max_messages: int = 1_000_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_messages = max_messages
        self._db = _connect(path)
        self._db.executescript(_SCHEMA)
        self._reader = _connect(path)
        self._write_lock = threading.Lock()
        self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        self._seqs: dict[str, int] = {}  # last committed sequence number per machine
        newest = self._db.execute("SELECT MAX(id) FROM outbox").fetchone()[0]
        self.last_row_id: int = int(newest or 0)

    def machine(self, machine_id: str) -> MachineRecord:
        """The last committed sequence number and odometer of a machine."""
        row = self._reader.execute(
            "SELECT seq, odometers FROM machine WHERE id = ?", (machine_id,)
        ).fetchone()
        if row is None:
            return MachineRecord(0, {})
        odometers = {name: OdometerState(*values) for name, values in json.loads(row[1]).items()}
        return MachineRecord(row[0], odometers)

    def record(self, machine_id: str, odometers: dict[str, OdometerState], message: Message) -> int:
        """Commit one snapshot; returns its sequence number."""
        return self.commit([Pending(machine_id, odometers, message)], [])[0]

    def commit(self, records: list[Pending], acknowledged: list[int]) -> list[int]:
        """One transaction: each record gets the next sequence number of its machine and is
        stored with its odometers; acknowledged rows are deleted. Returns the sequence numbers."""
        seqs: list[int] = []
        with self._write_lock:
            known = dict(self._seqs)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last_row = self.last_row_id
                for item in records:
                    if item.machine_id not in known:
                        known[item.machine_id] = self.machine(item.machine_id).seq
                    seq = known[item.machine_id] + 1
                    known[item.machine_id] = seq
                    topic, payload = item.message(seq)
                    stored = {
                        n: [o.total, o.last_raw, o.last_time] for n, o in item.odometers.items()
                    }
                    self._db.execute(
                        "INSERT INTO machine (id, seq, odometers) VALUES (?, ?, ?)"
                        " ON CONFLICT(id) DO UPDATE SET seq = excluded.seq,"
                        " odometers = excluded.odometers",
                        (item.machine_id, seq, json.dumps(stored)),
                    )
                    inserted = self._db.execute(
                        "INSERT INTO outbox (topic, payload) VALUES (?, ?)", (topic, payload)
                    )
                    last_row = int(inserted.lastrowid or last_row)
                    seqs.append(seq)
                deleted = 0
                if acknowledged:
                    deleted = self._db.executemany(
                        "DELETE FROM outbox WHERE id = ?", [(i,) for i in acknowledged]
                    ).rowcount
                dropped = self._enforce_bound(self._depth + len(records) - max(0, deleted))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            # only what committed becomes visible to the rest of the agent
            self._seqs = known
            self._depth += len(records) - max(0, deleted) - dropped
            self.last_row_id = last_row
        return seqs

    def _enforce_bound(self, depth: int) -> int:
        excess = depth - self.max_messages
        if excess <= 0:
            return 0
        self._db.execute(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)",
            (excess,),
        )
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('dropped', ?)"
            " ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (excess,),
        )
        return excess

    def pending(self, after_id: int, limit: int) -> list[OutboxRow]:
        """Messages not yet acknowledged, oldest first, with ids above `after_id`."""
        rows = self._reader.execute(
            "SELECT id, topic, payload FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        ).fetchall()
        return [OutboxRow(r[0], r[1], bytes(r[2])) for r in rows]

    def acknowledge(self, row_ids: list[int]) -> None:
        """Remove messages the broker has acknowledged."""
        if row_ids:
            self.commit([], row_ids)

    def depth(self) -> int:
        """Messages waiting."""
        return self._depth

    def dropped(self) -> int:
        """Messages dropped because the outbox was full, since it was created."""
        row = self._reader.execute("SELECT value FROM counters WHERE name = 'dropped'").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the database."""
        with self._write_lock:
            self._reader.close()
            self._db.close()
