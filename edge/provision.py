"""`presstrack edge provision`: an AWS IoT thing, its certificate, and a policy that lets it
connect as itself and publish only its own machines' topics."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from edge.config import EdgeConfig
from presstrack.wire import agent_status_topic, change_topic, snapshot_topic


@dataclass(frozen=True)
class Provisioned:
    """What was created and where the credentials were written."""

    thing: str
    policy: str
    certificate_arn: str
    certificate: Path
    private_key: Path
    endpoint: str


def client_id(config: EdgeConfig) -> str:
    """The MQTT client id the agent connects with (and the only one its policy allows)."""
    return config.mqtt.client_id or f"presstrack-{config.site}-{config.agent}"


def policy_document(config: EdgeConfig, region: str, account: str) -> dict[str, Any]:
    """Least privilege: connect as its own client id, publish its machines' snapshots and state
    changes and its own retained status (birth and last will), nothing else."""
    arn = f"arn:aws:iot:{region}:{account}"
    topics = [
        topic(config.site, m.id)
        for m in config.machines
        for topic in (snapshot_topic, change_topic)
    ]
    status = agent_status_topic(config.site, config.agent)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iot:Connect",
                "Resource": f"{arn}:client/{client_id(config)}",
            },
            {
                "Effect": "Allow",
                "Action": "iot:Publish",
                "Resource": [f"{arn}:topic/{t}" for t in [*topics, status]],
            },
            {"Effect": "Allow", "Action": "iot:RetainPublish", "Resource": f"{arn}:topic/{status}"},
        ],
    }


def provision(config: EdgeConfig, out_dir: Path, endpoint_url: str | None = None) -> Provisioned:
    """Create (or reuse) the thing and policy, issue a certificate and attach everything."""
    iot: Any = boto3.client("iot", endpoint_url=endpoint_url)
    sts: Any = boto3.client("sts", endpoint_url=endpoint_url)
    region = iot.meta.region_name
    account = sts.get_caller_identity()["Account"]
    thing = f"presstrack-{config.site}-{config.agent}"
    policy = f"{thing}-policy"
    existing = {t["thingName"] for t in iot.list_things().get("things", [])}
    if thing not in existing:
        iot.create_thing(
            thingName=thing,
            attributePayload={"attributes": {"site": config.site, "agent": config.agent}},
        )
    document = json.dumps(policy_document(config, region, account))
    try:
        iot.create_policy(policyName=policy, policyDocument=document)
    except iot.exceptions.ResourceAlreadyExistsException:
        iot.create_policy_version(policyName=policy, policyDocument=document, setAsDefault=True)
    issued = iot.create_keys_and_certificate(setAsActive=True)
    iot.attach_policy(policyName=policy, target=issued["certificateArn"])
    iot.attach_thing_principal(thingName=thing, principal=issued["certificateArn"])
    out_dir.mkdir(parents=True, exist_ok=True)
    certificate, private_key = out_dir / f"{thing}.cert.pem", out_dir / f"{thing}.private.key"
    certificate.write_text(issued["certificatePem"])
    private_key.write_text(issued["keyPair"]["PrivateKey"])
    os.chmod(private_key, 0o600)
    endpoint = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    return Provisioned(thing, policy, issued["certificateArn"], certificate, private_key, endpoint)


def config_snippet(result: Provisioned, config: EdgeConfig) -> str:
    """The `mqtt:` section that points the agent at AWS IoT Core with its new certificate."""
    return (
        "mqtt:\n"
        f"  url: mqtts://{result.endpoint}:8883\n"
        f"  client_id: {client_id(config)}\n"
        "  tls:\n"
        "    ca: /etc/presstrack/AmazonRootCA1.pem\n"
        f"    certificate: {result.certificate}\n"
        f"    private_key: {result.private_key}\n"
    )
