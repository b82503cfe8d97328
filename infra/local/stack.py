"""`presstrack local`: template.yaml run on one machine with moto's server and Mosquitto."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from infra.local.aws import LOCAL_CREDENTIALS, MotoServer, provision
from infra.local.event_source import ScheduleSource, SqsEventSource, StreamSource
from infra.local.http_api import HttpApi
from infra.local.iot_rule import TopicRuleBridge
from infra.local.lambdas import LocalFunction
from infra.local.template import Template

log = logging.getLogger(__name__)

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


@dataclass
class LocalStack:
    """Everything AWS would run for template.yaml, on 127.0.0.1."""

    mqtt_url: str
    http_port: int = 8000
    template_path: Path = TEMPLATE
    moto_port: int | None = None
    # where the stack's clients reach moto (a relay in front of it, in fault tests)
    aws_endpoint: str | None = None
    template: Template = field(init=False)
    moto: MotoServer = field(init=False)
    functions: dict[str, LocalFunction] = field(default_factory=dict, init=False)
    bridges: list[TopicRuleBridge] = field(default_factory=list, init=False)
    schedule_seconds: float | None = None  # run schedules this often instead (demos, tests)
    sources: list[SqsEventSource] = field(default_factory=list, init=False)
    schedules: list[ScheduleSource] = field(default_factory=list, init=False)
    streams: list[StreamSource] = field(default_factory=list, init=False)
    api: HttpApi | None = field(default=None, init=False)

    @property
    def endpoint(self) -> str:
        """Where AWS answers: moto's server, or the relay before it; boto3 clients in this
        process use it too."""
        return self.aws_endpoint or self.moto.endpoint

    @property
    def base_url(self) -> str:
        """Base URL of the HTTP API."""
        assert self.api is not None
        return f"http://127.0.0.1:{self.api.port}"

    def start(self) -> None:
        """Start moto, create the resources, and run the rule, the queues and the API."""
        self.template = Template.load(self.template_path)
        self.moto = MotoServer(self.moto_port)
        self.moto.start()
        provision(self.template, self.endpoint)
        os.environ.update(LOCAL_CREDENTIALS)
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint
        routes = []
        for spec in self.template.functions():
            os.environ.update({k: str(v) for k, v in spec.environment.items()})
        for spec in self.template.functions():
            function = LocalFunction(spec)
            self.functions[spec.logical_id] = function
            for event in spec.sqs_events:
                self.sources.append(
                    SqsEventSource(
                        event,
                        self.template.ref(event.queue),
                        self.template.physical_name(event.queue),
                        function,
                        self.endpoint,
                    )
                )
            routes += [(route, function) for route in spec.routes]
            self.schedules += [
                ScheduleSource(event, function, self.schedule_seconds) for event in spec.schedules
            ]
            self.streams += [
                StreamSource(
                    event, self.template.physical_name(event.table), function, self.endpoint
                )
                for event in spec.streams
            ]
        for rule in self.template.topic_rules():
            self.bridges.append(
                TopicRuleBridge(rule, self.mqtt_url, self.endpoint, rule.error_bucket)
            )
        self.api = HttpApi(routes, self.http_port)
        for source in self.sources:
            source.start()
        for stream in self.streams:
            stream.start()
        for schedule in self.schedules:
            schedule.start()
        for bridge in self.bridges:
            bridge.start()
        self.api.start()
        log.info(
            "local stack: API %s, AWS %s, broker %s", self.base_url, self.endpoint, self.mqtt_url
        )

    def stop(self) -> None:
        """Stop everything in reverse order."""
        for bridge in self.bridges:
            bridge.stop()
        for schedule in self.schedules:
            schedule.stop()
        for source in self.sources:
            source.stop()
        for stream in self.streams:
            stream.stop()
        if self.api is not None:
            self.api.stop()
        self.moto.stop()
