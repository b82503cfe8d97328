"""Least privilege in template.yaml: each function gets policies scoped to this stack's own
resources, no wildcard actions, and a wildcard resource only where AWS has nothing to name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.local.template import Template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

# SAM policy templates a function may use, and the property that must name a stack resource
SCOPED = {
    "DynamoDBCrudPolicy": "TableName",
    "SQSSendMessagePolicy": "QueueName",
    "S3CrudPolicy": "BucketName",
    "AWSSecretsManagerGetSecretValuePolicy": "SecretArn",
}
# the one place a resource cannot be named: SMS straight to a phone number
UNSCOPED_ALLOWED = {("NotifierFunction", "sns:Publish")}
# what each function may reach, by the resource it names
EXPECTED = {
    "IngestFunction": {"Table", "FaultCheckQueue"},
    "ApiFunction": {"Table", "PhotoBucket"},
    "DetectorFunction": {"Table"},
    "NotifierFunction": {"Table", "ChannelSecret"},
}


def _names(value: Any) -> str:
    """The logical id a !Ref / !GetAtt names."""
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise AssertionError(f"not a reference to a stack resource: {value!r}")


def test_every_function_reaches_only_its_own_resources() -> None:
    template = Template.load(TEMPLATE)
    functions = template.of_type("AWS::Serverless::Function")
    assert set(functions) == set(EXPECTED)
    for lid in functions:
        reached = set()
        for policy in template.resources[lid]["Properties"].get("Policies", []):
            assert isinstance(policy, dict), f"{lid}: a managed policy by name: {policy!r}"
            ((kind, body),) = policy.items()
            if kind == "Statement":
                for statement in body:
                    actions = statement["Action"]
                    actions = [actions] if isinstance(actions, str) else actions
                    for action in actions:
                        assert "*" not in action, f"{lid}: wildcard action {action}"
                    if statement["Resource"] == "*":
                        assert {(lid, a) for a in actions} <= UNSCOPED_ALLOWED, (lid, actions)
                    else:
                        reached.add(_names(statement["Resource"]))
                continue
            assert kind in SCOPED, f"{lid}: policy template {kind} is not on the list"
            reached.add(_names(body[SCOPED[kind]]))
        assert reached == EXPECTED[lid], (lid, reached)


def test_the_iot_rule_role_may_only_send_to_the_queue_and_write_errors() -> None:
    template = Template.load(TEMPLATE)
    role = template.resources["SnapshotRuleRole"]["Properties"]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert {s["Action"] for s in statements} == {"sqs:SendMessage", "s3:PutObject"}
    assert all(s["Resource"] != "*" for s in statements)
