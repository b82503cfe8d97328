"""The service unit and the Greengrass recipe start the agent with a command that exists."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import yaml

from presstrack.cli import build_parser

INFRA = Path(__file__).resolve().parents[2] / "infra"


def assert_runs_the_agent(command: str) -> None:
    words = shlex.split(command)
    assert words[0].endswith("/presstrack")
    args = build_parser().parse_args(words[1:])
    assert (args.command, args.edge_command) == ("edge", "run")


def test_systemd_unit_runs_the_agent_and_restarts_it() -> None:
    unit = configparser.ConfigParser(strict=False)
    unit.read(INFRA / "systemd" / "presstrack-edge.service")
    assert_runs_the_agent(unit["Service"]["ExecStart"])
    assert unit["Service"]["Restart"] == "always"
    assert unit["Service"]["StateDirectory"] == "presstrack"


def test_greengrass_recipe_runs_the_agent() -> None:
    recipe = yaml.safe_load((INFRA / "greengrass" / "recipe.yaml").read_text())
    assert recipe["RecipeFormatVersion"] == "2020-01-25"
    lifecycle = recipe["Manifests"][0]["Lifecycle"]
    command = (
        lifecycle["run"]["Script"]
        .replace("{work:path}", "/gg/work")
        .replace("{configuration:/configPath}", "/gg/edge.yaml")
    )
    assert_runs_the_agent(command)
