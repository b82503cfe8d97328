"""Malformed MQTT payloads among good ones: each bad one is quarantined with a reason naming the
field, and the good ones beside it are applied exactly."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud.service.ingest import ingest_body
from tests.fakes import MemoryStore
from tests.unit.test_ingest import order_on_press, snap

Mutation = tuple[str, Any]


def _set(path: str, value: Any) -> Mutation:
    return (path, value)


# what a bad payload can be, and the field its reason must name
MUTATIONS: list[tuple[str, Mutation | str]] = [
    ("seq", _set("seq", "seven")),
    ("seq", _set("seq", -1)),
    ("v", _set("v", 2)),
    ("ts", _set("ts", "yesterday")),
    ("ts", _set("ts", "2026-12-03T08:00:00")),  # no time zone
    ("counters.lifetime", _set("counters.lifetime", -5)),
    ("counters.lifetime", _set("counters.lifetime", 2**80)),
    ("counters.lifetime", _set("counters.lifetime", 1.5)),
    ("counters.lifetime", "NaN"),
    ("machine", _set("machine", "x" * 100_000)),
    ("machine", _set("machine", "Press 1!")),
    ("state.item", _set("state.item", "Exploded")),
    ("surprise", _set("surprise", {"a": [1] * 10_000})),
    ("body", "not json at all"),
    ("body", ""),
    ("body", "[1, 2, 3]"),
]


def _mutate(good: dict[str, Any], mutation: Mutation | str) -> str:
    if isinstance(mutation, str):
        if mutation == "NaN":
            return json.dumps(good).replace(
                f'"lifetime": {good["counters"]["lifetime"]}', '"lifetime": NaN'
            )
        return mutation
    path, value = mutation
    bad = json.loads(json.dumps(good))
    *parents, leaf = path.split(".")
    node = bad
    for part in parents:
        node = node[part]
    node[leaf] = value
    return json.dumps(bad)


@settings(max_examples=60, deadline=None)
@given(
    increments=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=12),
    bad=st.lists(st.sampled_from(range(len(MUTATIONS))), min_size=1, max_size=12),
    data=st.data(),
)
def test_bad_payloads_are_quarantined_naming_the_field_and_good_ones_applied(
    increments: list[int], bad: list[int], data: st.DataObject
) -> None:
    store = MemoryStore()
    order_on_press(store)
    lifetime, good_bodies = 1_000, []
    for seq, step in enumerate(increments, start=1):
        lifetime += step
        good_bodies.append(snap(seq, lifetime).model_dump_json())
    bad_bodies = []
    for index in bad:
        field, mutation = MUTATIONS[index]
        base = json.loads(good_bodies[data.draw(st.integers(0, len(good_bodies) - 1))])
        bad_bodies.append((field, _mutate(base, mutation)))
    batch = [("good", b) for b in good_bodies] + bad_bodies
    order = data.draw(st.permutations(range(len(batch))))
    for n in order:
        ingest_body(store, batch[n][1], f"m{n}")
    assert len(store.quarantined) == len(bad_bodies)
    reasons = {body: reason for reason, body, _ in store.quarantined}
    for field, body in bad_bodies:
        named = reasons[body].split(":", 1)[0]
        assert named.startswith(field) or field == "body", (field, reasons[body][:120])
    stage = store.get_stage("A-1", "printing")
    assert stage is not None
    assert stage.good == sum(increments)  # the good ones, exactly, whatever came between
