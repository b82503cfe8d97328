"""What the routes declare for the OpenAPI document: the key they need and their refusals."""

from __future__ import annotations

from typing import Any

KEY: list[dict[str, list[str]]] = [{"apiKey": []}]
UNAUTHORIZED: dict[int, Any] = {401: {"description": "missing or unknown API key"}}
LIMITED: dict[int, Any] = {429: {"description": "too many attempts; see Retry-After"}}
