"""How the agent reaches the cloud: mutual TLS to the broker, and AWS IoT provisioning."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import ssl
import stat
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.config import parse_config
from edge.provision import policy_document, provision
from infra.broker import BrokerTls, Mosquitto
from infra.local.aws import client, free_port
from infra.local.stack import LocalStack
from simulators.machine_model import Command
from simulators.press_profile import press_machine
from tests.helpers import Listener, eventually, running_press
from tests.integration.test_edge_agent import running_agent
from tests.tls import ThrowawayCa


class TlsListener(Listener):
    """A Listener that connects with its own client certificate."""

    def __init__(self, broker: Mosquitto, site: str, cert: Path, key: Path) -> None:
        assert broker.tls is not None
        self._tls = (str(broker.tls.ca), str(cert), str(key))
        super().__init__(broker.url, site)

    def _prepare(self, client: mqtt.Client) -> None:
        client.tls_set(
            ca_certs=self._tls[0],
            certfile=self._tls[1],
            keyfile=self._tls[2],
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )


async def test_agent_publishes_over_mutual_tls(tmp_path: Path) -> None:
    ca = ThrowawayCa(tmp_path / "pki")
    server_cert, server_key = ca.issue("broker", "127.0.0.1", server=True)
    agent_cert, agent_key = ca.issue("agent", "presstrack-mtls-edge-1", server=False)
    reader_cert, reader_key = ca.issue("reader", "reader", server=False)
    broker = Mosquitto(
        free_port(), tmp_path / "broker", BrokerTls(ca.path, server_cert, server_key)
    )
    broker.start()
    listener = TlsListener(broker, "mtls", reader_cert, reader_key)
    try:
        async with running_press(sheets_per_hour=36_000) as press:
            config = {
                "site": "mtls",
                "agent": "edge-1",
                "state_dir": str(tmp_path / "edge"),
                "mqtt": {
                    "url": broker.url,
                    "tls": {
                        "ca": str(ca.path),
                        "certificate": str(agent_cert),
                        "private_key": str(agent_key),
                    },
                },
                "report": {"counter_seconds": 0.2},
                "machines": [press_machine("press-1", press.options.port, poll_seconds=0.1)],
            }
            async with running_agent(config) as agent:
                await eventually(
                    lambda: listener.latest_total("press-1") is not None, 15, "a snapshot over TLS"
                )
                press.model.command(Command.START)
                await eventually(
                    lambda: (listener.latest_total("press-1") or 0) > 0, 10, "counting over TLS"
                )
                assert agent.publisher.connected
    finally:
        listener.close()
        broker.stop()


def test_a_client_without_a_certificate_is_refused(tmp_path: Path) -> None:
    ca = ThrowawayCa(tmp_path / "pki")
    server_cert, server_key = ca.issue("broker", "127.0.0.1", server=True)
    broker = Mosquitto(
        free_port(), tmp_path / "broker", BrokerTls(ca.path, server_cert, server_key)
    )
    broker.start()
    accepted: list[bool] = []
    anonymous = mqtt.Client(CallbackAPIVersion.VERSION2)
    anonymous.tls_set(ca_certs=str(ca.path), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    anonymous.on_connect = lambda _c, _u, _f, reason, _p: accepted.append(not reason.is_failure)
    try:
        with contextlib.suppress(ssl.SSLError, OSError):
            anonymous.connect("127.0.0.1", broker.port)
            anonymous.loop_start()
            time.sleep(2)
        assert not any(accepted)
        assert not anonymous.is_connected()
    finally:
        anonymous.loop_stop()
        broker.stop()


def site_config() -> dict[str, object]:
    return {
        "site": "shop-9",
        "agent": "edge-1",
        "machines": [press_machine("press-1", 5020), press_machine("press-2", 5021)],
    }


def test_the_policy_allows_only_the_agents_own_topics() -> None:
    document = policy_document(parse_config(site_config()), "cn-north-1", "123456789012")
    arn = "arn:aws:iot:cn-north-1:123456789012"
    allowed = [
        r for s in document["Statement"] if s["Action"] == "iot:Publish" for r in s["Resource"]
    ]

    def may_publish(topic: str) -> bool:
        return any(fnmatch.fnmatchcase(f"{arn}:topic/{topic}", r) for r in allowed)

    assert may_publish("presstrack/v1/shop-9/press-1/snapshot")
    assert may_publish("presstrack/v1/shop-9/press-1/change")
    assert not may_publish("presstrack/v1/shop-9/press-3/change")
    assert may_publish("presstrack/v1/shop-9/agents/edge-1/status")
    assert not may_publish("presstrack/v1/shop-9/press-3/snapshot")
    assert not may_publish("presstrack/v1/shop-1/press-1/snapshot")
    assert not may_publish("presstrack/v1/shop-9/agents/edge-2/status")
    connect = next(s for s in document["Statement"] if s["Action"] == "iot:Connect")
    assert connect["Resource"] == f"{arn}:client/presstrack-shop-9-edge-1"
    assert "*" not in json.dumps(document)


def test_provision_creates_thing_certificate_and_policy_on_moto(
    stack: LocalStack, tmp_path: Path
) -> None:
    config = parse_config(site_config())
    first = provision(config, tmp_path / "certs", endpoint_url=stack.endpoint)
    again = provision(config, tmp_path / "certs2", endpoint_url=stack.endpoint)  # re-run is fine
    iot = client("iot", stack.endpoint)
    assert first.thing in {t["thingName"] for t in iot.list_things()["things"]}
    principals = iot.list_thing_principals(thingName=first.thing)["principals"]
    assert {first.certificate_arn, again.certificate_arn} <= set(principals)
    attached = iot.list_attached_policies(target=first.certificate_arn)["policies"]
    assert [p["policyName"] for p in attached] == [first.policy]
    stored = json.loads(iot.get_policy(policyName=first.policy)["policyDocument"])
    assert stored == policy_document(config, "us-east-1", "123456789012")
    assert "BEGIN CERTIFICATE" in first.certificate.read_text()
    assert stat.S_IMODE(first.private_key.stat().st_mode) == 0o600
