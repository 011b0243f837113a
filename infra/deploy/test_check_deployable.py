#!/usr/bin/env python3
"""Self-test of check_deployable.py: the check fails on what the template was before the
split into nested stacks — one stack holding every resource, ARNs with a literal partition, a
worker with no alarm, a function whose logs are kept forever, mail through SES in the China
partition — and passes on today's root and stacks."""

from __future__ import annotations

import copy
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_deployable as cd  # noqa: E402

import template as tpl  # noqa: E402  (check_deployable put infra/local on the path)


def one_stack(app: dict) -> dict:
    """Every area's resources in a single SAM template, as the template was before."""
    single = {k: v for k, v in app.items() if k not in ("Stacks", "Globals") and v}
    single["AWSTemplateFormatVersion"] = "2010-09-09"
    single["Transform"] = "AWS::Serverless-2016-10-31"
    return single


def written(template: dict) -> Path:
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(template, f, indent=1)
    f.close()
    return Path(f.name)


def main() -> int:
    root_path = cd.ROOT / "template.yaml"
    app = tpl.load_app(root_path)

    # Before: one stack. Over the request-body limit and near the resource limit.
    single = one_stack(app)
    report = cd.measure("single", written(single), single, "https://artifacts.invalid")
    size = [p for p in report.problems if p.startswith("template size")]
    resources = [p for p in report.problems if p.startswith("resources")]
    assert size and resources, report.problems
    assert report.resources > cd.RESOURCES * cd.HEADROOM, report.resources

    # Before: `arn:aws:` written literally cannot deploy in aws-cn.
    literal = copy.deepcopy(single)
    fn = next(r for r in literal["Resources"].values() if r["Type"] == "AWS::Serverless::Function")
    fn["Properties"].setdefault("Policies", []).append({"Statement": [{
        "Effect": "Allow", "Action": ["ses:SendEmail"],
        "Resource": "arn:aws:ses:us-east-1:000000000000:identity/*"}]})
    found = cd.literal_partitions(literal, "single")
    assert any("arn:aws:ses" in f for f in found), found
    # ...while a service principal is a name, not an endpoint, and is allowed.
    assert not cd.literal_partitions({"Principal": {"Service": "lambda.amazonaws.com"}}, "p")

    # Before: a worker with no alarm and a function logging to a group kept forever.
    broken = copy.deepcopy(app)
    res = broken["Resources"]
    alarms = [lid for lid, r in res.items() if r["Type"] == "AWS::CloudWatch::Alarm"
              and r["Properties"].get("MetricName") == "Errors"]
    worker_alarm = next(lid for lid in alarms if "StreamRouter" in lid)
    del res[worker_alarm]
    groups = [lid for lid, r in res.items() if r["Type"] == "AWS::Logs::LogGroup"]
    del res[groups[0]]["Properties"]["RetentionInDays"]
    problems = cd.operations_problems(broken)
    assert "StreamRouterFunction: a worker with no alarm on its errors" in problems, problems
    assert any("logs to no log group with a retention" in p for p in problems), problems
    # ...and a stream consumer whose failed records would be dropped.
    del res["StreamRouterFunction"]["Properties"]["Events"]["Stream"]["Properties"][
        "DestinationConfig"]
    assert any("StreamRouterFunction: stream records" in p
               for p in cd.operations_problems(broken))

    # Before: mail through SES wherever the stack is deployed. SES is not offered in aws-cn.
    with tempfile.TemporaryDirectory() as d:
        shutil.copytree(cd.ROOT / "stacks", Path(d) / "stacks")
        root = (cd.ROOT / "template.yaml").read_text()
        root = root.replace("!If [MailAuto, !If [InChina, directmail, ses], !Ref MailProvider]",
                            "!Ref MailProvider").replace("Default: auto", "Default: ses")
        (Path(d) / "template.yaml").write_text(root)
        problems = cd.partition_problems(Path(d) / "template.yaml")
        assert any(p.startswith("aws-cn: NotificationDispatcherFunction uses Amazon SES")
                   for p in problems), problems
        assert not any(p.startswith("aws:") for p in problems), problems
        # A function sending through DirectMail without the key pair's secret.
        identity = (Path(d) / "stacks" / "identity.yaml").read_text()
        (Path(d) / "stacks" / "identity.yaml").write_text(
            identity.replace("          ALIYUN_SECRET_ID: !Ref AliyunSecretArn\n", "", 1))
        (Path(d) / "template.yaml").write_text((cd.ROOT / "template.yaml").read_text())
        problems = cd.partition_problems(Path(d) / "template.yaml")
        assert any("cannot read the Aliyun key pair" in p for p in problems), problems
    assert cd.partition_problems(root_path) == []

    # Before: workers without throttle alarms or a concurrency ceiling, a queue that hands a
    # message out again while it is in work, a timer whose runs overlap, a silent DLQ.
    broken = copy.deepcopy(app)
    res = broken["Resources"]
    del res["FileProcessorThrottlesAlarm"]
    del res["SearchIndexerFunction"]["Properties"]["Events"]["Queue"]["Properties"][
        "ScalingConfig"]
    res["MediaQueue"]["Properties"]["VisibilityTimeout"] = 120
    res["OrderTimersFunction"]["Properties"]["Timeout"] = 300
    del res["StreamRouterFunction"]["Properties"]["Events"]["Stream"]["Properties"][
        "MaximumRecordAgeInSeconds"]
    del res["StreamRouterIteratorAgeAlarm"]
    del res["JobsDeadLetterQueueAlarm"]
    problems = cd.operations_problems(broken)
    for expected in [
        "FileProcessorFunction: a worker with no alarm on its throttles",
        "SearchIndexerFunction: no MaximumConcurrency on its SearchQueue mapping",
        "FileProcessorFunction: MediaQueue's visibility timeout 120 s is under 6 × 60 s + 0 s = 360 s",
        "OrderTimersFunction: runs every 60 s with a 300 s timeout, so two runs can overlap",
        "StreamRouterFunction: no MaximumRecordAgeInSeconds on its stream mapping",
        "StreamRouterFunction: a stream consumer with no IteratorAge alarm",
        "JobsDeadLetterQueue: a dead-letter queue with no alarm on its depth",
    ]:
        assert expected in problems, (expected, problems)
    _, workers, queues = cd.operations(app)
    assert len(workers) == 12 and len(queues) == 7, (workers, queues)
    assert all({"Errors", "Throttles"} <= set(w.alarms) for w in workers)

    # Today: the root and every nested stack pass, each well inside every limit.
    reports = cd.analyse(root_path)
    assert len(reports) >= 8, [r.name for r in reports]
    for r in reports:
        assert not r.problems, (r.name, r.problems)
        assert r.source_bytes <= cd.TEMPLATE_BODY_BYTES * cd.HEADROOM
        assert r.resources <= cd.RESOURCES * cd.HEADROOM
    print(f"[deployable] self-test passed: the single template ({report.source_bytes:,} bytes, "
          f"{report.resources} resources) fails, a literal partition, a worker without alarm or "
          f"dead letters, logs kept forever and SES in aws-cn fail; the {len(reports)} stacks pass",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
