"""API keys are stored only as digests and compared in constant time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cloud.domain.keys import Role, digest
from cloud.service.keys import UnauthorizedError, authenticate, issue_key
from tests.fakes import MemoryStore

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_a_key_is_kept_only_as_its_digest() -> None:
    store = MemoryStore()
    secret = issue_key(store, "erp", Role.ERP, NOW)
    assert secret.startswith("pt_")
    assert len(secret) > 40
    assert secret not in repr(store.keys)
    assert authenticate(store, secret).name == "erp"
    assert digest(secret) in store.keys


@pytest.mark.parametrize("presented", [None, "", "pt_guess"])
def test_missing_or_unknown_keys_are_refused(presented: str | None) -> None:
    store = MemoryStore()
    issue_key(store, "erp", Role.ERP, NOW)
    with pytest.raises(UnauthorizedError):
        authenticate(store, presented)
