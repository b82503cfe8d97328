"""Generated mistakes in an edge config: any leaf replaced by a value of the wrong kind, any key
removed or misspelt. The config is either still valid or refused with an error that names a
field at or above the one that was broken, never with a traceback."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.config import ConfigError, parse_config
from simulators.press_profile import press_machine

Path = tuple[str | int, ...]


def good() -> dict[str, Any]:
    return {
        "site": "shop",
        "agent": "edge-1",
        "mqtt": {"url": "mqtt://127.0.0.1:1883"},
        "report": {"counter_seconds": 1},
        "machines": [press_machine("press-1", 5020), press_machine("press-2", 5021)],
    }


def paths(node: Any, here: Path = ()) -> list[Path]:
    """Every place in the document (leaves and containers)."""
    found = [here] if here else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*here, index))
    return found


def dotted(path: Path) -> str:
    """machines[0].modbus.port, as the errors spell it."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.just(math.nan),
    st.just(math.inf),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.text(min_size=5000, max_size=5000),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_broken_field_is_refused_by_name(data: st.DataObject) -> None:
    config = good()
    path = data.draw(st.sampled_from(paths(config)), label="path")
    parent: Any = config
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    how = data.draw(st.sampled_from(["replace", "remove", "misspell"]), label="how")
    if how == "replace":
        parent[last] = data.draw(WRONG, label="value")
    elif isinstance(parent, dict):
        value = parent.pop(last)
        if how == "misspell":
            parent[f"{last}_x"] = value
    else:
        parent.pop(last)
    try:
        parse_config(config)
    except ConfigError as error:
        message = str(error)
        named = [dotted(path[:n]) for n in range(len(path), 0, -1)]
        if how == "misspell":
            named.insert(0, dotted((*path[:-1], f"{last}_x")))
        assert any(f"\n{name}" in message or f"{name}:" in message for name in named), (
            f"{how} {dotted(path)}: {message}"
        )
    except Exception as error:  # anything but a ConfigError is a defect
        raise AssertionError(f"{how} {dotted(path)} raised {error!r}") from error
