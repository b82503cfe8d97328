"""Routes of the customer's side: the public page, JSON, lookup, messages and opt-ins, and the
staff routes that manage links, replies, photos and the shop's calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from cloud.api_models import (
    Code,
    LinkView,
    Lookup,
    LookupFound,
    MessageOut,
    NewLink,
    NewPhoto,
    OrderNo,
    PhotoOut,
    PhotoUpload,
    PostMessage,
    Reply,
    Settings,
    Subscribe,
    Subscribed,
)
from cloud.domain.estimate import settings_from_dict, settings_to_dict
from cloud.domain.links import TrackingLink
from cloud.domain.messages import Channel, Message
from cloud.domain.photos import Photo
from cloud.domain.tracking import TrackingView
from cloud.handlers.page import render_lookup, render_main, render_page
from cloud.handlers.route_docs import CREATED, KEY, LIMITED, UNAUTHORIZED
from cloud.service import photos, tracking
from cloud.service.orders import InvalidRequestError
from cloud.service.ports import NotFoundError, PhotoFiles
from cloud.settings import photo_files, store

router = Router()  # type: ignore[no-untyped-call]

Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
PhotoId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]
LangParam = Annotated[Literal["zh", "en"], Query()]
NO_STORE = "no-store"


def _now() -> datetime:
    return datetime.now(UTC)


def _client() -> str:
    event: Any = router.current_event
    return str(event.request_context.http.source_ip or "unknown")


def _html(body: str, status: int = 200) -> Response[str]:
    return Response(
        status,
        "text/html; charset=utf-8",
        body,
        headers={"Cache-Control": NO_STORE, "X-Frame-Options": "DENY"},
        compress=True,
    )


def _files() -> PhotoFiles:
    files = photo_files()
    if files is None:
        raise NotFoundError("photos: this stack has no photo bucket")
    return files


@router.get("/api/track/<token>", compress=True, cache_control=NO_STORE, responses=LIMITED)
def track(token: Token) -> TrackingView:
    """The public tracking JSON: progress, stage states, the delivery estimate, the thread."""
    return tracking.track(store(), photo_files(), token, _now(), _client())


@router.get("/t/<token>", include_in_schema=False)
def page(token: Token, lang: LangParam = "zh", part: Annotated[str, Query()] = "") -> Response[str]:
    """The customer's tracking page (or, with `part=main`, the part that refreshes)."""
    view = tracking.track(store(), photo_files(), token, _now(), _client())
    if part == "main":
        return _html(render_main(view, token, lang))
    return _html(render_page(view, token, lang))


@router.get("/t/<token>/photos/<photo_id>", include_in_schema=False)
def photo(token: Token, photo_id: PhotoId) -> Response[str]:
    """A photo on the page: a redirect to a signed link that expires in minutes."""
    link = tracking.live_link(store(), token, _now(), _client())
    url = photos.photo_link(store(), _files(), link.order_no, photo_id)
    return Response(302, content_types.TEXT_PLAIN, "", headers={"Location": url})


@router.get("/track", include_in_schema=False)
def lookup_page(lang: LangParam = "zh") -> Response[str]:
    """The lookup form: order number plus phone."""
    return _html(render_lookup(lang))


@router.post("/api/lookup", responses=LIMITED)
def lookup(body: Lookup) -> LookupFound:
    """Order number plus phone number (or its last four digits) gives the tracking link.
    A wrong number and a wrong phone get the same answer; attempts are rate-limited."""
    token = tracking.lookup(store(), body.order_no, body.phone, _client(), _now())
    return LookupFound(tracking_page=f"/t/{token}", tracking_json=f"/api/track/{token}")


@router.post("/api/track/<token>/messages", responses={**LIMITED, **CREATED})
def post_message(token: Token, body: PostMessage) -> tuple[MessageOut, int]:
    """The customer writes to the shop from the page (在线留言)."""
    message = tracking.post_message(store(), token, body.text, _client(), _now())
    return _message(message, public=True), 201


@router.post("/api/track/<token>/subscriptions", responses={**LIMITED, **CREATED})
def subscribe(token: Token, body: Subscribe) -> tuple[Subscribed, int]:
    """Push opt-in: an SMS number or a WeChat openid; the answer masks it."""
    try:
        address = body.address()
    except ValueError as error:
        raise InvalidRequestError(str(error)) from error
    done = tracking.subscribe(store(), token, Channel(body.channel), address, _now())
    return Subscribed(channel=done.channel.value, address=done.address), 201


def _message(m: Message, public: bool = False) -> MessageOut:
    return MessageOut(
        id=m.id, sender=m.sender.value, text=m.text, at=m.at, by=None if public else m.by
    )


