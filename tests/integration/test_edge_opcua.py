"""The edge agent against the OPC UA finisher simulator: security, restarts, subscriptions."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from edge.sources.opcua import APPLICATION_URI
from infra.broker import Mosquitto
from simulators.finisher_profile import finisher_machine
from simulators.machine_model import Command
from tests.helpers import Listener, eventually, finisher, item_of, running_finisher
from tests.integration.test_edge_agent import edge_config, running_agent


async def certificates(directory: Path) -> dict[str, Path]:
    """A server and a client certificate, self-signed, as OPC UA applications use them."""
    host = socket.gethostname()
    paths = {
        name: directory / name for name in ("server.der", "server.pem", "client.der", "client.pem")
    }
    await setup_self_signed_certificate(
        paths["server.pem"],
        paths["server.der"],
        "urn:presstrack:simulators:finisher",
        host,
        [ExtendedKeyUsageOID.SERVER_AUTH],
        {"commonName": "finisher"},
    )
    await setup_self_signed_certificate(
        paths["client.pem"],
        paths["client.der"],
        APPLICATION_URI,
        host,
        [ExtendedKeyUsageOID.CLIENT_AUTH],
        {"commonName": "presstrack edge"},
    )
    return paths


@pytest.mark.parametrize("mode", ["SignAndEncrypt", "Sign"])
async def test_reads_a_finisher_over_basic256sha256(
    mode: str, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    certs = await certificates(tmp_path)
    machine = finisher(
        certificate=certs["server.der"],
        private_key=certs["server.pem"],
        secure_only=True,
        pieces_per_hour=36_000,
    )
    site = f"opcua-{mode.lower()}"
    listener = Listener(mosquitto.url, site)
    security: dict[str, Any] = {
        "mode": mode,
        "certificate": certs["client.der"],
        "private_key": certs["client.pem"],
    }
    try:
        async with running_finisher(machine):
            config = edge_config(
                mosquitto,
                tmp_path / "edge",
                site,
                [
                    finisher_machine(
                        "laminator-1", machine.endpoint, security=security, poll_seconds=0.2
                    )
                ],
            )
            async with running_agent(config):
                await eventually(lambda: bool(listener.of("laminator-1")), 15, "a snapshot")
                machine.command(Command.START)
                await eventually(
                    lambda: (listener.latest_total("laminator-1") or 0) >= 10, 15, "counting"
                )
    finally:
        listener.close()
    latest = listener.of("laminator-1")[-1]
    assert latest.state is not None
    assert (latest.state.item, latest.state.mode) == ("Executing", "Processing")


async def test_keeps_counting_across_a_server_restart(mosquitto: Mosquitto, tmp_path: Path) -> None:
    first = finisher(pieces_per_hour=72_000)
    listener = Listener(mosquitto.url, "restart")
    try:
        config = edge_config(
            mosquitto,
            tmp_path,
            "restart",
            [finisher_machine("folder-1", first.endpoint, poll_seconds=0.2, rated_per_hour=72_000)],
        )
        async with running_agent(config):
            async with running_finisher(first):
                await eventually(
                    lambda: listener.latest_total("folder-1") is not None, 15, "the baseline"
                )
                first.command(Command.START)
                await asyncio.sleep(1.5)
            await eventually(
                lambda: any(not s.available for s in listener.of("folder-1")),
                10,
                "the outage noticed",
            )
            second = finisher(port=first.options.port, pieces_per_hour=72_000)
            second.model = first.model  # the machine kept counting; only its server restarted
            second.model.command(Command.START)
            async with running_finisher(second):
                await asyncio.sleep(1.5)
                second.command(Command.STOP)
                truth = second.model.lifetime
                await eventually(
                    lambda: listener.latest_total("folder-1") == truth,
                    15,
                    "the total to reach the truth after the restart",
                )
    finally:
        listener.close()


async def test_a_short_state_change_arrives_through_the_subscription(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    machine = finisher()
    listener = Listener(mosquitto.url, "opcua-blink")
    try:
        async with running_finisher(machine):
            entry = finisher_machine(
                "stamper-1", machine.endpoint, name="Laminator", poll_seconds=5.0
            )
            entry["state_poll_seconds"] = 5.0  # only the subscription can see a 0.3 s fault
            config = edge_config(mosquitto, tmp_path, "opcua-blink", [entry], counter_seconds=5.0)
            async with running_agent(config):
                await eventually(lambda: bool(listener.of("stamper-1")), 15, "a snapshot")
                await asyncio.sleep(1)
                machine.command(Command.FAULT)
                await asyncio.sleep(0.3)
                machine.command(Command.CLEAR_FAULT)
                await eventually(
                    lambda: any(item_of(s) == "OutOfService" for s in listener.of("stamper-1")),
                    4,
                    "the fault from the subscription",
                )
                await eventually(
                    lambda: item_of(listener.of("stamper-1")[-1]) == "NotExecuting",
                    4,
                    "the recovery",
                )
    finally:
        listener.close()
