"""Lambda environment, validated once per execution environment."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field

from cloud.adapters.dynamodb import DynamoStore


class Settings(BaseModel):
    """Environment variables the functions read (set by template.yaml)."""

    table_name: str = Field(min_length=3)


@cache
def settings() -> Settings:
    """The settings of this process."""
    return Settings(table_name=os.environ.get("TABLE_NAME", ""))


@cache
def store() -> DynamoStore:
    """The table adapter, created once per execution environment."""
    return DynamoStore(settings().table_name)
