"""The wire contract: validation names the field, and the committed schema is current."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from presstrack.wire import MachineSnapshot, dump_schemas, parse_snapshot

ROOT = Path(__file__).resolve().parents[2]


def snapshot(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "v": 1,
        "site": "shop",
        "machine": "press-1",
        "agent": "edge-1",
        "seq": 7,
        "ts": datetime(2026, 12, 3, 8, 0, tzinfo=UTC).isoformat(),
        "state": {"item": "Executing", "mode": "Processing", "detail": "Good"},
        "counters": {"lifetime": 1234, "unit": "sheet", "job": 34},
    }
    body.update(changes)
    return body


def test_a_good_snapshot_round_trips() -> None:
    parsed = parse_snapshot(json.dumps(snapshot()))
    assert parsed.topic == "presstrack/v1/shop/press-1/snapshot"
    assert parsed.change_topic == "presstrack/v1/shop/press-1/change"
    assert MachineSnapshot.model_validate_json(parsed.to_json()) == parsed


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"v": 2}, "v"),
        ({"seq": -1}, "seq"),
        ({"ts": "2026-12-03T08:00:00"}, "ts"),
        ({"counters": {"lifetime": "many"}}, "counters.lifetime"),
        ({"counters": {"lifetime": 2**60}}, "counters.lifetime"),
        ({"machine": "Press 1"}, "machine"),
        ({"state": {"item": "Dancing"}}, "state.item"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_snapshots_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_snapshot(json.dumps(snapshot(**change)))
    fields = {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}
    assert field in fields


def test_nan_is_not_a_counter() -> None:
    with pytest.raises(ValidationError):
        parse_snapshot(
            '{"v":1,"site":"s","machine":"m","agent":"a","seq":1,'
            '"ts":"2026-12-03T08:00:00Z","counters":{"lifetime":NaN}}'
        )


def test_committed_schema_is_current() -> None:
    assert (ROOT / "docs" / "wire.schema.json").read_text() == dump_schemas()


def test_committed_openapi_is_current() -> None:
    from cloud.handlers.api import openapi_json

    assert (ROOT / "docs" / "openapi.json").read_text().strip() == openapi_json().strip()
