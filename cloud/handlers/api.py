"""API Lambda: the ERP's order routes and the customer's public tracking link."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from cloud.api_models import (
    Analytics,
    AssignMachine,
    CancelOrder,
    ChangeOrder,
    Code,
    CreateOrder,
    MachineProfile,
    MachineView,
    OrderCreated,
    OrderNo,
    OrderSummary,
    Problem,
    RouteTemplate,
    Slug,
    StageAction,
    StageDelay,
    StageDone,
    StageSpec,
    StageTimeView,
    StatsView,
)
from cloud.domain import analytics
from cloud.domain.links import digits
from cloud.domain.machines import Machine
from cloud.domain.orders import ROUTE_TEMPLATES, Order, Stage, route_for
from cloud.domain.tracking import TrackingView, tracking_view
from cloud.handlers.customer_routes import router as customer_router
from cloud.handlers.route_docs import UNAUTHORIZED
from cloud.handlers.staff_routes import router as staff_router
from cloud.service import keys, orders, tracking
from cloud.service.ports import ConflictError, NotFoundError, RateLimitedError
from cloud.settings import store

logger = Logger(service="presstrack-api")
app = APIGatewayHttpResolver(enable_validation=True)


def _problem(status: int, message: str) -> Response[str]:
    return Response(
        status, content_types.APPLICATION_JSON, Problem(message=message).model_dump_json()
    )


@app.exception_handler(RequestValidationError)
def _unprocessable(error: RequestValidationError) -> Response[str]:
    """Each bad field by its place, with what is wrong in words (the value itself is not
    echoed back)."""
    detail = [
        {
            "loc": list(e.get("loc", ())),
            "msg": str(e.get("msg") or e.get("type", "invalid")),
            "type": str(e.get("type", "value_error")),
        }
        for e in error.errors()
    ]
    return Response(
        422, content_types.APPLICATION_JSON, json.dumps({"statusCode": 422, "detail": detail})
    )


@app.exception_handler(UnicodeDecodeError)
def _not_text(_error: UnicodeDecodeError) -> Response[str]:
    """A body that is not UTF-8 (API Gateway hands it on base64-encoded) cannot be JSON."""
    detail = [{"loc": ["body"], "msg": "the body is not UTF-8 text", "type": "json_invalid"}]
    return Response(
        422, content_types.APPLICATION_JSON, json.dumps({"statusCode": 422, "detail": detail})
    )


@app.exception_handler(NotFoundError)
def _not_found(error: NotFoundError) -> Response[str]:
    return _problem(404, str(error))


@app.exception_handler(orders.InvalidRequestError)
def _invalid(error: orders.InvalidRequestError) -> Response[str]:
    return _problem(422, str(error))


@app.exception_handler(RateLimitedError)
def _limited(error: RateLimitedError) -> Response[str]:
    return Response(
        429,
        content_types.APPLICATION_JSON,
        Problem(message=str(error)).model_dump_json(),
        headers={"Retry-After": str(error.retry_after)},
    )


#: The customer's routes; every other route needs a key.
PUBLIC = {
    "GET": re.compile(
        r"^/(api/track/[^/]+|t/[^/]+(/photos/[^/]+)?|track|staff/outbox|api/openapi\.json)$"
    ),
    "POST": re.compile(r"^/api/(lookup|track/[^/]+/(messages|subscriptions))$"),
}


def unauthorized(event: dict[str, Any]) -> dict[str, Any] | None:
    """Deny by default: everything but the customer's routes needs a known key in `x-api-key`.

    Checked before routing and validation, so an unauthenticated caller learns nothing else.
    """
    http = event.get("requestContext", {}).get("http", {})
    public = PUBLIC.get(str(http.get("method", "")).upper())
    if public is not None and public.match(event.get("rawPath", "")):
        return None
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        keys.authenticate(store(), headers.get("x-api-key"))
    except keys.UnauthorizedError as error:
        return {
            "statusCode": 401,
            "headers": {"content-type": content_types.APPLICATION_JSON},
            "body": Problem(message=str(error)).model_dump_json(),
            "isBase64Encoded": False,
        }
    return None


@app.exception_handler(ConflictError)
def _conflict(error: ConflictError) -> Response[str]:
    return _problem(409, str(error))


@app.post(
    "/api/orders",
    security=[{"apiKey": []}],
    responses={**UNAUTHORIZED, 201: {"description": "created"}, 200: {"description": "exists"}},
)
def create_order(body: CreateOrder) -> tuple[OrderCreated, int]:
    """Create an order and its tracking link; sending the same order number again is a no-op."""
    order = Order(
        body.order_no,
        body.customer,
        body.product,
        body.quantity,
        body.due,
        datetime.now(UTC),
        phone=digits(body.phone) if body.phone else None,
    )
    route = (
        [s.plan() for s in body.route]
        if body.route
        else route_for(body.product_type, body.quantity)
    )
    token, created = orders.create_order(store(), order, route)
    answer = OrderCreated(
        order_no=body.order_no,
        token=token,
        tracking_page=f"/t/{token}",
        tracking_json=f"/api/track/{token}",
    )
    return answer, 201 if created else 200


@app.patch(
    "/api/orders/<order_no>",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def change_order(order_no: Annotated[OrderNo, Path()], body: ChangeOrder) -> OrderSummary:
    """Change an order's quantity or due date; machine stages follow the quantity."""
    orders.change_order(store(), order_no, body.quantity, body.due)
    return _summary(order_no)


