"""Staff routes of incidents and notices, and the outbox page that shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from cloud.api_models import AttemptView, IncidentView, NoticeView
from cloud.handlers.outbox_page import OUTBOX_PAGE
from cloud.handlers.route_docs import KEY, UNAUTHORIZED
from cloud.settings import store

router = Router()  # type: ignore[no-untyped-call]


@router.get("/api/incidents", security=KEY, responses=UNAUTHORIZED)
def list_incidents(
    days: Annotated[int, Query(ge=1, le=90)] = 7,
) -> list[IncidentView]:
    """Open incidents and those of the last `days` days, newest first."""
    since = datetime.now(UTC) - timedelta(days=days)
    return [
        IncidentView(
            kind=i.kind.value,
            subject=i.subject,
            reason=i.reason,
            machine=i.machine,
            order_no=i.order_no,
            stage=i.stage,
            started=i.started,
            expected_recovery=i.expected_recovery,
            ended=i.ended,
            resolution=i.resolution,
            flaps=i.flaps,
            customer_told=i.customer_told,
        )
        for i in store().list_incidents(since)
    ]


@router.get("/api/notices", security=KEY, responses=UNAUTHORIZED)
def list_notices(
    hours: Annotated[int, Query(ge=1, le=720)] = 24,
) -> list[NoticeView]:
    """Every notice of the last `hours` hours with each attempt to deliver it."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    return [
        NoticeView(
            key=n.key,
            audience=n.audience.value,
            address=n.address,
            channel=n.channel,
            title=n.title,
            text=n.text,
            created=n.created,
            state=n.state.value,
            not_before=n.not_before,
            order_no=n.order_no,
            attempts=[
                AttemptView(at=a.at, channel=a.channel, ok=a.ok, detail=a.detail)
                for a in n.attempts
            ],
        )
        for n in store().list_notices(since)
    ]


@router.get("/staff/outbox", include_in_schema=False)
def outbox_page() -> Response[str]:
    """The staff page of notices: an empty shell that asks for a key and reads /api/notices."""
    return Response(
        200, "text/html; charset=utf-8", OUTBOX_PAGE, headers={"Cache-Control": "no-store"}
    )
