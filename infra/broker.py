"""Mosquitto for the local stack: used when one is listening, started when none is."""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from infra.local.aws import wait_for_port

log = logging.getLogger(__name__)

_CONFIG = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {data}/
autosave_interval 1
max_inflight_messages 1000
max_queued_messages 1000000
log_dest file {data}/mosquitto.log
user {user}
"""


class BrokerError(Exception):
    """Mosquitto is missing or would not start."""


def is_listening(host: str, port: int) -> bool:
    """True if something accepts TCP connections there."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def mosquitto_binary() -> str:
    """Path of the mosquitto executable."""
    found = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise BrokerError(
            "mosquitto is not installed: run `make setup` (apt-get install mosquitto)"
        )
    return found


@dataclass(frozen=True)
class BrokerTls:
    """Server certificate, its key, and the CA that client certificates must chain to."""

    ca: Path
    certificate: Path
    private_key: Path


class Mosquitto:
    """A Mosquitto process of our own, with its data under `data_dir`."""

    def __init__(self, port: int, data_dir: Path, tls: BrokerTls | None = None) -> None:
        self.port, self.data_dir, self.tls = port, data_dir, tls
        self.url = f"{'mqtts' if tls else 'mqtt'}://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "mosquitto.conf"
        # started as root, mosquitto would switch to its own user and could then write neither
        # its log nor its persistence file here; run it as whoever we are
        user = pwd.getpwuid(os.geteuid()).pw_name
        text = _CONFIG.format(port=self.port, data=self.data_dir, user=user)
        if self.tls is not None:  # mutual TLS, as AWS IoT Core does it
            text += (
                f"cafile {self.tls.ca}\ncertfile {self.tls.certificate}\n"
                f"keyfile {self.tls.private_key}\nrequire_certificate true\n"
                "use_identity_as_username true\n"
            )
        conf.write_text(text)
        self._process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port("127.0.0.1", self.port, 10)
        except TimeoutError as error:
            raise BrokerError(
                f"mosquitto did not start; see {self.data_dir}/mosquitto.log"
            ) from error
        log.info("mosquitto listening on %s", self.url)

    def stop(self) -> None:
        """Stop the broker (it saves its persistent sessions first)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


def ensure_broker(url: str | None, data_dir: Path) -> tuple[str, Mosquitto | None]:
    """Use the broker at `url` (or 127.0.0.1:1883) if one listens; otherwise start one."""
    parts = urlsplit(url or "mqtt://127.0.0.1:1883")
    host, port = parts.hostname or "127.0.0.1", parts.port or 1883
    if is_listening(host, port):
        return f"mqtt://{host}:{port}", None
    if url is not None and host not in ("127.0.0.1", "localhost"):
        raise BrokerError(f"no broker answers at {url}")
    broker = Mosquitto(port, data_dir)
    broker.start()
    return broker.url, broker
