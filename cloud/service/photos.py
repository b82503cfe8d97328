"""Use cases of stage photos: staff upload by a signed form, the upload is checked, customers
see ready photos through links that expire."""

from __future__ import annotations

from datetime import datetime

from cloud.domain.photos import MAX_BYTES, Photo, PhotoState
from cloud.service.ports import CustomerStore, NotFoundError, PhotoFiles

UPLOAD_S = 900  # the signed upload form works for a quarter of an hour
VIEW_S = 600  # a photo opened from the page works for ten minutes


def new_photo(
    store: CustomerStore,
    files: PhotoFiles,
    order_no: str,
    stage: str,
    content_type: str,
    size: int,
    by: str,
    caption: str | None,
    now: datetime,
) -> tuple[Photo, str, dict[str, str]]:
    """Plan a photo on a stage; returns it with the signed upload's URL and form fields."""
    if store.get_stage(order_no, stage) is None:
        raise NotFoundError(f"order {order_no} has no stage {stage!r}")
    photo = Photo.plan(order_no, stage, content_type, size, now, by, caption)
    store.put_photo(photo)
    url, fields = files.upload_form(photo.key, content_type, min(size, MAX_BYTES), UPLOAD_S)
    return photo, url, fields


def confirm_photo(store: CustomerStore, files: PhotoFiles, order_no: str, photo_id: str) -> Photo:
    """Check the stored file against what was announced; a bad one is removed, a good one
    shows on the customer's page."""
    photo = store.get_photo(order_no, photo_id)
    if photo is None:
        raise NotFoundError(f"order {order_no} has no photo {photo_id}")
    if photo.state is not PhotoState.PENDING:
        return photo
    stored = files.head(photo.key)
    checked = photo.arrived(*(stored or (None, None)))
    if checked.state is PhotoState.REJECTED:
        files.delete(photo.key)
    if checked != photo:
        store.put_photo(checked)
    return checked


def photo_link(store: CustomerStore, files: PhotoFiles, order_no: str, photo_id: str) -> str:
    """A short-lived link to a ready photo."""
    photo = store.get_photo(order_no, photo_id)
    if photo is None or photo.state is not PhotoState.READY:
        raise NotFoundError("no such photo")
    return files.view_url(photo.key, VIEW_S)


def list_photos(store: CustomerStore, order_no: str) -> list[Photo]:
    """An order's photos, oldest first, as staff see them."""
    tracked = store.get_tracked(order_no)
    if tracked is None:
        raise NotFoundError(f"no order {order_no}")
    return sorted(tracked.photos, key=lambda p: p.created)
