"""The edge agent's YAML configuration, validated with errors that name the field."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from presstrack.wire import CounterUnit, MachineState, Slug


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid; the message names the field."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ValueType = Literal[
    "uint16", "int16", "uint32", "int32", "uint64", "int64", "float32", "string", "bool"
]
_WIDTH = {
    "uint16": 1,
    "int16": 1,
    "bool": 1,
    "uint32": 2,
    "int32": 2,
    "float32": 2,
    "uint64": 4,
    "int64": 4,
}
COUNTER_TYPES = ("uint16", "uint32", "uint64")


class Point(_Config):
    """Where one value lives on a machine and how to decode it.

    Modbus points give `address` (and `table`, `type`, orders); OPC UA points give `node`
    (a node id such as `ns=2;s=Counter`) or `browse_path` (such as `0:Objects/2:Press/2:Count`).
    """

    address: Annotated[int, Field(ge=0, le=65535)] | None = None
    table: Literal["holding", "input", "coil", "discrete"] = "holding"
    type: ValueType = "uint16"
    length: Annotated[int, Field(ge=1, le=64)] | None = Field(
        default=None, description="registers of a string"
    )
    word_order: Literal["big", "little"] = "big"
    byte_order: Literal["big", "little"] = "big"
    scale: float = 1.0
    offset: float = 0.0
    node: Annotated[str, Field(min_length=1)] | None = None
    browse_path: Annotated[str, Field(min_length=1)] | None = None
    bits: Literal[16, 32, 64] | None = Field(
        default=None, description="counter width for wrap; taken from `type` when not given"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Point:
        if self.type == "string" and self.address is not None and self.length is None:
            raise ValueError("length: a string needs its length in registers")
        if self.table in ("coil", "discrete") and self.type != "bool":
            raise ValueError("type: coils and discrete inputs are bool")
        if self.node is not None and self.browse_path is not None:
            raise ValueError("give node or browse_path, not both")
        return self

    @property
    def width(self) -> int:
        """Number of registers (or bits, for coils) the value occupies."""
        if self.type == "string":
            return self.length or 1
        return _WIDTH[self.type]

    @property
    def counter_bits(self) -> int:
        """Width of the counter in bits, for wrap."""
        if self.bits is not None:
            return self.bits
        return 16 * _WIDTH.get(self.type, 2) if self.type in COUNTER_TYPES else 32

    @property
    def is_modbus(self) -> bool:
        """True when addressed by register."""
        return self.address is not None

    @property
    def is_opcua(self) -> bool:
        """True when addressed by node id or browse path."""
        return self.node is not None or self.browse_path is not None


class CounterPoint(Point):
    """A counter: the machine's lifetime (or job) count of sheets, impressions or pieces."""

    type: ValueType = "uint32"
    unit: CounterUnit = CounterUnit.SHEET


class StatePoint(Point):
    """A state value and the map from its raw values to the machine-state model."""

    map: dict[int | str, MachineState]
    fault_code: Point | None = None

    @field_validator("map")
    @classmethod
    def _not_empty(cls, value: dict[int | str, MachineState]) -> dict[int | str, MachineState]:
        if not value:
            raise ValueError("map must list at least one raw value")
        return value

    def lookup(self, raw: int | str | bool | float) -> MachineState | None:
        """The state a raw value stands for (numbers also match their text form)."""
        key: int | str
        if isinstance(raw, bool):
            key = int(raw)
        elif isinstance(raw, float):
            key = int(raw) if raw.is_integer() else str(raw)
        else:
            key = raw
        found = self.map.get(key)
        if found is None:
            found = self.map.get(str(key))
        if found is None and isinstance(key, str) and key.lstrip("-").isdigit():
            found = self.map.get(int(key))
        return found


class ModbusTcp(_Config):
    """A Modbus TCP endpoint and unit id."""

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(ge=1, le=65535)] = 502
    unit: Annotated[int, Field(ge=0, le=247)] = 1
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0


