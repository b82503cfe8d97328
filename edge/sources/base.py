"""What every machine source offers the agent, whatever the protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Protocol

from edge.domain.registers import Value


class SourceError(Exception):
    """A machine could not be read; the message says why."""


class MachineSource(Protocol):
    """Reads one machine's configured points by name."""

    async def read(self, names: Collection[str]) -> dict[str, Value]:
        """Current values of the named points; raises SourceError."""

    async def wait_change(self, seconds: float) -> None:
        """Sleep up to `seconds`; sources with subscriptions return early on a state change."""

    def take_transitions(self) -> list[dict[str, Value]]:
        """State values seen since the last call that a poll may have missed (oldest first)."""

    async def close(self) -> None:
        """Release connections."""


class PollingSource:
    """Base of sources that only poll: waiting is sleeping, nothing happens in between."""

    async def wait_change(self, seconds: float) -> None:
        """Sleep."""
        await asyncio.sleep(seconds)

    def take_transitions(self) -> list[dict[str, Value]]:
        """Polling sees no transitions between polls."""
        return []
