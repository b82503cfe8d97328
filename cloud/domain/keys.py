"""API keys: random secrets handed out once and stored only as their SHA-256 digest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

KEY_BYTES = 32


class Role(StrEnum):
    """What a key may do."""

    ERP = "erp"  # orders, routes, assignments
    OPERATOR = "operator"  # stage actions on the shop floor
    STAFF = "staff"  # everything a shop's office does


@dataclass(frozen=True)
class ApiKey:
    """A stored key: never the secret itself."""

    digest: str
    name: str
    role: Role
    created: datetime


def new_secret() -> str:
    """A fresh key (256 random bits); shown once, never stored."""
    return f"pt_{secrets.token_urlsafe(KEY_BYTES)}"


def digest(secret: str) -> str:
    """The stored form of a key. Keys are random, so a fast hash is enough (no dictionary)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_digest(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a, b)
