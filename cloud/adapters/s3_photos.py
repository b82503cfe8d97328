"""Photo files in S3: presigned POST uploads with type and size conditions, presigned views."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from cloud.service.ports import StoreError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


class S3PhotoFiles:
    """The PhotoFiles port on one bucket."""

    def __init__(self, bucket: str, client: S3Client | None = None) -> None:
        self.bucket = bucket
        self.client: S3Client = client or boto3.client("s3")

    def upload_form(
        self, key: str, content_type: str, max_bytes: int, expires_s: int
    ) -> tuple[str, dict[str, str]]:
        post = self.client.generate_presigned_post(
            self.bucket,
            key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_s,
        )
        return str(post["url"]), {k: str(v) for k, v in post["fields"].items()}

    def head(self, key: str) -> tuple[str, int] | None:
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(str(error)) from error
        return str(found.get("ContentType", "")), int(found["ContentLength"])

    def view_url(self, key: str, expires_s: int) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_s
        )

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            raise StoreError(str(error)) from error
