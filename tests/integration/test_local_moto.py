"""The local stack's moto rolls a cancelled transaction back item by item: what it wrote is
gone, what it changed is as before, and the table's stream shows nothing of it."""

from __future__ import annotations

import secrets
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local.stack import LocalStack


def stream_length(stack: LocalStack) -> int:
    streams = boto3.client("dynamodbstreams")
    table = boto3.client("dynamodb").describe_table(TableName=stack.template.physical_name("Table"))
    arn = table["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    total = 0
    while True:
        got = streams.get_records(ShardIterator=iterator, Limit=1000)
        total += len(got["Records"])
        if not got["Records"]:
            return total
        iterator = got["NextShardIterator"]


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(stack: LocalStack) -> None:
    dynamodb = boto3.client("dynamodb")
    table = stack.template.physical_name("Table")
    pk = f"MOTO#{secrets.token_hex(4)}"

    def key(sk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": sk}}

    dynamodb.put_item(TableName=table, Item={**key("b"), "n": {"N": "1"}})
    before = stream_length(stack)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key("a"), "n": {"N": "9"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key("c"),
                        "UpdateExpression": "SET n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "9"}},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": key("b"),
                        "UpdateExpression": "SET n = :n",
                        "ConditionExpression": "n = :two",
                        "ExpressionAttributeValues": {":n": {"N": "9"}, ":two": {"N": "2"}},
                    }
                },
            ]
        )
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("a"))
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key("c"))
    assert dynamodb.get_item(TableName=table, Key=key("b"))["Item"]["n"] == {"N": "1"}
    assert stream_length(stack) == before

    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**key("a"), "n": {"N": "9"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key("b"),
                    "UpdateExpression": "SET n = :n",
                    "ConditionExpression": "n = :one",
                    "ExpressionAttributeValues": {":n": {"N": "9"}, ":one": {"N": "1"}},
                }
            },
        ]
    )
    assert dynamodb.get_item(TableName=table, Key=key("a"))["Item"]["n"] == {"N": "9"}
    assert dynamodb.get_item(TableName=table, Key=key("b"))["Item"]["n"] == {"N": "9"}
    assert stream_length(stack) == before + 2