class ModbusSerial(_Config):
    """A Modbus RTU serial line and unit id."""

    serial: Annotated[str, Field(min_length=1, description="device, e.g. /dev/ttyUSB0")]
    baudrate: Literal[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    bytesize: Literal[7, 8] = 8
    unit: Annotated[int, Field(ge=1, le=247)] = 1
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 1.0


class OpcUaSecurity(_Config):
    """OPC UA message security with the agent's certificate and key."""

    policy: Literal["Basic256Sha256"] = "Basic256Sha256"
    mode: Literal["Sign", "SignAndEncrypt"] = "SignAndEncrypt"
    certificate: Path
    private_key: Path
    server_certificate: Path | None = None


class OpcUaEndpoint(_Config):
    """An OPC UA server."""

    url: Annotated[str, Field(pattern=r"^opc\.tcp://.+")]
    security: OpcUaSecurity | None = None
    username: str | None = None
    password: str | None = None
    subscribe: bool = Field(default=True, description="data-change subscription; else poll")
    publishing_ms: Annotated[int, Field(ge=10, le=60_000)] = 100
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 4.0


_POINT_FIELDS = ("counter", "good", "waste", "job_counter", "job_id", "state", "mode")


class MachineConfig(_Config):
    """One machine the agent reads, over Modbus (TCP or RTU) or OPC UA."""

    id: Slug
    kind: Literal["press", "finisher", "counter"] = "press"
    modbus: ModbusTcp | None = None
    modbus_rtu: ModbusSerial | None = None
    opcua: OpcUaEndpoint | None = None
    counter: CounterPoint
    good: CounterPoint | None = None
    waste: CounterPoint | None = None
    job_counter: Point | None = None
    job_id: Point | None = None
    state: StatePoint | None = None
    mode: Point | None = Field(
        default=None, description="OPC 40001-1 operation mode read as its name (None, Setup...)"
    )
    poll_seconds: Annotated[float, Field(gt=0, le=3600)] = 1.0
    state_poll_seconds: Annotated[float, Field(gt=0, le=3600)] | None = Field(
        default=None, description="read state this often (default: min(poll, 0.2 s))"
    )
    rated_per_hour: Annotated[int, Field(gt=0, le=1_000_000)] = 18_000

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value == "agents":
            raise ValueError("'agents' is reserved for agent status topics")
        return value

    @model_validator(mode="after")
    def _one_protocol(self) -> MachineConfig:
        given = [n for n in ("modbus", "modbus_rtu", "opcua") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `modbus`, `modbus_rtu` or `opcua`")
        modbus = self.link is not None
        for name, point in self.points().items():
            if modbus and not point.is_modbus:
                raise ValueError(f"{name}: a Modbus point needs `address`")
            if not modbus and not point.is_opcua:
                raise ValueError(f"{name}: an OPC UA point needs `node` or `browse_path`")
        for name in ("counter", "good", "waste", "job_counter"):
            point = getattr(self, name)
            if point is not None and modbus and point.type not in COUNTER_TYPES:
                raise ValueError(f"{name}.type: a counter is one of {', '.join(COUNTER_TYPES)}")
        return self

    def points(self) -> dict[str, Point]:
        """Every configured point by name (state's fault code as `fault`)."""
        found: dict[str, Point] = {}
        for name in _POINT_FIELDS:
            point = getattr(self, name)
            if point is not None:
                found[name] = point
        if self.state is not None and self.state.fault_code is not None:
            found["fault"] = self.state.fault_code
        return found

    @property
    def link(self) -> ModbusTcp | ModbusSerial | None:
        """The Modbus connection (TCP or RTU), or None for OPC UA."""
        return self.modbus or self.modbus_rtu

    @property
    def state_period(self) -> float:
        """How often the state is read."""
        return self.state_poll_seconds or min(self.poll_seconds, 0.2)


class MqttTls(_Config):
    """TLS towards the broker; with certificate and key it is mutual TLS (AWS IoT Core)."""

    ca: Path | None = None
    certificate: Path | None = None
    private_key: Path | None = None

    @model_validator(mode="after")
    def _pair(self) -> MqttTls:
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("certificate and private_key go together")
        return self


class MqttConfig(_Config):
    """The broker the agent publishes to."""

    url: str = "mqtt://127.0.0.1:1883"
    client_id: str | None = None
    keepalive_seconds: Annotated[int, Field(ge=5, le=3600)] = 30
    inflight: Annotated[int, Field(ge=1, le=1000)] = 100
    tls: MqttTls | None = None

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
        return value


class ReportConfig(_Config):
    """Report by exception: state changes at once, counters every N s or M sheets, a heartbeat."""

    counter_seconds: Annotated[float, Field(ge=0, le=3600)] = 5.0
    counter_sheets: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="also report as soon as this many sheets were added"
    )
    heartbeat_seconds: Annotated[float, Field(gt=0, le=86400)] = 60.0


class OutboxConfig(_Config):
    """The durable outbox between reading and publishing."""

    max_messages: Annotated[int, Field(ge=100)] = 1_000_000


class MetricsConfig(_Config):
    """The Prometheus endpoint."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 9108


class EdgeConfig(_Config):
    """The whole edge agent configuration file."""

    site: Slug
    agent: Slug
    state_dir: Path = Path("/var/lib/presstrack")
    mqtt: MqttConfig = MqttConfig()
    report: ReportConfig = ReportConfig()
    outbox: OutboxConfig = OutboxConfig()
    metrics: MetricsConfig | None = None
    log_format: Literal["text", "json"] = "text"
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
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{_field_path(problem['loc'])}: {message}")
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
