"""Photos of proofs and semi-finished work that staff attach to a stage."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

MAX_BYTES = 10 * 1024 * 1024
TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


class PhotoState(StrEnum):
    """Whether the upload has arrived and passed the checks."""

    PENDING = "pending"
    READY = "ready"
    REJECTED = "rejected"


class PhotoError(ValueError):
    """The photo breaks a limit; the message names the field."""


@dataclass(frozen=True)
class Photo:
    """One photo: where it is stored and what the customer sees beside it."""

    order_no: str
    id: str
    stage: str
    key: str
    content_type: str
    size: int
    created: datetime
    by: str
    caption: str | None = None
    state: PhotoState = PhotoState.PENDING
    reason: str | None = None

    @classmethod
    def plan(
        cls,
        order_no: str,
        stage: str,
        content_type: str,
        size: int,
        now: datetime,
        by: str,
        caption: str | None = None,
    ) -> Photo:
        """A photo about to be uploaded, or PhotoError for a type or size we do not take."""
        if content_type not in TYPES:
            raise PhotoError(f"content_type: one of {', '.join(sorted(TYPES))}")
        if not 0 < size <= MAX_BYTES:
            raise PhotoError(f"size: between 1 and {MAX_BYTES} bytes")
        photo_id = secrets.token_hex(8)
        key = f"photos/{order_no}/{stage}/{photo_id}.{TYPES[content_type]}"
        return cls(order_no, photo_id, stage, key, content_type, size, now, by, caption)

    def arrived(self, content_type: str | None, size: int | None) -> Photo:
        """Check what was stored against what was announced."""
        if size is None:
            return replace(self, state=PhotoState.PENDING, reason="file: not uploaded yet")
        if content_type != self.content_type:
            return replace(
                self, state=PhotoState.REJECTED, reason=f"content_type: got {content_type}"
            )
        if size > min(self.size, MAX_BYTES):
            return replace(
                self,
                state=PhotoState.REJECTED,
                reason=f"size: {size} bytes, more than the {self.size} announced",
            )
        return replace(self, state=PhotoState.READY, size=size, reason=None)
