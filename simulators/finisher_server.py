"""A finishing machine (laminator, hot-foil stamper, folder-gluer) as an OPC UA server.

Variables under Objects/{Name} follow OPC 40001-1's MachineryItemState and operation mode, plus
a lifetime counter, a job counter, a job id and a fault code. `Command` is writable and takes
the same codes as the press's command register. Ground truth goes to a JSON file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asyncua import ua
from asyncua.common.node import Node
from asyncua.server.server import Server

from simulators.machine_model import Command, MachineModel, MachineStateCode
from simulators.press_server import write_truth

log = logging.getLogger(__name__)

NAMESPACE = "urn:presstrack:simulators"
APPLICATION_URI = "urn:presstrack:simulators:finisher"
#: How the model's states show on the OPC 40001-1 axes.
OPC_STATES: dict[MachineStateCode, tuple[str, str]] = {
    MachineStateCode.OFF: ("NotAvailable", "None"),
    MachineStateCode.IDLE: ("NotExecuting", "Processing"),
    MachineStateCode.RUNNING: ("Executing", "Processing"),
    MachineStateCode.MAKEREADY: ("Executing", "Setup"),
    MachineStateCode.FAULT: ("OutOfService", "Processing"),
    MachineStateCode.MAINTENANCE: ("OutOfService", "Maintenance"),
}


@dataclass(frozen=True)
class FinisherOptions:
    """How the simulated finisher is set up."""

    host: str = "127.0.0.1"
    port: int = 4840
    name: str = "Laminator"
    pieces_per_hour: float = 6_000
    lifetime: int = 0
    start: bool = False
    job_pieces: int | None = None
    truth: Path | None = None
    certificate: Path | None = None
    private_key: Path | None = None
    secure_only: bool = False
    tick_seconds: float = 0.05


class FinisherSimulator:
    """Runs a MachineModel in real time behind an OPC UA server."""

    def __init__(self, options: FinisherOptions) -> None:
        self.options = options
        self.model = MachineModel(
            sheets_per_hour=options.pieces_per_hour,
            lifetime=options.lifetime,
            job_target=options.job_pieces,
            state=MachineStateCode.RUNNING if options.start else MachineStateCode.IDLE,
        )
        self.server = Server()
        self.nodes: dict[str, Node] = {}
        self.listening = False

    @property
    def endpoint(self) -> str:
        """The URL clients connect to."""
        return f"opc.tcp://{self.options.host}:{self.options.port}/presstrack/"

    async def _setup(self) -> None:
        await self.server.init()
        await self.server.set_application_uri(APPLICATION_URI)
        self.server.set_endpoint(self.endpoint)
        self.server.set_server_name(f"presstrack simulated {self.options.name}")
        if self.options.certificate is not None and self.options.private_key is not None:
            await self.server.load_certificate(str(self.options.certificate))
            await self.server.load_private_key(str(self.options.private_key))
            policies = [
                ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                ua.SecurityPolicyType.Basic256Sha256_Sign,
            ]
            if not self.options.secure_only:
                policies.append(ua.SecurityPolicyType.NoSecurity)
            self.server.set_security_policy(policies)
        else:
            self.server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        ns = await self.server.register_namespace(NAMESPACE)
        machine = await self.server.nodes.objects.add_object(ns, self.options.name)
        variables: dict[str, Any] = {
            "MachineryItemState": ("NotExecuting", ua.VariantType.String),
            "MachineryOperationMode": ("Processing", ua.VariantType.String),
            "LifetimeCounter": (self.model.lifetime, ua.VariantType.UInt32),
            "JobCounter": (0, ua.VariantType.UInt32),
            "FaultCode": (0, ua.VariantType.UInt32),
            "JobId": ("", ua.VariantType.String),
            "Command": (0, ua.VariantType.Int32),
        }
        for name, (value, vtype) in variables.items():
            self.nodes[name] = await machine.add_variable(
                f"ns={ns};s={name}", f"{ns}:{name}", ua.Variant(value, vtype)
            )
        await self.nodes["Command"].set_writable()
        await self.nodes["JobId"].set_writable()

    async def _publish(self) -> None:
        item, mode = OPC_STATES[self.model.state]
        values = {
            "MachineryItemState": ua.Variant(item, ua.VariantType.String),
            "MachineryOperationMode": ua.Variant(mode, ua.VariantType.String),
            "LifetimeCounter": ua.Variant(self.model.lifetime % 2**32, ua.VariantType.UInt32),
            "JobCounter": ua.Variant(self.model.job_count % 2**32, ua.VariantType.UInt32),
            "FaultCode": ua.Variant(self.model.fault_code, ua.VariantType.UInt32),
        }
        for name, variant in values.items():
            await self.server.write_attribute_value(self.nodes[name].nodeid, ua.DataValue(variant))

    async def _take_commands(self) -> None:
        command = int(await self.nodes["Command"].read_value())
        if command:
            self.model.command(command)
            log.info("command %d -> state %s", command, self.model.state.name)
            await self.nodes["Command"].write_value(ua.Variant(0, ua.VariantType.Int32))
        job_id = str(await self.nodes["JobId"].read_value())
        if job_id != self.model.job_id:
            self.model.job_id = job_id

    def command(self, code: Command) -> None:
        """Operate the machine directly (in-process tests)."""
        self.model.command(code)

    async def run(self) -> None:
        """Serve until cancelled; the truth file is current when this returns."""
        await self._setup()
        async with self.server:
            self.listening = True
            log.info("finisher %s listening on %s", self.options.name, self.endpoint)
            last = time.monotonic()
            try:
                while True:
                    await asyncio.sleep(self.options.tick_seconds)
                    now = time.monotonic()
                    self.model.advance(now - last)
                    last = now
                    await self._take_commands()
                    await self._publish()
                    if self.options.truth is not None:
                        write_truth(self.options.truth, self.model)
            finally:
                if self.options.truth is not None:
                    with contextlib.suppress(OSError):
                        write_truth(self.options.truth, self.model)
