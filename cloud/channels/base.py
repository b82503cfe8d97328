"""What every channel does: deliver one notice or raise ChannelError saying why."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, Protocol

from cloud.domain.alerts import Notice

TIMEOUT_S = 5.0


class ChannelError(Exception):
    """The provider refused or could not be reached; the notice is retried later."""


class Sender(Protocol):
    """One channel."""

    def send(self, notice: Notice) -> str:
        """Deliver; returns the provider's receipt (message id or "ok")."""


def http_json(
    url: str, body: dict[str, Any] | None = None, method: str | None = None
) -> dict[str, Any]:
    """One JSON request with a timeout; ChannelError for transport errors and HTTP errors."""
    if not url.startswith(("https://", "http://")):
        raise ChannelError("url: not http(s)")  # the URL itself may carry a key
    data = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310  (scheme checked above)
        url,
        data=data,
        method=method or ("POST" if data is not None else "GET"),
        headers={"content-type": "application/json; charset=utf-8"} if data else {},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310
            parsed: dict[str, Any] = json.loads(answer.read() or b"{}")
            return parsed
    except urllib.error.HTTPError as error:
        raise ChannelError(f"HTTP {error.code}") from error
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise ChannelError(f"unreachable: {error}") from error
