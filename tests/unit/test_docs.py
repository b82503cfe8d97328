"""The worked examples in the docs stay valid configurations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from edge.config import parse_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "edge.md"
EXAMPLES = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_edge_doc_examples_are_valid(example: str) -> None:
    config = parse_config(yaml.safe_load(example))
    assert config.machines
