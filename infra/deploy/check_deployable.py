#!/usr/bin/env python3
"""Deployability, rehearsed offline: the templates CloudFormation would get from `make deploy`.

For the root template and every nested stack it names (stacks/*.yaml):

1. the SAM transform runs offline (aws-sam-translator, the library CloudFormation's own
   transform is), for a global region and for a China region;
2. each stack's template size and resource count after the transform are measured against
   CloudFormation's limits (51,200 bytes for a template sent in the request, 1,000,000 from
   S3; 500 resources; 200 parameters and outputs) with room left for growth: a stack over
   80% of a limit fails the check;
3. no ARN or endpoint names a partition or a URL suffix literally (`arn:aws:`,
   `amazonaws.com`): `${AWS::Partition}` and `${AWS::URLSuffix}` say it, so the same template
   deploys in `aws` and `aws-cn`. Service principals (`Principal: {Service: …}`, a Lambda
   permission's `Principal`) are names, not endpoints, and stay as AWS documents them;
4. the transformed stacks are created, root first and nested stacks through it, on MiniStack's
   CloudFormation until CREATE_COMPLETE, with a stub `bootstrap` as every function's code.
   A resource type MiniStack does not implement is named and left out of the rehearsal, with
   the reason; a stack that fails to create fails the check, with CloudFormation's events.

It writes docs/stacks.md (per stack: size, resources, parameters, against the limits) and
docs/operations.md (per worker and queue: where failed work goes, alarms, concurrency,
timeouts, log retention).

    check_deployable.py [--no-rehearsal] [--doc docs/stacks.md]
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import os
import re
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra" / "local"))
import emulator  # noqa: E402
import template as tpl  # noqa: E402


# CloudFormation's quotas (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/
# cloudformation-limits.html).
TEMPLATE_BODY_BYTES = 51_200
TEMPLATE_URL_BYTES = 1_000_000
RESOURCES = 500
PARAMETERS = 200
OUTPUTS = 200
# A stack may use this share of a limit; beyond it, the next functions go to a new stack.
HEADROOM = 0.8

REGIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1"}

# Where a string may name `amazonaws.com`: service principals are identifiers, the same in
# every partition for the services we use (apigateway, lambda, s3, events, sns).
PRINCIPAL_KEYS = {"Service", "Principal"}
LITERAL = re.compile(r"arn:aws(-cn|-us-gov)?:|amazonaws\.com")
# After the transform (which CloudFormation runs in the stack's own region, and which writes
# that region's partition into the managed policies it attaches), no other partition's name.
FOREIGN = {"aws": re.compile(r"arn:aws-cn:|amazonaws\.com\.cn"),
           "aws-cn": re.compile(r"arn:aws:|amazonaws\.com(?!\.cn)")}


@dataclass
class StackReport:
    name: str
    path: Path
    source_bytes: int
    transformed_bytes: int = 0
    resources: int = 0
    parameters: int = 0
    outputs: int = 0
    types: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def packaged(template: dict, bucket: str = "artifacts") -> dict:
    """The template as `sam package` leaves it: each function's code in a zip on S3."""
    template = copy.deepcopy(template)
    for lid, res in template.get("Resources", {}).items():
        if res["Type"] == "AWS::Serverless::Function":
            res.setdefault("Properties", {})["CodeUri"] = f"s3://{bucket}/{lid}.zip"
    return template


def sam_transform(template: dict, region: str) -> dict:
    """The template as CloudFormation's SAM transform leaves it (offline)."""
    import logging

    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.transform import transform

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    # The transform writes the partition of the region it runs in (CloudFormation runs it in
    # the stack's region); the translator caches the region it finds, so it is set here.
    ArnGenerator.BOTO_SESSION_REGION_NAME = region

    class NoManagedPolicies:
        @staticmethod
        def load():
            return {}

    if "Transform" not in template:
        return copy.deepcopy(template)
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region
    try:
        return transform(copy.deepcopy(template), {}, NoManagedPolicies)
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous


