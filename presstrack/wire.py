"""The MQTT wire contract shared by the edge agent and the cloud ingest.

Every message names its schema version. Counters are cumulative (an odometer the edge keeps
across register wrap, job resets and agent restarts) and every snapshot carries a per-machine
sequence number that survives restarts, so the cloud can apply messages in any order and any
number of times and still arrive at exactly the truth.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1
TOPIC_ROOT = "presstrack/v1"
#: Largest counter value accepted: beyond 2**53 JSON numbers stop being exact.
MAX_COUNTER = 2**53 - 1

Slug = Annotated[
    str,
    Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="lower-case id usable in a topic"),
]


class ItemState(StrEnum):
    """OPC 40001-1 MachineryItemState."""

    NOT_AVAILABLE = "NotAvailable"
    OUT_OF_SERVICE = "OutOfService"
    NOT_EXECUTING = "NotExecuting"
    EXECUTING = "Executing"


class OperationMode(StrEnum):
    """OPC 40001-1 MachineryOperationMode."""

    NONE = "None"
    MAINTENANCE = "Maintenance"
    SETUP = "Setup"
    PROCESSING = "Processing"


class StatusDetail(StrEnum):
    """The JDF StatusDetails vocabulary used to say why a machine is in its state."""

    GOOD = "Good"
    WASTE = "Waste"
    FORM_CHANGE = "FormChange"
    WASH_UP = "WashUp"
    PAPER_JAM = "PaperJam"
    BREAKDOWN = "Breakdown"
    REPAIR = "Repair"
    WARM_UP = "WarmUp"
    CLEAN_UP = "CleanUp"
    BLANKET_CHANGE = "BlanketChange"
    SIZE_CHANGE = "SizeChange"
    PAUSE = "Pause"
    SHUT_DOWN = "ShutDown"
    WAIT_FOR_APPROVAL = "WaitForApproval"
    MISSING_RESOURCES = "MissingResources"
    FAILURE = "Failure"


class CounterUnit(StrEnum):
    """What one count of a machine's counter means."""

    SHEET = "sheet"
    IMPRESSION = "impression"
    PIECE = "piece"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MachineState(_Wire):
    """A machine's state on the two OPC 40001-1 axes plus a JDF status detail."""

    item: ItemState
    mode: OperationMode = OperationMode.NONE
    detail: StatusDetail | None = None
    fault_code: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None


Count = Annotated[int, Field(ge=0, le=MAX_COUNTER)]


class Counters(_Wire):
    """Cumulative counts since the agent first saw the machine."""

    lifetime: Count = Field(description="odometer of the machine's lifetime counter")
    unit: CounterUnit = CounterUnit.SHEET
    job: Count | None = Field(default=None, description="the machine's own job counter, raw")
    good: Count | None = None
    waste: Count | None = None


class MachineSnapshot(_Wire):
    """What a machine looks like at one moment, as the edge agent saw it."""

    v: Literal[1] = Field(default=1, description="schema version")
    site: Slug
    machine: Slug
    agent: Slug
    seq: Annotated[int, Field(ge=0, le=MAX_COUNTER)] = Field(
        description="per-machine sequence number; survives agent restarts"
    )
    ts: AwareDatetime = Field(description="when the machine was read")
    available: bool = Field(default=True, description="false when the machine did not answer")
    state: MachineState | None = None
    counters: Counters | None = None
    job_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _available_has_data(self) -> MachineSnapshot:
        if self.available and self.state is None and self.counters is None:
            raise ValueError("an available machine must report state or counters")
        if self.machine == "agents":
            raise ValueError("machine: 'agents' is reserved for agent status topics")
        return self

    @property
    def topic(self) -> str:
        """The topic of a routine snapshot (counters, heartbeat)."""
        return snapshot_topic(self.site, self.machine)

    @property
    def change_topic(self) -> str:
        """The topic of a snapshot sent because the machine's state changed (the fast lane)."""
        return change_topic(self.site, self.machine)

    def to_json(self) -> bytes:
        """Serialise compactly for the wire."""
        return self.model_dump_json(exclude_none=True).encode()


class AgentStatus(_Wire):
    """Birth and last-will message of an edge agent (retained)."""

    v: Literal[1] = 1
    site: Slug
    agent: Slug
    online: bool
    ts: AwareDatetime | None = None
    version: str | None = None

    def to_json(self) -> bytes:
        """Serialise compactly for the wire."""
        return self.model_dump_json(exclude_none=True).encode()


def snapshot_topic(site: str, machine: str) -> str:
    """Topic for a machine's snapshots: presstrack/v1/{site}/{machine}/snapshot."""
    return f"{TOPIC_ROOT}/{site}/{machine}/snapshot"


def change_topic(site: str, machine: str) -> str:
    """Topic for a machine's state changes: presstrack/v1/{site}/{machine}/change."""
    return f"{TOPIC_ROOT}/{site}/{machine}/change"


def agent_status_topic(site: str, agent: str) -> str:
    """Topic for an agent's retained status: presstrack/v1/{site}/agents/{agent}/status."""
    return f"{TOPIC_ROOT}/{site}/agents/{agent}/status"


def parse_snapshot(payload: bytes | str) -> MachineSnapshot:
    """Parse and validate a snapshot; raises pydantic.ValidationError naming the field."""
    return MachineSnapshot.model_validate_json(payload)


def json_schemas() -> dict[str, Any]:
    """JSON Schemas of every wire message, keyed by message name."""
    return {
        "MachineSnapshot": MachineSnapshot.model_json_schema(),
        "AgentStatus": AgentStatus.model_json_schema(),
    }


def dump_schemas(indent: int = 2) -> str:
    """The JSON Schema document committed under docs/."""
    doc = {
        "$comment": "Generated by `presstrack schema`; do not edit by hand.",
        "schema_version": SCHEMA_VERSION,
        "topics": {
            "MachineSnapshot": f"{TOPIC_ROOT}/{{site}}/{{machine}}/snapshot",
            "MachineSnapshot (state changed)": f"{TOPIC_ROOT}/{{site}}/{{machine}}/change",
            "AgentStatus": f"{TOPIC_ROOT}/{{site}}/agents/{{agent}}/status",
        },
        "messages": json_schemas(),
    }
    return json.dumps(doc, indent=indent, sort_keys=True) + "\n"
