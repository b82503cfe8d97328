"""Reads template.yaml the way CloudFormation would, for the local runner.

Only the resource types the template uses are understood; anything else is reported, not
ignored, so the runner can never silently diverge from what AWS would deploy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STACK = "presstrack"
REGION = "us-east-1"
ACCOUNT = "123456789012"


class TemplateError(Exception):
    """The template uses something the local runner cannot reproduce."""


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that understands CloudFormation's short-form intrinsic tags."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@dataclass(frozen=True)
class SqsEvent:
    """An SQS event source of a function."""

    queue: str
    batch_size: int
    window_seconds: float
    report_failures: bool


@dataclass(frozen=True)
class ScheduleEvent:
    """A Schedule event of a function: `rate(N minutes)` and the like."""

    name: str
    seconds: float


@dataclass(frozen=True)
class StreamEvent:
    """A DynamoDB stream event source of a function."""

    table: str  # logical id
    batch_size: int
    report_failures: bool
    filters: tuple[dict[str, Any], ...] = ()  # FilterCriteria patterns; none: every record


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering, the part the template uses: nested keys, lists of allowed
    values, and {"prefix": ...}."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and matches(inner, value[key]) for key, inner in pattern.items()
        )
    if isinstance(pattern, list):
        return any(
            isinstance(value, str) and value.startswith(p["prefix"])
            if isinstance(p, dict) and "prefix" in p
            else value == p
            for p in pattern
        )
    return bool(value == pattern)


_RATE = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> float:
    """Seconds between runs of an EventBridge `rate(...)` expression."""
    found = re.fullmatch(r"\s*rate\((\d+)\s+(\w+)\)\s*", expression)
    if not found or found.group(2) not in _RATE:
        raise TemplateError(f"schedule {expression!r}: only rate(N minutes|hours|days) runs here")
    return int(found.group(1)) * _RATE[found.group(2)]


@dataclass(frozen=True)
class HttpRoute:
    """An HttpApi event of a function."""

    method: str
    path: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """Path parameters when this route serves the request, else None."""
        if method.upper() != self.method.upper():
            return None
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        pattern = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", pattern)
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


@dataclass
class Function:
    """A function's handler, environment and event sources."""

    logical_id: str
    handler: str
    environment: dict[str, Any]
    sqs_events: list[SqsEvent] = field(default_factory=list)
    routes: list[HttpRoute] = field(default_factory=list)
    schedules: list[ScheduleEvent] = field(default_factory=list)
    streams: list[StreamEvent] = field(default_factory=list)


@dataclass(frozen=True)
class TopicRule:
    """An IoT topic rule that forwards a topic filter to a queue, with an S3 error action."""

    logical_id: str
    topic_filter: str
    queue: str
    error_bucket: str | None


