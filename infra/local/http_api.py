"""What API Gateway's HTTP API does: routes from the template, payload format 2.0 events."""

from __future__ import annotations

import base64
import logging
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.lambdas import LocalFunction
from infra.local.template import ACCOUNT, HttpRoute

log = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit


def api_event(
    method: str,
    raw_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    route: HttpRoute,
    params: dict[str, str],
    source_ip: str,
) -> dict[str, Any]:
    """An API Gateway v2 (payload format 2.0) event."""
    text_types = ("application/json", "text/", "application/x-www-form-urlencoded")
    ctype = headers.get("content-type", "")
    is_text = not body or any(ctype.startswith(t) for t in text_types)
    if is_text:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:  # API Gateway passes such a body on base64-encoded
            is_text = False
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method.upper()} {route.path}",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": headers.get("host", ""),
            "domainPrefix": "local",
            "requestId": f"{time.time_ns()}",
            "routeKey": f"{route.method.upper()} {route.path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
        },
        "isBase64Encoded": not is_text,
    }
    if params:
        event["pathParameters"] = params
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        event["queryStringParameters"] = dict(pairs)
    if body:
        event["body"] = text if is_text else base64.b64encode(body).decode()
    return event


class HttpApi:
    """A threaded HTTP server on 127.0.0.1 that turns requests into API Gateway events."""

    def __init__(self, routes: list[tuple[HttpRoute, LocalFunction]], port: int) -> None:
        self.routes = routes
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("%s %s", self.address_string(), format % args)

            def _serve(self) -> None:
                api.serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="http-api", daemon=True
        )

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def serve(self, request: BaseHTTPRequestHandler) -> None:
        """Route one request to its function and write the function's answer."""
        parts = urlsplit(request.path)
        try:
            length = int(request.headers.get("content-length") or 0)
        except ValueError:
            length = -1
        if length < 0:  # API Gateway refuses such a request before any function sees it
            request.close_connection = True
            self._write(
                request, 400, {"content-type": "application/json"}, b'{"message":"Bad Request"}'
            )
            return
        if length > MAX_BODY:
            self._write(
                request,
                413,
                {"content-type": "application/json"},
                b'{"message":"Request Entity Too Large"}',
            )
            return
        body = request.rfile.read(length) if length else b""
        for route, function in self.routes:
            params = route.match(request.command, parts.path)
            if params is None:
                continue
            headers = {k.lower(): v for k, v in request.headers.items()}
            event = api_event(
                request.command,
                parts.path,
                parts.query,
                headers,
                body,
                route,
                params,
                request.client_address[0],
            )
            try:
                answer = function.invoke(event)
            except Exception:
                log.exception("%s raised", function.function.logical_id)
                self._write(
                    request,
                    500,
                    {"content-type": "application/json"},
                    b'{"message":"Internal Server Error"}',
                )
                return
            self._answer(request, answer)
            return
        self._write(request, 404, {"content-type": "application/json"}, b'{"message":"Not Found"}')

    def _answer(self, request: BaseHTTPRequestHandler, answer: dict[str, Any]) -> None:
        body = answer.get("body") or ""
        data = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode("utf-8")
        headers = {k.lower(): str(v) for k, v in (answer.get("headers") or {}).items()}
        for key, values in (answer.get("multiValueHeaders") or {}).items():
            headers[key.lower()] = ", ".join(str(v) for v in values)
        self._write(
            request, int(answer.get("statusCode", 200)), headers, data, answer.get("cookies") or []
        )

    @staticmethod
    def _write(
        request: BaseHTTPRequestHandler,
        status: int,
        headers: dict[str, str],
        data: bytes,
        cookies: list[str] | None = None,
    ) -> None:
        request.send_response(status)
        for key, value in headers.items():
            if key != "content-length":
                request.send_header(key, value)
        for cookie in cookies or []:
            request.send_header("set-cookie", cookie)
        request.send_header("content-length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
