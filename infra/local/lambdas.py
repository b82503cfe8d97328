"""Runs a template function's handler in this process, one invocation at a time."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsContext

from infra.local.template import ACCOUNT, REGION, Function

Handler = Callable[[dict[str, Any], Any], Any]


class LambdaContext(PowertoolsContext):
    """The Lambda context object, as handlers and powertools read it."""

    def __init__(self, function_name: str, timeout_seconds: float, memory_mb: int = 256) -> None:
        self._function_name = function_name
        self._function_version = "$LATEST"
        self._invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self._memory_limit_in_mb = memory_mb
        self._aws_request_id = str(uuid.uuid4())
        self._log_group_name = f"/aws/lambda/{function_name}"
        self._log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
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
        context = LambdaContext(self.function.logical_id, self.timeout_seconds)
        with self._lock:
            self.invocations += 1
            return self._handler(event, context)