class Template:
    """The parsed template and the physical names the local stack gives its resources."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.doc = document
        self.resources: dict[str, dict[str, Any]] = document.get("Resources", {})
        self.parameters = {
            name: spec.get("Default") for name, spec in document.get("Parameters", {}).items()
        }
        self.endpoint = "http://127.0.0.1:5000"

    @classmethod
    def load(cls, path: Path) -> Template:
        """Parse a template file."""
        return cls(yaml.load(path.read_text(encoding="utf-8"), Loader=_CfnLoader))  # noqa: S506

    def of_type(self, type_: str) -> list[str]:
        """Logical ids of the resources of one type, in template order."""
        return [lid for lid, r in self.resources.items() if r.get("Type") == type_]

    def physical_name(self, logical_id: str) -> str:
        """The name the local stack gives a resource."""
        return (
            f"{STACK}-{logical_id}".lower()
            if self._type(logical_id) == "AWS::S3::Bucket"
            else f"{STACK}-{logical_id}"
        )

    def _type(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise TemplateError(f"unknown resource {logical_id!r}")
        return str(self.resources[logical_id]["Type"])

    def ref(self, logical_id: str) -> str:
        """What !Ref returns for a resource or parameter."""
        if logical_id in self.parameters:
            return str(self.parameters[logical_id])
        type_ = self._type(logical_id)
        name = self.physical_name(logical_id)
        if type_ == "AWS::SQS::Queue":
            return f"{self.endpoint}/{ACCOUNT}/{name}"
        return name  # tables, buckets, secrets (moto takes a secret's name as its id)

    def get_att(self, logical_id: str, attribute: str) -> str:
        """What !GetAtt returns."""
        type_ = self._type(logical_id)
        name = self.physical_name(logical_id)
        if attribute == "QueueName" and type_ == "AWS::SQS::Queue":
            return name
        if attribute == "StreamArn" and type_ == "AWS::DynamoDB::Table":
            return f"stream-of:{logical_id}"  # the real ARN exists once moto made the table
        if attribute == "Arn":
            service = {
                "AWS::SQS::Queue": "sqs",
                "AWS::S3::Bucket": "s3",
                "AWS::IAM::Role": "iam",
                "AWS::DynamoDB::Table": "dynamodb",
            }.get(type_)
            if service == "s3":
                return f"arn:aws:s3:::{name}"
            if service == "dynamodb":
                return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            if service:
                return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{name}"
        raise TemplateError(f"!GetAtt {logical_id}.{attribute} is not supported locally")

    def resolve(self, value: Any) -> Any:
        """Evaluate the intrinsic functions in a value."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            lid, attr = value["Fn::GetAtt"]
            return self.get_att(lid, attr)
        if set(value) == {"Fn::Sub"}:
            return self._sub(value["Fn::Sub"])
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, text: str) -> str:
        def one(found: re.Match[str]) -> str:
            name = found.group(1)
            if name.startswith("AWS::"):
                return {
                    "AWS::Region": REGION,
                    "AWS::AccountId": ACCOUNT,
                    "AWS::URLSuffix": "amazonaws.com",
                }.get(name, name)
            if "." in name:
                lid, attr = name.split(".", 1)
                return self.get_att(lid, attr)
            return self.ref(name)

        return re.sub(r"\$\{([A-Za-z0-9:.]+)\}", one, text)

    def logical_from_arn(self, arn: str) -> str:
        """The logical id whose ARN this is."""
        for lid in self.resources:
            try:
                if self.get_att(lid, "Arn") == arn:
                    return lid
            except TemplateError:
                continue
        raise TemplateError(f"no resource has ARN {arn}")

    def functions(self) -> list[Function]:
        """Every AWS::Serverless::Function with its Globals applied."""
        defaults = self.doc.get("Globals", {}).get("Function", {})
        out = []
        for lid in self.of_type("AWS::Serverless::Function"):
            props = self.resources[lid]["Properties"]
            env = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            function = Function(lid, props["Handler"], self.resolve(env))
            for name, event in props.get("Events", {}).items():
                eprops = event.get("Properties", {})
                if event["Type"] == "SQS":
                    function.sqs_events.append(
                        SqsEvent(
                            queue=self.logical_from_arn(self.resolve(eprops["Queue"])),
                            batch_size=int(eprops.get("BatchSize", 10)),
                            window_seconds=float(eprops.get("MaximumBatchingWindowInSeconds", 0)),
                            report_failures="ReportBatchItemFailures"
                            in eprops.get("FunctionResponseTypes", []),
                        )
                    )
                elif event["Type"] == "HttpApi":
                    function.routes.append(HttpRoute(eprops["Method"], eprops["Path"]))
                elif event["Type"] == "Schedule":
                    seconds = rate_seconds(self.resolve(eprops["Schedule"]))
                    function.schedules.append(ScheduleEvent(name, seconds))
                elif event["Type"] == "DynamoDB":
                    stream = str(self.resolve(eprops["Stream"]))
                    if not stream.startswith("stream-of:"):
                        raise TemplateError(f"{lid}.{name}: Stream must be !GetAtt Table.StreamArn")
                    filters = eprops.get("FilterCriteria", {}).get("Filters", [])
                    function.streams.append(
                        StreamEvent(
                            stream.removeprefix("stream-of:"),
                            int(eprops.get("BatchSize", 100)),
                            "ReportBatchItemFailures" in eprops.get("FunctionResponseTypes", []),
                            tuple(json.loads(f["Pattern"]) for f in filters),
                        )
                    )
                else:
                    raise TemplateError(f"{lid}.{name}: event type {event['Type']} not supported")
            out.append(function)
        return out

    def topic_rules(self) -> list[TopicRule]:
        """IoT topic rules of the form SELECT * FROM 'filter' with an SQS action."""
        rules = []
        for lid in self.of_type("AWS::IoT::TopicRule"):
            payload = self.resolve(self.resources[lid]["Properties"]["TopicRulePayload"])
            found = re.fullmatch(r"\s*SELECT\s+\*\s+FROM\s+'([^']+)'\s*", payload["Sql"], re.I)
            if not found:
                raise TemplateError(f"{lid}: only `SELECT *` rules with a topic filter run here")
            queues = [a["Sqs"]["QueueUrl"] for a in payload["Actions"] if "Sqs" in a]
            if len(queues) != 1:
                raise TemplateError(f"{lid}: exactly one Sqs action is supported locally")
            error = payload.get("ErrorAction", {}).get("S3", {}).get("BucketName")
            rules.append(TopicRule(lid, found.group(1), queues[0], error))
        return rules