def _link(link: TrackingLink) -> LinkView:
    return LinkView(
        token=link.token,
        tracking_page=f"/t/{link.token}",
        label=link.label,
        created=link.created,
        expires=link.expires,
        revoked=link.revoked,
        live=link.live(_now()),
    )


@router.get("/api/orders/<order_no>/links", security=KEY, responses=UNAUTHORIZED)
def list_links(order_no: Annotated[OrderNo, Path()]) -> list[LinkView]:
    """Every tracking link of an order, live or not."""
    if store().get_order(order_no) is None:
        raise NotFoundError(f"no order {order_no}")
    return [_link(link) for link in store().list_links(order_no)]


@router.post("/api/orders/<order_no>/links", security=KEY, responses={**UNAUTHORIZED, **CREATED})
def new_link(order_no: Annotated[OrderNo, Path()], body: NewLink) -> tuple[LinkView, int]:
    """Another link to the same order (for a WeChat group, a colleague of the customer...)."""
    link = tracking.new_link(store(), order_no, body.label, body.valid_days, _now())
    return _link(link), 201


@router.delete("/api/orders/<order_no>/links/<token>", security=KEY, responses=UNAUTHORIZED)
def revoke_link(order_no: Annotated[OrderNo, Path()], token: Token) -> LinkView:
    """Withdraw a link: it stops working at once."""
    return _link(tracking.revoke_link(store(), order_no, token, _now()))


@router.get("/api/orders/<order_no>/messages", security=KEY, responses=UNAUTHORIZED)
def list_messages(order_no: Annotated[OrderNo, Path()]) -> list[MessageOut]:
    """An order's message thread, oldest first."""
    return [_message(m) for m in tracking.thread(store(), order_no)]


@router.post("/api/orders/<order_no>/messages", security=KEY, responses={**UNAUTHORIZED, **CREATED})
def reply(order_no: Annotated[OrderNo, Path()], body: Reply) -> tuple[MessageOut, int]:
    """A staff reply; the customer sees it on the page as from the shop."""
    return _message(tracking.reply(store(), order_no, body.text, body.by, _now())), 201


@router.get("/api/orders/<order_no>/estimates", security=KEY, responses=UNAUTHORIZED)
def list_estimates(order_no: Annotated[OrderNo, Path()]) -> list[dict[str, Any]]:
    """Every delivery estimate the customer was shown, to measure accuracy against the
    actual delivery."""
    return [dict(e) for e in store().list_estimates(order_no)]


def _photo(p: Photo) -> PhotoOut:
    return PhotoOut(
        photo_id=p.id,
        stage=p.stage,
        state=p.state.value,
        caption=p.caption,
        content_type=p.content_type,
        size=p.size,
        reason=p.reason,
        created=p.created,
        by=p.by,
    )


@router.post(
    "/api/orders/<order_no>/stages/<stage>/photos",
    security=KEY,
    responses={**UNAUTHORIZED, **CREATED},
)
def new_photo(
    order_no: Annotated[OrderNo, Path()], stage: Annotated[Code, Path()], body: NewPhoto
) -> tuple[PhotoUpload, int]:
    """Attach a photo to a stage: upload it with the signed form, then confirm it."""
    found, url, fields = photos.new_photo(
        store(),
        _files(),
        order_no,
        stage,
        body.content_type,
        body.size,
        body.by,
        body.caption,
        _now(),
    )
    return PhotoUpload(photo_id=found.id, url=url, fields=fields, expires_in=photos.UPLOAD_S), 201


@router.post(
    "/api/orders/<order_no>/photos/<photo_id>/confirm", security=KEY, responses=UNAUTHORIZED
)
def confirm_photo(order_no: Annotated[OrderNo, Path()], photo_id: PhotoId) -> PhotoOut:
    """Check the uploaded file (type, size); a good one appears on the customer's page."""
    return _photo(photos.confirm_photo(store(), _files(), order_no, photo_id))


@router.get("/api/orders/<order_no>/photos", security=KEY, responses=UNAUTHORIZED)
def list_photos(order_no: Annotated[OrderNo, Path()]) -> list[PhotoOut]:
    """An order's photos with their state."""
    return [_photo(p) for p in photos.list_photos(store(), order_no)]


@router.get("/api/settings", security=KEY, responses=UNAUTHORIZED)
def get_settings() -> Settings:
    """The shop's shift calendar, logistics time and default speeds."""
    return Settings.model_validate(settings_to_dict(store().get_settings()))


@router.put("/api/settings", security=KEY, responses=UNAUTHORIZED)
def put_settings(body: Settings) -> Settings:
    """Replace the shop's calendar and estimate figures; estimates follow at once."""
    try:
        shop = settings_from_dict(body.model_dump(mode="json"))
    except ValueError as error:
        raise InvalidRequestError(f"shifts: {error}") from error
    store().put_settings(shop)
    return Settings.model_validate(settings_to_dict(shop))
