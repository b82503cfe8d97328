"""What the routes declare for the OpenAPI document: the key they need, their success and the
refusals they may answer with (each refusal's body is a Problem)."""

from __future__ import annotations

from typing import Any

from cloud.api_models import Problem

KEY: list[dict[str, list[str]]] = [{"apiKey": []}]

_PROBLEM = {"application/json": {"schema": Problem.model_json_schema()}}


def _refusal(description: str) -> dict[str, Any]:
    return {"description": description, "content": _PROBLEM}


#: success: powertools fills in the schema of the handler's return type
OK: dict[int, Any] = {200: {"description": "done"}}
CREATED: dict[int, Any] = {201: {"description": "created"}}
#: refusals any route with a path parameter or a state may give
REFUSALS: dict[int, Any] = {
    400: _refusal("a malformed request (its headers or body cannot be read)"),
    404: _refusal("no such order, stage, machine, link or photo"),
    409: _refusal("not possible in the order's present state"),
}
UNAUTHORIZED: dict[int, Any] = {
    **OK,
    401: _refusal("missing or unknown API key"),
    **REFUSALS,
}
LIMITED: dict[int, Any] = {
    **OK,
    429: _refusal("too many attempts; see Retry-After"),
    **REFUSALS,
}
