#!/usr/bin/env python3
"""Self-test of check_permissions.py: on the grant `UserServicesFunction` had (GetItem on the
table) and the call it really makes (a Query on GSI2), the check fails and names the call;
with the grant fixed it passes; wildcards, transaction items, SAM policy templates and grants
never exercised are handled as IAM and the report need them."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_permissions as cp  # noqa: E402

TABLE = "arn:aws:dynamodb:us-east-1:000000000000:table/gigbao-test-table"
RESOURCES = {
    "refs": {"Table": "gigbao-test-table", "AWS::Region": "us-east-1",
             "AWS::AccountId": "000000000000", "AWS::Partition": "aws",
             "NotificationsQueue": "http://127.0.0.1:4566/000000000000/gigbao-test-Notifications",
             "WebSocketApi": "local", "WebSocketStage": "ws"},
    "atts": {"Table.Arn": TABLE,
             "NotificationsQueue.QueueName": "gigbao-test-Notifications",
             "NotificationsQueue.Arn": "arn:aws:sqs:us-east-1:000000000000:gigbao-test-Notifications"},
}


def function(binary: str, policies: list) -> dict:
    return {"Type": "AWS::Serverless::Function",
            "Metadata": {"BuildProperties": {"Binary": binary}},
            "Properties": {"Policies": policies}}


def statement(actions: list[str], resource) -> dict:
    return {"Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]}


def log_of(calls: list[tuple[str, str, str]]) -> Path:
    f = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
    for function_name, action, resource in calls:
        f.write(json.dumps({"message": "aws call", "function": function_name,
                            "aws_action": action, "aws_resource": resource}) + "\n")
        f.write('{"message": "handled", "status": 200}\n')
    f.close()
    return Path(f.name)


def main() -> int:
    query_gsi2 = ("user-services", "dynamodb:Query", f"{TABLE}/index/GSI2")

    # The grant UserServicesFunction had: GetItem on the table. Its Query on GSI2 is denied.
    before = {"Resources": {"UserServicesFunction": function(
        "user-services", [statement(["dynamodb:GetItem"], {"Fn::GetAtt": ["Table", "Arn"]})])}}
    denied, unused, _ = cp.check(before, RESOURCES, log_of([query_gsi2]))
    assert denied == ["user-services: dynamodb:Query on ${Table.Arn}/index/GSI2"], denied
    assert unused == ["user-services: dynamodb:GetItem on ${Table.Arn}"], unused

    # Fixed: Query on the table's indexes.
    after = {"Resources": {"UserServicesFunction": function(
        "user-services", [statement(["dynamodb:Query"],
                                    {"Fn::Sub": "${Table.Arn}/index/*"})])}}
    denied, unused, _ = cp.check(after, RESOURCES, log_of([query_gsi2]))
    assert denied == [] and unused == [], (denied, unused)

    # A query of the table is not a query of its indexes (and the other way round).
    denied, _, _ = cp.check(after, RESOURCES, log_of([("user-services", "dynamodb:Query", TABLE)]))
    assert len(denied) == 1, denied

    # Wildcard actions, a SAM policy template, a call by a function the template lacks.
    tpl = {"Resources": {
        "SearchIndexerFunction": function("search-indexer", [statement(["es:ESHttp*"], "*")]),
        "StreamRouterFunction": function("stream-router", [
            {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": ["NotificationsQueue",
                                                                   "QueueName"]}}}]),
    }}
    denied, _, result = cp.check(tpl, RESOURCES, log_of([
        ("search-indexer", "es:ESHttpPost", "arn:aws:es:us-east-1:000000000000:domain/d/_bulk"),
        ("stream-router", "sqs:SendMessage", RESOURCES["atts"]["NotificationsQueue.Arn"]),
        ("stream-router", "sqs:DeleteMessage", RESOURCES["atts"]["NotificationsQueue.Arn"]),
        ("ghost", "s3:GetObject", "arn:aws:s3:::b/k"),
    ]))
    assert denied == [
        "stream-router: sqs:DeleteMessage on ${NotificationsQueue.Arn}",
        "ghost (not in the template): s3:GetObject on arn:aws:s3:::b/k",
    ], denied

    # The report names what allowed each call, in the template's own terms.
    doc = Path(tempfile.mkstemp(suffix=".md")[1])
    cp.write_doc(doc, result, RESOURCES["refs"], RESOURCES["atts"], [])
    text = doc.read_text()
    assert "## `search-indexer`" in text and "`es:ESHttpPost`" in text, text
    assert "**nothing: denied**" in text
    print("[permissions] self-test passed: the grant UserServicesFunction had fails on its GSI2 "
          "query, the fixed grant passes, wildcards and policy templates resolve", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
