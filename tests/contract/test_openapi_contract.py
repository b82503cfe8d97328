"""schemathesis against /api/openapi.json on the local stack: generated requests, valid and
invalid, to every operation; no 5xx, and every answer matches the schema it declares."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.local.stack import LocalStack
from presstrack.api_client import ApiClient

EXAMPLES = 10  # per operation and mode; the same cases every run (derandomized)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_operation_answers_within_its_schema(stack: LocalStack, api_key: str) -> None:
    api = ApiClient(stack.base_url, api_key)
    kept = api.call("GET", "/api/settings")  # generated settings are valid but strange
    schema = schemathesis.openapi.from_url(f"{stack.base_url}/api/openapi.json")
    schema.config.update(base_url=stack.base_url)
    cases = 0
    failures: list[str] = []
    try:
        for result in schema.get_all_operations():
            if not isinstance(result, Ok):
                failures.append(f"the document: {result.err()}")
                continue
            operation = result.ok()
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                    derandomize=True,  # CI runs the same cases; raise EXAMPLES to explore
                    phases=[Phase.explicit, Phase.generate],  # report, do not shrink
                )
                def run(case: Any) -> None:
                    nonlocal cases
                    cases += 1
                    case.call_and_validate(headers={"x-api-key": api_key}, checks=CHECKS)

                try:
                    run()
                except (AssertionError, Exception, BaseExceptionGroup) as error:
                    # each failure reported, every operation still tried
                    failures.append(f"{operation.label} ({mode.value}): {error}")
    finally:
        api.call("PUT", "/api/settings", kept)
    print(f"schemathesis: {cases} cases over the operations of /api/openapi.json")
    assert not failures, "\n\n".join(failures)
