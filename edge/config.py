"""The edge agent's YAML configuration, validated with errors that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from presstrack.wire import CounterUnit, MachineState, Slug


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message names the field."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


RegisterType = Literal["uint16", "int16", "uint32", "int32"]


class RegisterPoint(_Config):
    """Where a value lives on a Modbus device and how to decode it."""

    address: Annotated[int, Field(ge=0, le=65535)]
    table: Literal["holding", "input"] = "holding"
    type: RegisterType = "uint16"
    word_order: Literal["big", "little"] = "big"

    @property
    def width(self) -> int:
        """Number of 16-bit registers the value occupies."""
        return 2 if self.type.endswith("32") else 1

    @property
    def bits(self) -> int:
        """Width of the value in bits, for counter wrap."""
        return 16 * self.width


class CounterPoint(RegisterPoint):
    """A counter register: the machine's lifetime count of sheets or impressions."""

    type: RegisterType = "uint32"
    unit: CounterUnit = CounterUnit.SHEET


class StatePoint(RegisterPoint):
    """A state register and the map from its raw values to the machine-state model."""

    map: dict[int, MachineState]
    fault_code: RegisterPoint | None = None

    @field_validator("map")
    @classmethod
    def _not_empty(cls, value: dict[int, MachineState]) -> dict[int, MachineState]:
        if not value:
            raise ValueError("map must list at least one raw value")
        return value


class ModbusConnection(_Config):
    """A Modbus TCP endpoint and unit id."""

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 502
    unit: Annotated[int, Field(ge=0, le=247)] = 1
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0


class MachineConfig(_Config):
    """One machine the agent reads."""

    id: Slug
    kind: Literal["press", "finisher", "counter"] = "press"
    modbus: ModbusConnection
    counter: CounterPoint
    job_counter: RegisterPoint | None = None
    state: StatePoint | None = None
    poll_seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0
    rated_per_hour: Annotated[int, Field(gt=0, le=1_000_000)] = 18_000

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "agents":
            raise ValueError("'agents' is reserved for agent status topics")
        return value


class MqttConfig(_Config):
    """The broker the agent publishes to."""

    url: str = "mqtt://127.0.0.1:1883"
    client_id: str | None = None
    keepalive_seconds: Annotated[int, Field(ge=5, le=3600)] = 30
    inflight: Annotated[int, Field(ge=1, le=1000)] = 100

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
        return value


class ReportConfig(_Config):
    """Report by exception: state changes at once, counters at most this often, a heartbeat."""

    counter_seconds: Annotated[float, Field(ge=0, le=3600)] = 1.0
    heartbeat_seconds: Annotated[float, Field(gt=0, le=86400)] = 60.0


class OutboxConfig(_Config):
    """The durable outbox between reading and publishing."""

    max_messages: Annotated[int, Field(ge=100)] = 1_000_000


class EdgeConfig(_Config):
    """The whole edge agent configuration file."""

    site: Slug
    agent: Slug
    state_dir: Path = Path("/var/lib/presstrack")
    mqtt: MqttConfig = MqttConfig()
    report: ReportConfig = ReportConfig()
    outbox: OutboxConfig = OutboxConfig()
    machines: Annotated[list[MachineConfig], Field(min_length=1)]

    @field_validator("machines")
    @classmethod
    def _unique_machines(cls, machines: list[MachineConfig]) -> list[MachineConfig]:
        seen: set[str] = set()
        for index, machine in enumerate(machines):
            if machine.id in seen:
                raise ValueError(f"duplicate machine id {machine.id!r} at machines[{index}]")
            seen.add(machine.id)
        return machines


def _field_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem, each starting with the field's path."""
    lines = []
    for problem in error.errors():
        lines.append(f"{_field_path(problem['loc'])}: {problem['msg']}")
    return "\n".join(lines)


def parse_config(data: object, source: str = "config") -> EdgeConfig:
    """Validate already-parsed YAML/JSON data."""
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            f"{source}: invalid configuration\n{describe_validation_error(error)}"
        ) from error


def load_config(path: Path) -> EdgeConfig:
    """Read and validate a YAML config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    return parse_config(data, str(path))
