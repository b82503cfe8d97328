"""Runs a template function's handler in this process, one invocation at a time."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local.template import ACCOUNT, REGION, Function

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and powertools read."""

    function_name: str
    timeout_seconds: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    _deadline: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        """The function's ARN."""
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    """A handler imported once and invoked serially, like one Lambda execution environment."""

    def __init__(self, function: Function, timeout_seconds: float = 30) -> None:
        self.function = function
        self.timeout_seconds = timeout_seconds
        module_name, _, attr = function.handler.rpartition(".")
        self._handler: Handler = getattr(importlib.import_module(module_name), attr)
        self._lock = threading.Lock()
        self.invocations = 0

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler with a fresh context."""
        context = LambdaContext(
            function_name=self.function.logical_id,
            timeout_seconds=self.timeout_seconds,
            _deadline=time.monotonic() + self.timeout_seconds,
        )
        with self._lock:
            self.invocations += 1
            return self._handler(event, context)
