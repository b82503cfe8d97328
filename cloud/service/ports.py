"""The storage port the use cases need, and the errors it raises."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cloud.domain.alerts import Notice
from cloud.domain.estimate import Calibration, Estimate, ShopSettings
from cloud.domain.incidents import Incident
from cloud.domain.keys import ApiKey
from cloud.domain.links import TrackingLink
from cloud.domain.machines import Machine
from cloud.domain.messages import Message, Subscription
from cloud.domain.orders import Order, Stage
from cloud.domain.photos import Photo


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

    def create_order(self, order: Order, stages: list[Stage], link: TrackingLink) -> None:
        """Create an order, its stages and its first tracking link, or AlreadyExistsError."""

    def save_order(self, order: Order, stages: list[Stage]) -> None:
        """Write an order and some of its stages if none changed since read."""

    def get_order(self, order_no: str) -> tuple[Order, list[Stage]] | None:
        """An order and its stages."""

    def list_machines(self) -> list[Machine]:
        """Every machine that has reported."""

    def list_orders(self, open_only: bool = False) -> list[Order]:
        """Every order by due date; with `open_only`, those not closed by `close_order`."""

    def close_order(self, order_no: str) -> None:
        """Leave a finished or cancelled order out of `list_orders(open_only=True)` until it is
        saved again."""

    def first_token(self, order_no: str) -> str | None:
        """The tracking token created with the order."""

    def order_for_token(self, token: str) -> str | None:
        """The order number a tracking token points at (live or not: see get_link)."""

    def save_stage(self, stage: Stage) -> None:
        """Write a stage if it did not change since it was read."""

    def assign(self, machine: Machine, stage: Stage) -> None:
        """Save a machine pointed at a stage, and the stage, if neither changed since read."""

    def quarantine(self, reason: str, body: str, message_id: str) -> None:
        """Keep a rejected record with its reason."""

    def put_agent(self, key: str, online: bool, at: datetime) -> None:
        """An edge agent's last status (birth or last will) as it arrived."""

    def offline_agents(self) -> set[str]:
        """Agents (site/agent) whose last status was their last will."""

    def put_api_key(self, key: ApiKey) -> None:
        """Store a key's digest and who it belongs to."""

    def get_api_key(self, digest: str) -> ApiKey | None:
        """The key with this digest."""


class RateLimitedError(Exception):
    """Too many attempts from one place; try again after `retry_after` seconds."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"{what}: too many attempts, try again in {retry_after} s")
        self.retry_after = retry_after


class CustomerStore(Store, Protocol):
    """What the customer's side needs besides orders: links, the message board, push opt-ins,
    photos, the shop's settings and history, the estimates given, and rate counters."""

    def get_link(self, token: str) -> TrackingLink | None:
        """A tracking link, live or not."""

    def put_link(self, link: TrackingLink) -> None:
        """Store a new link, or a changed one if it did not change since read."""

    def list_links(self, order_no: str) -> list[TrackingLink]:
        """Every link of an order, oldest first."""

    def get_tracked(self, order_no: str) -> Tracked | None:
        """An order with its stages, messages and photos, in one read."""

    def add_message(self, message: Message) -> None:
        """Add a message to its order's thread."""

    def put_subscription(self, subscription: Subscription) -> None:
        """Store (or renew) a customer's push opt-in."""

    def list_subscriptions(self, order_no: str) -> list[Subscription]:
        """An order's push opt-ins."""

    def put_photo(self, photo: Photo) -> None:
        """Store a photo's record (its state may change later)."""

    def get_photo(self, order_no: str, photo_id: str) -> Photo | None:
        """One photo's record."""

    def get_settings(self) -> ShopSettings:
        """The shop's calendar and estimate figures (defaults until staff set them)."""

    def put_settings(self, settings: ShopSettings) -> None:
        """Replace the shop's settings."""

    def get_calibration(self) -> Calibration:
        """The shop's history per stage code."""

    def save_calibration(self, calibration: Calibration) -> None:
        """Write the history if it did not change since read (ConflictError otherwise)."""

    def log_estimate(self, order_no: str, estimate: Estimate, printed: int) -> bool:
        """Keep an estimate that was given; False when it repeats the last one kept."""

    def list_estimates(self, order_no: str) -> list[dict[str, object]]:
        """Every estimate kept for an order, oldest first."""

    def count(self, key: str, window_s: int, limit: int, now: datetime) -> int:
        """Count one attempt in the current window; RateLimitedError once past `limit`."""


@dataclass(frozen=True)
class Tracked:
    """Everything the customer's page shows about one order."""

    order: Order
    stages: list[Stage]
    messages: list[Message]
    photos: list[Photo]


class PhotoFiles(Protocol):
    """Where photo files live (S3): uploads and views by short-lived signed links."""

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_s: int
    ) -> tuple[str, dict[str, str]]:
        """The URL and form fields of a signed upload that takes only this type and size."""

    def head(self, key: str) -> tuple[str, int] | None:
        """The stored file's content type and size, or None before it arrives."""

    def view_url(self, key: str, expires_s: int) -> str:
        """A link to the file that stops working after `expires_s` seconds."""

    def delete(self, key: str) -> None:
        """Remove a file that failed the checks."""


class AlertStore(CustomerStore, Protocol):
    """Incidents and the notices sent about them."""

    def list_open_incidents(self) -> list[Incident]:
        """Every incident not closed yet."""

    def save_incident(self, incident: Incident) -> None:
        """Write an open incident if it did not change since read; a closed one moves to the
        log (ConflictError when someone else changed it first)."""

    def list_incidents(self, since: datetime) -> list[Incident]:
        """Open incidents and those started since `since`, newest first."""

    def add_notice(self, notice: Notice) -> bool:
        """Store a new notice; False when one with its key exists (never sent twice)."""

    def save_notice(self, notice: Notice) -> None:
        """Write a notice if it did not change since read."""

    def list_notices(self, since: datetime) -> list[Notice]:
        """Notices created since `since`, newest first."""
