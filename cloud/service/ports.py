"""The storage port the use cases need, and the errors it raises."""

from __future__ import annotations

from typing import Protocol

from cloud.domain.keys import ApiKey
from cloud.domain.machines import Machine
from cloud.domain.orders import Order, Stage


class StoreError(Exception):
    """Root of storage errors."""


class ConflictError(StoreError):
    """Someone else changed the record first; re-read and try again."""


class AlreadyExistsError(StoreError):
    """The record exists already."""


class NotFoundError(StoreError):
    """No such record."""


class Store(Protocol):
    """Everything the use cases read and write."""

    def get_machine(self, key: str) -> Machine | None:
        """The machine's record, consistently read."""

    def get_stage(self, order_no: str, code: str) -> Stage | None:
        """One stage of an order, consistently read."""

    def save_machine(self, machine: Machine, stage: Stage | None = None) -> None:
        """Write a machine (and the stage it credited) if neither changed since read."""

    def create_order(self, order: Order, stages: list[Stage], token: str) -> None:
        """Create an order, its stages and its first tracking token, or AlreadyExistsError."""

    def save_order(self, order: Order, stages: list[Stage]) -> None:
        """Write an order and some of its stages if none changed since read."""

    def get_order(self, order_no: str) -> tuple[Order, list[Stage]] | None:
        """An order and its stages."""

    def list_machines(self) -> list[Machine]:
        """Every machine that has reported."""

    def list_orders(self) -> list[Order]:
        """Every order, by due date."""

    def first_token(self, order_no: str) -> str | None:
        """The tracking token created with the order."""

    def order_for_token(self, token: str) -> str | None:
        """The order number a live tracking token points at."""

    def save_stage(self, stage: Stage) -> None:
        """Write a stage if it did not change since it was read."""

    def assign(self, machine: Machine, stage: Stage) -> None:
        """Save a machine pointed at a stage, and the stage, if neither changed since read."""

    def quarantine(self, reason: str, body: str, message_id: str) -> None:
        """Keep a rejected record with its reason."""

    def put_api_key(self, key: ApiKey) -> None:
        """Store a key's digest and who it belongs to."""

    def get_api_key(self, digest: str) -> ApiKey | None:
        """The key with this digest."""