def literal_partitions(value, where: str, key: str = "", pattern=LITERAL) -> list[str]:
    """Strings that name a partition or URL suffix literally, by path in the template."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += literal_partitions(v, f"{where}.{k}", k, pattern)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += literal_partitions(v, f"{where}[{i}]", key, pattern)
    elif isinstance(value, str) and pattern.search(value) and key not in PRINCIPAL_KEYS:
        found.append(f"{where}: {value}")
    return found


def with_locations(root: dict, base_url: str) -> dict:
    """The root with each nested stack's Location as `sam package` leaves it: a URL."""
    root = copy.deepcopy(root)
    for res in root["Resources"].values():
        if res["Type"] == "AWS::Serverless::Application":
            location = res["Properties"]["Location"]
            res["Properties"]["Location"] = f"{base_url}/{Path(location).with_suffix('.json')}"
    return root


def measure(name: str, path: Path, template: dict, base_url: str) -> StackReport:
    report = StackReport(name, path, path.stat().st_size)
    for partition, region in REGIONS.items():
        try:
            out = sam_transform(packaged(template), region)
        except Exception as e:  # the transform's own message says what is wrong
            report.problems.append(f"the SAM transform fails ({partition}): {e}")
            return report
        if partition == "aws":
            report.transformed_bytes = len(json.dumps(out, separators=(",", ":")))
            report.resources = len(out.get("Resources", {}))
            report.parameters = len(out.get("Parameters", {}))
            report.outputs = len(out.get("Outputs", {}))
            for r in out.get("Resources", {}).values():
                report.types[r["Type"]] = report.types.get(r["Type"], 0) + 1
            report.problems += [f"names a partition or URL suffix literally: {f}"
                                for f in literal_partitions(template, name)]
        report.problems += [f"transformed for {region}, names another partition: {f}"
                            for f in literal_partitions(out, name, pattern=FOREIGN[partition])]
    limits = [("template size", report.source_bytes, TEMPLATE_BODY_BYTES),
              ("transformed size", report.transformed_bytes, TEMPLATE_URL_BYTES),
              ("resources", report.resources, RESOURCES),
              ("parameters", report.parameters, PARAMETERS),
              ("outputs", report.outputs, OUTPUTS)]
    for what, value, limit in limits:
        if value > limit * HEADROOM:
            report.problems.append(f"{what} {value:,} is over {int(HEADROOM * 100)}% of "
                                   f"CloudFormation's {limit:,}")
    return report


def _refers_to(value, lid: str) -> bool:
    return re.search(rf'"Ref": "{lid}"|\["{lid}", "\w+"\]|\$\{{{lid}[.}}]',
                     json.dumps(value)) is not None


