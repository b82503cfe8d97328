"""Shared fixtures: real servers on 127.0.0.1 for the integration and end-to-end layers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from infra.broker import Mosquitto
from infra.local.aws import free_port
from infra.local.stack import LocalStack
from tests.link import AwsLink


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A Mosquitto broker of the test session's own, on a free port."""
    broker = Mosquitto(free_port(), tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def aws_link() -> Iterator[AwsLink]:
    """The relay between the stack and moto's server; fault tests cut or throttle it."""
    link = AwsLink(free_port()).start()
    yield link
    link.stop()


@pytest.fixture(scope="session")
def stack(mosquitto: Mosquitto, aws_link: AwsLink) -> Iterator[LocalStack]:
    """template.yaml running locally: moto's server, the rule bridge, queues, the HTTP API."""
    # The minute schedule would run the detector at wall-clock time over machines whose tests
    # compress machine time; tests fire the schedule themselves (test_detector_schedule).
    local = LocalStack(
        mqtt_url=mosquitto.url,
        http_port=free_port(),
        schedule_seconds=86_400,
        moto_port=aws_link.upstream_port,
        aws_endpoint=aws_link.endpoint,
    )
    local.start()
    yield local
    local.stop()


@pytest.fixture(scope="session")
def api_key(stack: LocalStack) -> str:
    """A key the ERP routes accept."""
    from cloud.domain.keys import Role
    from cloud.service.keys import issue_key
    from cloud.settings import store

    return issue_key(store(), "tests", Role.STAFF, datetime.now(UTC))


def read_truth(path: Path) -> dict[str, Any]:
    """A simulator's ground truth file."""
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The contract run goes last: it leaves orders and machines of generated names behind,
    which no other test should have to step around."""
    items.sort(key=lambda item: "tests/contract/" in item.nodeid)
