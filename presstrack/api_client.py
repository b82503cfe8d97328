"""A small JSON client for the presstrack HTTP API (used by the demo, tests and benches)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from functools import partial
from typing import Any


class ApiError(Exception):
    """The API answered with an error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


class _FromAddress(urllib.request.HTTPHandler):
    """Connects from a chosen local address (another loopback address is another client)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(
            partial(http.client.HTTPConnection, source_address=(self.source, 0)), req
        )


class ApiClient:
    """Calls one presstrack API base URL."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 10,
        source: str | None = None,
    ) -> None:
        self.base_url, self.api_key, self.timeout = base_url.rstrip("/"), api_key, timeout
        handlers = [_FromAddress(source)] if source else []
        self._opener = urllib.request.build_opener(*handlers)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """Send a request; returns (status, parsed JSON or text)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if data is not None else {}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must be http(s): {self.base_url}")
        req = urllib.request.Request(  # noqa: S310  (scheme checked above)
            self.base_url + path, data=data, headers=headers, method=method
        )
        try:
            with self._opener.open(req, timeout=self.timeout) as answer:
                return answer.status, _decode(answer.read(), answer.headers.get_content_type())
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read(), error.headers.get_content_type())

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """Send a request and raise ApiError unless it succeeded."""
        status, answer = self.request(method, path, body)
        if status >= 400:
            raise ApiError(status, json.dumps(answer) if not isinstance(answer, str) else answer)
        return answer


def _decode(raw: bytes, content_type: str) -> Any:
    text = raw.decode("utf-8")
    return json.loads(text) if content_type == "application/json" and text else text
