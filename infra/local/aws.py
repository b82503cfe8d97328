"""moto's server as the embedded AWS, and the resources template.yaml declares created in it."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import boto3

from infra.local.template import REGION, Template, TemplateError

log = logging.getLogger(__name__)

LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Block until something accepts connections on host:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


class MotoServer:
    """moto's server in a child process on 127.0.0.1."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until it answers."""
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.local.moto_server",
                "-H",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **LOCAL_CREDENTIALS},
        )
        wait_for_port("127.0.0.1", self.port, 30)
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=5):  # noqa: S310
            pass

    def stop(self) -> None:
        """Stop the server; everything in it is gone."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None


def client(service: str, endpoint: str) -> Any:
    """A boto3 client of the local stack."""
    factory: Any = boto3.client
    return factory(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
    "BillingMode",
)


def provision(template: Template, endpoint: str) -> None:
    """Create the tables, queues and buckets the template declares."""
    template.endpoint = endpoint
    dynamodb, sqs, s3 = (client(s, endpoint) for s in ("dynamodb", "sqs", "s3"))
    for lid in template.of_type("AWS::DynamoDB::Table"):
        props = template.resolve(template.resources[lid]["Properties"])
        args = {k: props[k] for k in _TABLE_KEYS if k in props}
        if "StreamSpecification" in args:
            args["StreamSpecification"] = {"StreamEnabled": True, **args["StreamSpecification"]}
        dynamodb.create_table(TableName=template.physical_name(lid), **args)
    queues = template.of_type("AWS::SQS::Queue")
    # dead-letter queues first, so a redrive policy can name them
    queues.sort(key=lambda lid: "RedrivePolicy" in template.resources[lid].get("Properties", {}))
    for lid in queues:
        props = template.resolve(template.resources[lid].get("Properties", {}))
        attributes = {}
        for key in (
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "DelaySeconds",
            "ReceiveMessageWaitTimeSeconds",
        ):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        sqs.create_queue(QueueName=template.physical_name(lid), Attributes=attributes)
    for lid in template.of_type("AWS::S3::Bucket"):
        s3.create_bucket(Bucket=template.physical_name(lid))
    secrets = client("secretsmanager", endpoint)
    for lid in template.of_type("AWS::SecretsManager::Secret"):
        props = template.resolve(template.resources[lid].get("Properties", {}))
        secrets.create_secret(
            Name=template.physical_name(lid), SecretString=props.get("SecretString", "{}")
        )
    known = {
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::S3::Bucket",
        "AWS::SecretsManager::Secret",
        "AWS::IAM::Role",
        "AWS::IoT::TopicRule",
        "AWS::Serverless::Function",
        "AWS::Serverless::HttpApi",
    }
    unknown = {r["Type"] for r in template.resources.values()} - known
    if unknown:
        raise TemplateError(f"the local stack cannot run {sorted(unknown)}")
    log.info("provisioned %d resources on %s", len(template.resources), endpoint)
