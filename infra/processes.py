"""Child processes of the local stack (simulators, edge agents), each logging to its own file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


class Child:
    """A `presstrack ...` child process."""

    def __init__(self, name: str, args: list[str], log_dir: Path) -> None:
        self.name, self.args = name, args
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Child:
        """Start (again)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "presstrack", *self.args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return self

    def kill(self) -> None:
        """SIGKILL: what a power cut does to the process."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL if it does not go."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    @property
    def running(self) -> bool:
        """True while the process lives."""
        return self.process is not None and self.process.poll() is None
