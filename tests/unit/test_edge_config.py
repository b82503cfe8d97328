"""Edge configuration: every mistake is reported with the field's path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.config import ConfigError, load_config, parse_config
from simulators.press_profile import press_machine


def good() -> dict[str, Any]:
    return {"site": "shop", "agent": "edge-1", "machines": [press_machine("press-1", 5020)]}


def test_the_press_profile_is_a_valid_config() -> None:
    config = parse_config(good())
    assert config.machines[0].counter.counter_bits == 32
    assert config.machines[0].state is not None


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["machines"][0]["modbus"].update(port=70000), "machines[0].modbus.port"),
        (lambda c: c["machines"][0]["counter"].update(type="float128"), "machines[0].counter.type"),
        (lambda c: c["machines"][0].update(id="Press One"), "machines[0].id"),
        (lambda c: c["machines"][0].update(id="agents"), "machines[0].id"),
        (lambda c: c["machines"][0]["state"].update(map={}), "machines[0].state.map"),
        (
            lambda c: c["machines"][0]["state"]["map"][2].update(item="Flying"),
            "machines[0].state.map[2].item",
        ),
        (lambda c: c.update(mqtt={"url": "http://broker"}), "mqtt.url"),
        (lambda c: c.pop("site"), "site"),
        (lambda c: c.update(machines=[]), "machines"),
        (lambda c: c["machines"][0].update(poll_secs=1), "machines[0].poll_secs"),
    ],
)
def test_errors_name_the_field(mutate: Any, field: str) -> None:
    config = good()
    mutate(config)
    with pytest.raises(ConfigError) as caught:
        parse_config(config)
    assert f"\n{field}: " in str(caught.value)


def test_duplicate_machine_ids_are_named() -> None:
    config = good()
    config["machines"].append(press_machine("press-1", 5021))
    with pytest.raises(
        ConfigError, match=r"machines: .*duplicate machine id 'press-1' at machines\[1\]"
    ):
        parse_config(config)


def test_unreadable_and_non_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("site: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(broken)


def test_edge_run_refuses_a_malformed_config_naming_the_field(tmp_path: Path) -> None:
    config = good()
    config["machines"][0]["modbus"]["port"] = "five"
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    for command in ("run", "check"):
        done = subprocess.run(
            [sys.executable, "-m", "presstrack", "edge", command, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2
        assert "machines[0].modbus.port:" in done.stderr