@app.post(
    "/api/orders/<order_no>/cancel",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def cancel_order(order_no: Annotated[OrderNo, Path()], body: CancelOrder) -> OrderSummary:
    """Cancel an order (idempotent): its unfinished stages are skipped."""
    orders.cancel_order(store(), order_no, f"{body.reason} ({body.by})", datetime.now(UTC))
    return _summary(order_no)


def _summary(order_no: str) -> OrderSummary:
    found = store().get_order(order_no)
    if found is None:
        raise NotFoundError(f"no order {order_no}")
    return _order_summary(found[0], tracking_view(*found))


def _order_summary(o: Order, view: TrackingView) -> OrderSummary:
    return OrderSummary(
        order_no=o.order_no,
        customer=o.customer,
        product=o.product,
        quantity=o.quantity,
        due=o.due,
        status=view.status,
        printed=view.printed,
        planned=view.planned,
    )


@app.put(
    "/api/orders/<order_no>/stages/<stage>/machine",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def assign_machine(
    order_no: Annotated[OrderNo, Path()], stage: Annotated[Code, Path()], body: AssignMachine
) -> dict[str, str]:
    """Put the order's stage on a machine: the sheets it counts from now on go to this stage."""
    orders.assign_stage(store(), order_no, stage, f"{body.site}/{body.machine}")
    return {"order_no": order_no, "stage": stage, "machine": f"{body.site}/{body.machine}"}


def _stage_done(order_no: str, stage: str, done: Stage) -> StageDone:
    return StageDone(
        order_no=order_no,
        stage=stage,
        state=done.state.value,
        started=done.started.isoformat() if done.started else None,
        ended=done.ended.isoformat() if done.ended else None,
        by=done.by,
    )


def _stage_action(
    order_no: str, stage: str, action: Literal["start", "complete"], body: StageAction
) -> StageDone:
    at = body.at or datetime.now(UTC)
    done = orders.act_on_stage(store(), order_no, stage, action, body.by, at, body.note)
    if action == "complete" and done.ended == at:  # this request finished it
        tracking.learn_from(store(), done)
    return _stage_done(order_no, stage, done)


@app.post(
    "/api/orders/<order_no>/stages/<stage>/start",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def start_stage(
    order_no: Annotated[OrderNo, Path()], stage: Annotated[Code, Path()], body: StageAction
) -> StageDone:
    """An operator starts a stage (one tap); records who and when."""
    return _stage_action(order_no, stage, "start", body)


@app.post(
    "/api/orders/<order_no>/stages/<stage>/complete",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def complete_stage(
    order_no: Annotated[OrderNo, Path()], stage: Annotated[Code, Path()], body: StageAction
) -> StageDone:
    """An operator finishes a stage (one tap); records who and when."""
    return _stage_action(order_no, stage, "complete", body)


@app.post(
    "/api/orders/<order_no>/stages/<stage>/delay",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def delay_stage(
    order_no: Annotated[OrderNo, Path()], stage: Annotated[Code, Path()], body: StageDelay
) -> StageDone:
    """Report a delay: the stage turns red with its reason and expected recovery."""
    done = orders.delay_stage(
        store(),
        order_no,
        stage,
        body.by,
        body.reason,
        body.expected_recovery,
        datetime.now(UTC),
        body.action,
    )
    return _stage_done(order_no, stage, done)


@app.post(
    "/api/orders/<order_no>/stages/<stage>/resolve",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def resolve_stage(
    order_no: Annotated[OrderNo, Path()], stage: Annotated[Code, Path()], body: StageAction
) -> StageDone:
    """The delay is over."""
    done = orders.resolve_delay(store(), order_no, stage, body.by, datetime.now(UTC))
    return _stage_done(order_no, stage, done)


@app.get("/api/orders", security=[{"apiKey": []}], responses=UNAUTHORIZED)
def list_orders(
    customer: Annotated[str | None, Query(max_length=200)] = None,
    due_before: Annotated[date | None, Query()] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
) -> list[OrderSummary]:
    """Orders by due date; filter by customer (part of the name), due date, current stage."""
    return [
        _order_summary(o, v) for o, v in orders.find_orders(store(), customer, due_before, status)
    ]


@app.delete(
    "/api/orders/<order_no>/stages/<stage>/machine",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def unassign_machine(
    order_no: Annotated[OrderNo, Path()], stage: Annotated[Code, Path()]
) -> dict[str, str]:
    """Take the stage off its machine; what the machine counts next waits unattributed."""
    orders.unassign_stage(store(), order_no, stage)
    return {"order_no": order_no, "stage": stage}


@app.get(
    "/api/orders/<order_no>/history",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def order_history(order_no: Annotated[OrderNo, Path()]) -> list[StageTimeView]:
    """An order's whole timeline with the duration of each stage and who did it."""
    found = store().get_order(order_no)
    if found is None:
        raise NotFoundError(f"no order {order_no}")
    return [StageTimeView.model_validate(asdict(t)) for t in analytics.history(found[1])]


@app.get(
    "/api/analytics",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def shop_analytics() -> Analytics:
    """Per stage type and machine: actual against standard hours; the on-time delivery rate."""
    everything = orders.all_orders(store())
    on_time, delivered = analytics.on_time_rate(everything)
    return Analytics(
        stages=[StatsView.model_validate(asdict(s)) for s in analytics.stage_stats(everything)],
        machines=[
            StatsView.model_validate(asdict(s))
            for s in analytics.stage_stats(everything, by_machine=True)
        ],
        delivered=delivered,
        on_time=on_time,
        on_time_rate=round(on_time / delivered, 4) if delivered else None,
    )


@app.get(
    "/api/export/orders.csv",
    security=[{"apiKey": []}],
    responses={
        **UNAUTHORIZED,
        200: {
            "description": "one line per order, with a header line",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
def export_orders() -> Response[str]:
    """Every order as CSV for the ERP."""
    return Response(
        200, "text/csv; charset=utf-8", analytics.orders_csv(orders.all_orders(store()))
    )


@app.get(
    "/api/machines",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def list_machines() -> list[MachineView]:
    """Every machine that has reported, with its job and unattributed sheets."""
    return [_machine_view(m) for m in store().list_machines()]


@app.put(
    "/api/machines/<site>/<machine>",
    security=[{"apiKey": []}],
    responses=UNAUTHORIZED,
)
def register_machine(
    site: Annotated[Slug, Path()], machine: Annotated[Slug, Path()], body: MachineProfile
) -> MachineView:
    """Add a machine to the registry or change its entry (rated speed, impressions/sheet)."""
    return _machine_view(
        orders.register_machine(
            store(),
            f"{site}/{machine}",
            body.name,
            body.kind,
            body.rated_per_hour,
            body.impressions_per_sheet,
            tuple(sorted(body.fault_words.items())),
        )
    )


def _machine_view(m: Machine) -> MachineView:
    return MachineView(
        machine=m.key,
        name=m.name,
        kind=m.kind,
        rated_per_hour=m.rated_per_hour,
        impressions_per_sheet=m.impressions_per_sheet,
        available=m.available,
        state=m.state,
        lifetime=m.lifetime,
        job=f"{m.job.order_no}/{m.job.stage}" if m.job else None,
        unattributed=m.unattributed,
        seen=m.seen,
        fault_since=m.fault_since,
    )


@app.get("/api/routes", security=[{"apiKey": []}], responses=UNAUTHORIZED)
def list_routes() -> list[RouteTemplate]:
    """The route templates per product type, with standard hours and key nodes."""
    return [
        RouteTemplate(
            product_type=key,
            name=name,
            stages=[
                StageSpec(
                    code=p.code,
                    name=p.name,
                    kind=p.kind,
                    planned=None,
                    standard_hours=p.standard_hours,
                    key_node=p.key_node,
                )
                for p in plans
            ],
        )
        for key, (name, plans) in ROUTE_TEMPLATES.items()
    ]


app.include_router(customer_router)
app.include_router(staff_router)


@app.get("/api/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    """This API's OpenAPI 3.1 document."""
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


def openapi_json() -> str:
    """The OpenAPI document, also committed as docs/openapi.json."""
    return app.get_openapi_json_schema(
        title="presstrack",
        version="1",
        security_schemes={"apiKey": APIKey.model_validate({"in": "header", "name": "x-api-key"})},
    )


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Entry point."""
    return unauthorized(event) or app.resolve(event, context)
