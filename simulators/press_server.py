"""The press simulator as a Modbus TCP server that writes its ground truth to a file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from simulators.machine_model import (
    FAULT_PAPER_JAM,
    JOB_ID_REGISTERS,
    REG_COMMAND,
    REG_JOB_ID,
    REGISTER_COUNT,
    Command,
    MachineModel,
    MachineStateCode,
)

log = logging.getLogger(__name__)

WRITE_FUNCTION_CODES = {6, 16, 22, 23}


@dataclass(frozen=True)
class PressOptions:
    """How the simulated press is set up."""

    host: str = "127.0.0.1"
    port: int = 5020
    unit: int = 1
    sheets_per_hour: float = 12_000
    lifetime: int = 1_000_000
    start: bool = False
    job_sheets: int | None = None
    truth: Path | None = None
    tick_seconds: float = 0.05
    fault_after: float | None = None
    fault_for: float = 10.0
    waste_every: int = 0
    job_id: str = ""
    serial: str | None = None
    baudrate: int = 19200


def write_truth(path: Path, model: MachineModel) -> None:
    """Atomically replace the truth file so a reader never sees half of it."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({**model.truth(), "ts": time.time()}))
    os.replace(tmp, path)


class PressSimulator:
    """Runs a MachineModel in real time behind a Modbus TCP server."""

    def __init__(self, options: PressOptions) -> None:
        self.options = options
        self.model = MachineModel(
            sheets_per_hour=options.sheets_per_hour,
            lifetime=options.lifetime,
            job_target=options.job_sheets,
            waste_every=options.waste_every,
            job_id=options.job_id,
            state=MachineStateCode.RUNNING if options.start else MachineStateCode.IDLE,
        )
        device = SimDevice(
            id=options.unit,
            simdata=[SimData(0, count=REGISTER_COUNT, datatype=DataType.REGISTERS)],
            action=self._on_request,
        )
        self.server: ModbusTcpServer | ModbusSerialServer
        if options.serial is not None:  # Modbus RTU on a serial line
            self.server = ModbusSerialServer(
                context=device, port=options.serial, baudrate=options.baudrate
            )
        else:
            self.server = ModbusTcpServer(context=device, address=(options.host, options.port))
        self.silent = False

    async def _on_request(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if function_code in WRITE_FUNCTION_CODES and set_values is not None:
            written = [int(v) for v in set_values]
            image = self.model.registers()[REG_JOB_ID : REG_JOB_ID + JOB_ID_REGISTERS]
            touched = False
            for offset, value in enumerate(written):
                at = address + offset - REG_JOB_ID
                if 0 <= at < JOB_ID_REGISTERS:
                    image[at], touched = value, True
            if touched:
                self.model.write_job_id(image)
            for offset, value in enumerate(written):
                if address + offset == REG_COMMAND:
                    self.model.command(value)
                    log.info("command %d -> state %s", value, self.model.state.name)
            # the registers always show the model: a write changes the model, not the image
            cast(list[int], set_values)[:] = self.model.registers()[
                address : address + len(written)
            ]
            self._write_truth()
        if self.silent:  # a device that stopped answering: the request never gets a reply
            await asyncio.sleep(3600)
        registers[:REGISTER_COUNT] = self.model.registers()
        return None

    def toggle_silence(self) -> None:
        """Stop (or resume) answering requests, like a PLC whose CPU hung."""
        self.silent = not self.silent
        log.info("press %s", "stopped answering" if self.silent else "answers again")

    def _write_truth(self) -> None:
        if self.options.truth is not None:
            write_truth(self.options.truth, self.model)

    async def _run_model(self) -> None:
        last = time.monotonic()
        started = last
        fault_started: float | None = None
        while True:
            await asyncio.sleep(self.options.tick_seconds)
            now = time.monotonic()
            self.model.advance(now - last)
            last = now
            after = self.options.fault_after
            if after is not None and fault_started is None and now - started >= after:
                self.model.fault(FAULT_PAPER_JAM)
                fault_started = now
            elif (
                fault_started is not None
                and self.model.state is MachineStateCode.FAULT
                and now - fault_started >= self.options.fault_for
            ):
                self.model.command(Command.CLEAR_FAULT)
                self.model.command(Command.START)
            self._write_truth()

    async def run(self) -> None:
        """Serve until cancelled; the truth file is current when this returns."""
        ticker = asyncio.create_task(self._run_model())
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, self.toggle_silence)
        try:
            where = self.options.serial or f"{self.options.host}:{self.options.port}"
            log.info("press listening on %s unit %d", where, self.options.unit)
            await self.server.serve_forever()
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await self.server.shutdown()
            self._write_truth()
