"""Lambda environment, validated once per execution environment."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field

from cloud.adapters.dynamodb_alerts import DynamoShopStore
from cloud.adapters.s3_photos import S3PhotoFiles


class Settings(BaseModel):
    """Environment variables the functions read (set by template.yaml)."""

    table_name: str = Field(min_length=3)
    photo_bucket: str = ""


@cache
def settings() -> Settings:
    """The settings of this process."""
    return Settings(
        table_name=os.environ.get("TABLE_NAME", ""),
        photo_bucket=os.environ.get("PHOTO_BUCKET", ""),
    )


@cache
def store() -> DynamoShopStore:
    """The table adapter, created once per execution environment."""
    return DynamoShopStore(settings().table_name)


@cache
def photo_files() -> S3PhotoFiles | None:
    """The photo bucket's adapter, when the stack has one."""
    bucket = settings().photo_bucket
    return S3PhotoFiles(bucket) if bucket else None
