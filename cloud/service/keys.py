"""Use cases of API keys: issue one, and know who is calling."""

from __future__ import annotations

from datetime import datetime

from cloud.domain.keys import ApiKey, Role, digest, new_secret, same_digest
from cloud.service.ports import Store


class UnauthorizedError(Exception):
    """No key, or a key this service does not know."""


def issue_key(store: Store, name: str, role: Role, now: datetime) -> str:
    """Create a key; the secret is returned once and only its digest is kept."""
    secret = new_secret()
    store.put_api_key(ApiKey(digest(secret), name, role, now))
    return secret


def authenticate(store: Store, presented: str | None) -> ApiKey:
    """The key behind a request's `x-api-key` header, or UnauthorizedError."""
    if not presented:
        raise UnauthorizedError("missing API key (header x-api-key)")
    wanted = digest(presented)
    found = store.get_api_key(wanted)
    if found is None or not same_digest(found.digest, wanted):
        raise UnauthorizedError("unknown API key")
    return found