def _alarms_on(res: dict, lid: str, metric: str | None = None) -> list[str]:
    """The alarms whose metric names resource `lid` (a function, a queue), by metric name."""
    found = []
    for aid, a in res.items():
        if a["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = a["Properties"]
        named = props.get("MetricName")
        if named and _refers_to(props.get("Dimensions"), lid) and metric in (None, named):
            found.append(named)
    return found


def _days(app: dict, retention) -> str:
    if retention is None:
        return "forever"
    if isinstance(retention, dict) and "Ref" in retention:
        name = retention["Ref"]
        return f"`{name}` (default {app['Parameters'][name].get('Default')} days)"
    return f"{retention} days"


def _period_seconds(expr: str) -> int | None:
    """A `rate(...)` schedule's period (the same reading as the local stack's); None for cron."""
    try:
        return tpl.rate_seconds(expr)
    except ValueError:
        return None


@dataclass
class Worker:
    function: str
    trigger: str
    timeout: int
    concurrency: str
    failures: str
    alarms: list[str]
    log_retention: str


@dataclass
class QueueRow:
    queue: str
    consumer: str
    visibility: int
    needed: int
    dead_letters: str


def operations(app: dict) -> tuple[list[str], list[Worker], list[QueueRow]]:
    """What an operator needs of every function: logs kept for a set time; and of every
    worker (a function fed by a queue, the table's stream or a schedule): a place where failed
    work goes instead of being lost, alarms on its errors and throttles, a ceiling on its
    concurrency, a queue that does not hand a message out again while it is in work (visibility
    ≥ 6 × timeout + batching window, AWS's guidance), a stream consumer that cannot fall behind
    unnoticed, a schedule whose runs cannot overlap. Every dead-letter queue is alarmed."""
    res = app["Resources"]
    problems: list[str] = []
    workers: list[Worker] = []
    queues: list[QueueRow] = []
    dead_letter_queues: set[str] = set()
    for lid, r in res.items():
        if r["Type"] == "AWS::SQS::Queue":
            target = ((r.get("Properties") or {}).get("RedrivePolicy") or {}).get(
                "deadLetterTargetArn")
            if target:
                dead_letter_queues.add(target["Fn::GetAtt"][0])
    for lid, r in res.items():
        if r["Type"] != "AWS::Serverless::Function":
            continue
        props = r.get("Properties") or {}
        group = ((props.get("LoggingConfig") or {}).get("LogGroup") or {}).get("Ref")
        retention = (res.get(group) or {}).get("Properties", {}).get("RetentionInDays")
        if retention is None:
            problems.append(f"{lid}: logs to no log group with a retention")
        events = list((props.get("Events") or {}).values())
        if not events:
            continue
        timeout = int(props.get("Timeout", 3))
        triggers, failures, concurrency = [], [], []
        if props.get("ReservedConcurrentExecutions"):
            concurrency.append(f"reserved {props['ReservedConcurrentExecutions']}")
        for ev in events:
            p = ev.get("Properties") or {}
            if ev["Type"] == "SQS":
                queue = p["Queue"]["Fn::GetAtt"][0]
                qprops = res[queue].get("Properties", {})
                triggers.append(f"SQS `{queue}` (batch {p.get('BatchSize', 10)})")
                redrive = qprops.get("RedrivePolicy")
                if not redrive:
                    problems.append(f"{lid}: its queue {queue} has no dead-letter queue")
                    dlq = "none"
                else:
                    dlq = (f"`{redrive['deadLetterTargetArn']['Fn::GetAtt'][0]}` after "
                           f"{redrive['maxReceiveCount']} receives")
                failures.append(dlq)
                window = int(p.get("MaximumBatchingWindowInSeconds", 0))
                needed = 6 * timeout + window
                visibility = int(qprops.get("VisibilityTimeout", 30))
                if visibility < needed:
                    problems.append(f"{lid}: {queue}'s visibility timeout {visibility} s is under "
                                    f"6 × {timeout} s + {window} s = {needed} s")
                queues.append(QueueRow(queue, lid, visibility, needed, dlq))
                maximum = (p.get("ScalingConfig") or {}).get("MaximumConcurrency")
                if not maximum:
                    problems.append(f"{lid}: no MaximumConcurrency on its {queue} mapping")
                else:
                    concurrency.append(f"max {maximum} from SQS")
            elif ev["Type"] == "DynamoDB":
                triggers.append(f"table stream (batch {p.get('BatchSize', 100)})")
                on_failure = (p.get("DestinationConfig") or {}).get("OnFailure")
                if not on_failure:
                    problems.append(f"{lid}: stream records that fail every retry are dropped "
                                    "(no DestinationConfig.OnFailure)")
                else:
                    failures.append(f"on failure → `{on_failure['Destination']['Fn::GetAtt'][0]}`"
                                    f" ({p.get('MaximumRetryAttempts', '∞')} retries, records "
                                    f"over {p.get('MaximumRecordAgeInSeconds', '∞')} s)")
                if not p.get("MaximumRecordAgeInSeconds"):
                    problems.append(f"{lid}: no MaximumRecordAgeInSeconds on its stream mapping")
                if not _alarms_on(res, lid, "IteratorAge"):
                    problems.append(f"{lid}: a stream consumer with no IteratorAge alarm")
                concurrency.append("one per shard")
            elif ev["Type"] in ("Schedule", "ScheduleV2"):
                expr = p.get("Schedule") or p.get("ScheduleExpression")
                triggers.append(f"schedule `{expr}`")
                target = (props.get("DeadLetterQueue") or {}).get("TargetArn")
                if not target and not p.get("DeadLetterConfig"):
                    problems.append(f"{lid}: failed scheduled runs are dropped "
                                    "(no DeadLetterQueue)")
                else:
                    failures.append(f"failed runs → `{target['Fn::GetAtt'][0]}`" if isinstance(
                        target, dict) and "Fn::GetAtt" in target else "failed runs → DLQ")
                    if isinstance(target, dict) and "Fn::GetAtt" in target:
                        dead_letter_queues.add(target["Fn::GetAtt"][0])
                period = _period_seconds(expr)
                if period is not None and timeout >= period:
                    problems.append(f"{lid}: runs every {period} s with a {timeout} s timeout, "
                                    "so two runs can overlap")
        for dest in (p for ev in events for p in [ev.get("Properties") or {}]):
            on_failure = ((dest.get("DestinationConfig") or {}).get("OnFailure") or {})
            if "Destination" in on_failure:
                dead_letter_queues.add(on_failure["Destination"]["Fn::GetAtt"][0])
        alarms = _alarms_on(res, lid)
        for metric in ("Errors", "Throttles"):
            if metric not in alarms:
                problems.append(f"{lid}: a worker with no alarm on its {metric.lower()}")
        workers.append(Worker(lid, "; ".join(triggers), timeout,
                              ", ".join(concurrency) or "account", "; ".join(failures) or "none",
                              sorted(alarms), _days(app, retention)))
    for q in sorted(dead_letter_queues):
        if not _alarms_on(res, q, "ApproximateNumberOfMessagesVisible"):
            problems.append(f"{q}: a dead-letter queue with no alarm on its depth")
    return problems, workers, queues


def operations_problems(app: dict) -> list[str]:
    return operations(app)[0]


# The pseudo parameters of a stack deployed in each partition.
PSEUDO = {"aws": {"AWS::Partition": "aws", "AWS::Region": "us-east-1",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::AccountId": "111122223333"},
          "aws-cn": {"AWS::Partition": "aws-cn", "AWS::Region": "cn-north-1",
                     "AWS::URLSuffix": "amazonaws.com.cn", "AWS::AccountId": "111122223333"}}
# Services the templates may call that are not offered in a partition.
NOT_OFFERED = {"aws-cn": {"ses": "Amazon SES (mail goes through Aliyun DirectMail there)"}}


def default(app: dict, value):
    """A root parameter's default where `value` refers to one."""
    if isinstance(value, dict) and value.get("Ref") in app["Parameters"]:
        return app["Parameters"][value["Ref"]].get("Default")
    return value


def partition_problems(root_path: Path) -> list[str]:
    """The application as CloudFormation would create it in each partition (conditions
    decided with the parameters' defaults): no function is granted or configured to use a
    service the partition does not offer, and every function that sends mail or SMS through
    Aliyun can read the Aliyun key pair."""
    problems = []
    for partition, pseudo in PSEUDO.items():
        app = tpl.load_app(root_path, pseudo)
        for lid, r in app["Resources"].items():
            if r["Type"] != "AWS::Serverless::Function":
                continue
            props = r.get("Properties") or {}
            env = {k: default(app, v) for k, v in
                   ((props.get("Environment") or {}).get("Variables") or {}).items()}
            policies = json.dumps(props.get("Policies") or [])
            for service, why in NOT_OFFERED.get(partition, {}).items():
                if f'"{service}:' in policies or env.get("MAIL_PROVIDER") == service:
                    problems.append(f"{partition}: {lid} uses {why.split(' (')[0]}, not offered "
                                    f"in {partition}: {why}")
            aliyun = env.get("SMS_PROVIDER") == "aliyun" or env.get("MAIL_PROVIDER") == "directmail"
            if aliyun and not ("ALIYUN_SECRET_ID" in env and "AliyunSecretArn" in policies):
                problems.append(f"{partition}: {lid} sends through Aliyun but cannot read "
                                "the Aliyun key pair (ALIYUN_SECRET_ID and its grant)")
    return problems


def analyse(root_path: Path, base_url: str = "https://artifacts.invalid/gigbao"
            ) -> list[StackReport]:
    root = tpl.load(root_path)
    reports = [measure("root", root_path, with_locations(root, base_url), base_url)]
    reports[0].problems += operations_problems(tpl.load_app(root_path))
    reports[0].problems += partition_problems(root_path)
    for lid, (path, _) in tpl.nested_stacks(root, root_path).items():
        reports.append(measure(lid, path, tpl.load(path), base_url))
    return reports


# ---------------------------------------------------------------- rehearsal on MiniStack
def stub_zip() -> bytes:
    """A function package with a stub bootstrap: nothing is invoked in the rehearsal."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("bootstrap")
        info.external_attr = 0o755 << 16
        z.writestr(info, "#!/bin/sh\necho 'stub bootstrap: the rehearsal creates, never invokes'\n")
    return buf.getvalue()


def supported_types() -> set[str]:
    from ministack.services.cloudformation.provisioners import _RESOURCE_HANDLERS
    return {t for t, h in _RESOURCE_HANDLERS.items() if "create" in h}


# Values for the root's parameters that have no default (operator secrets and ARNs).
REHEARSAL_PARAMETERS = {
    "AccessTokenPublicKey": "A" * 43,
    "TokenSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:tokens",
    "PiiSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:pii",
    "AliyunSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:aliyun",
    "PaymentSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:payments",
    "WechatLoginSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:wechat-login",
    "AlipayLoginSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:alipay-login",
}


def without_unsupported(name: str, template: dict, supported: set[str],
                        skipped: list[str]) -> dict:
    """The template without the resource types MiniStack cannot create (named in
    `skipped`). A left-out resource that others refer to fails the rehearsal instead."""
    template = copy.deepcopy(template)
    resources = template["Resources"]
    gone = [lid for lid, r in resources.items() if r["Type"] not in supported
            and r["Type"] != "AWS::Serverless::Application"
            and not r["Type"].startswith("AWS::Serverless::")]
    for lid in gone:
        skipped.append(f"{name}.{lid} ({resources[lid]['Type']}): MiniStack's CloudFormation "
                       "has no provisioner for this type; AWS creates it, the rehearsal cannot")
        del resources[lid]
    # Types MiniStack creates, but not in every form we use.
    partial = [lid for lid, r in resources.items() if r["Type"] == "AWS::CloudWatch::Alarm"
               and "Metrics" in (r.get("Properties") or {})]
    for lid in partial:
        skipped.append(f"{name}.{lid} (AWS::CloudWatch::Alarm on metric math): MiniStack's "
                       "CloudFormation creates alarms on one metric only; AWS creates this one, "
                       "the rehearsal cannot")
        del resources[lid]
    gone += partial
    text = json.dumps(template)
    for lid in gone:
        if re.search(rf'"{lid}"|\$\{{{lid}[.}}]', text):
            raise SystemExit(f"[deployable] {name}.{lid} is referred to by other resources; "
                             "the rehearsal cannot leave it out")
    return template


def rehearse(root_path: Path, log) -> tuple[bool, list[str]]:
    import boto3

    skipped: list[str] = []
    with emulator.running("rehearsal") as endpoint:
        def client(service):
            return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                                aws_access_key_id="test", aws_secret_access_key="test")

        s3, cfn = client("s3"), client("cloudformation")
        bucket = "gigbao-rehearsal"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="stub.zip", Body=stub_zip())
        base = f"{endpoint}/{bucket}"
        supported = supported_types()
        root = tpl.load(root_path)
        for lid, (path, _) in tpl.nested_stacks(root, root_path).items():
            # CloudFormation runs a nested stack's transform itself; MiniStack runs it for
            # the stack it is given only, so the nested stacks go up transformed.
            t = sam_transform(packaged(tpl.load(path), bucket), "us-east-1")
            for res in t["Resources"].values():
                if res["Type"] == "AWS::Lambda::Function":
                    res["Properties"]["Code"] = {"S3Bucket": bucket, "S3Key": "stub.zip"}
            t = without_unsupported(lid, t, supported, skipped)
            key = str(Path(path.relative_to(root_path.parent)).with_suffix(".json"))
            s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(t).encode())
        body = json.dumps(with_locations(root, base))
        params = [{"ParameterKey": k, "ParameterValue": v} for k, v in
                  REHEARSAL_PARAMETERS.items() if k in root.get("Parameters", {})]
        started = time.time()
        cfn.create_stack(StackName="gigbao", TemplateBody=body, Parameters=params,
                         Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
        while True:
            status = cfn.describe_stacks(StackName="gigbao")["Stacks"][0]["StackStatus"]
            if not status.endswith("IN_PROGRESS"):
                break
            if time.time() - started > 600:
                raise SystemExit("[deployable] the rehearsal did not finish in 10 minutes")
            time.sleep(1)
        lines = []
        stacks = cfn.describe_stacks()["Stacks"]
        for s in sorted(stacks, key=lambda s: s["StackName"]):
            n = len(cfn.describe_stack_resources(StackName=s["StackName"])["StackResources"])
            lines.append(f"{s['StackName']}: {s['StackStatus']} ({n} resources)")
        ok = status == "CREATE_COMPLETE" and all(
            s["StackStatus"] == "CREATE_COMPLETE" for s in stacks)
        if not ok:
            for s in stacks:
                for ev in cfn.describe_stack_events(StackName=s["StackName"])["StackEvents"]:
                    if ev["ResourceStatus"].endswith("FAILED"):
                        lines.append(f"  {s['StackName']} {ev['LogicalResourceId']} "
                                     f"{ev['ResourceStatus']}: {ev.get('ResourceStatusReason')}")
        lines.append(f"created in {time.time() - started:.1f} s")
        for s in skipped:
            lines.append(f"left out: {s}")
        for line in lines:
            log(line)
        return ok, skipped


# ---------------------------------------------------------------- report
def write_doc(path: Path, reports: list[StackReport], skipped: list[str] | None) -> None:
    lines = [
        "# Stacks",
        "",
        "Generated by `make test` (`infra/deploy/check_deployable.py`); do not edit by hand.",
        "",
        "The root template holds the parameters and one nested stack per area. Each is",
        "measured after the SAM transform (offline, as CloudFormation runs it) against",
        f"CloudFormation's limits; the check fails a stack past {int(HEADROOM * 100)}% of any of "
        "them, so a new",
        "area stack is made before a limit is near. Template size counts against the 51,200",
        "bytes of a template sent in the request (the packaged templates go by S3, where the",
        "limit is 1,000,000, but every one of ours also fits the smaller).",
        "",
        "| stack | file | template bytes (limit 51,200) | after transform bytes | resources (limit 500) "
        "| parameters (limit 200) | outputs (limit 200) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        rel = r.path.relative_to(ROOT) if r.path.is_relative_to(ROOT) else r.path
        lines.append(f"| {r.name} | `{rel}` | {r.source_bytes:,} "
                     f"({100 * r.source_bytes / TEMPLATE_BODY_BYTES:.0f}%) | "
                     f"{r.transformed_bytes:,} | {r.resources} "
                     f"({100 * r.resources / RESOURCES:.0f}%) | {r.parameters} | {r.outputs} |")
    total = sum(r.resources for r in reports)
    lines += ["", f"{total} resources in all, {len(reports)} stacks.", "",
              "Resource types after the transform:", ""]
    types: dict[str, int] = {}
    for r in reports:
        for t, n in r.types.items():
            types[t] = types.get(t, 0) + n
    lines += [f"- `{t}`: {n}" for t, n in sorted(types.items())]
    lines.append("")
    if skipped is not None:
        lines += ["## Rehearsal on MiniStack", "",
                  "Every stack above, created on MiniStack's CloudFormation (stub bootstraps): "
                  "CREATE_COMPLETE."]
        if skipped:
            lines += ["", "Left out of the rehearsal (MiniStack has no provisioner for them):", ""]
            lines += [f"- {s}" for s in skipped]
        else:
            lines += ["", "No resource type was left out: MiniStack provisions every one."]
        lines.append("")
    path.write_text("\n".join(lines))


def write_operations_doc(path: Path, workers: list[Worker], queues: list[QueueRow]) -> None:
    """Per worker and per queue: what keeps its failures from being lost or silent."""
    lines = [
        "# Operations",
        "",
        "Generated by `make test` (`infra/deploy/check_deployable.py`); do not edit by hand. The",
        "check fails when a worker lacks any of these: a log group with a retention, a place",
        "where its failed work goes, alarms on its errors and throttles (to the `AlarmTopic`), a",
        "concurrency ceiling on each queue mapping, a stream mapping with a record age limit and",
        "an iterator-age alarm, a schedule whose runs cannot overlap; or a queue whose",
        "visibility timeout is under six times its consumer's timeout plus its batching window;",
        "or a dead-letter queue without an alarm on its depth. The HTTP API (5xx rate, p99",
        "latency), the table (throttles, system errors), the account's Lambda concurrency and",
        "the ledger reconciler (`LedgerMismatches`) have alarms of their own; the dashboard",
        "`<stack>-Shared-…` shows them with the business metrics (EMF, namespace `Gigbao`).",
        "",
        "## Workers",
        "",
        "| function | trigger | timeout s | concurrency | failed work goes to | alarms | logs kept |",
        "|---|---|---:|---|---|---|---|",
    ]
    for w in sorted(workers, key=lambda w: w.function):
        lines.append(f"| `{w.function}` | {w.trigger} | {w.timeout} | {w.concurrency} | "
                     f"{w.failures} | {', '.join(w.alarms)} | {w.log_retention} |")
    lines += ["", "## Queues", "",
              "| queue | consumer | visibility s | needed (6 × timeout + window) | dead letters |",
              "|---|---|---:|---:|---|"]
    for q in sorted(queues, key=lambda q: q.queue):
        lines.append(f"| `{q.queue}` | `{q.consumer}` | {q.visibility} | {q.needed} | "
                     f"{q.dead_letters} |")
    lines += ["", "Every dead-letter queue (the six above, `StreamFailuresQueue` for stream "
              "records, `JobsDeadLetterQueue` for scheduled runs) alarms on its first message; "
              "how to replay them: [deploying.md](deploying.md#rollback).", "",
              "Every queue worker reads its batch through one helper (`workers::Batch`) with one "
              "poison-message policy: a message it cannot read, or that is not for it, is "
              "reported failed with the reason logged — retried, then kept in the dead-letter "
              "queue — never dropped.", ""]
    path.write_text("\n".join(lines))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    p.add_argument("--doc", type=Path, default=ROOT / "docs" / "stacks.md")
    p.add_argument("--operations-doc", type=Path, default=ROOT / "docs" / "operations.md")
    p.add_argument("--no-rehearsal", action="store_true")
    args = p.parse_args()

    def log(msg):
        print(f"[deployable] {msg}", file=sys.stderr)

    reports = analyse(args.template)
    failed = False
    for r in reports:
        log(f"{r.name}: {r.source_bytes:,} / {TEMPLATE_BODY_BYTES:,} bytes, "
            f"{r.transformed_bytes:,} bytes transformed, {r.resources} / {RESOURCES} resources, "
            f"{r.parameters} parameters, {r.outputs} outputs")
        for problem in r.problems:
            log(f"  FAIL {r.name}: {problem}")
            failed = True
    skipped = None
    if not failed and not args.no_rehearsal:
        ok, skipped = rehearse(args.template, log)
        failed = not ok
    if not failed:
        write_doc(args.doc, reports, skipped)
        _, workers, queues = operations(tpl.load_app(args.template))
        write_operations_doc(args.operations_doc, workers, queues)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
