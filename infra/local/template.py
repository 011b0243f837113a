"""Reads the templates (template.yaml and its nested stacks in stacks/) and resolves what the
local stack needs from them: the table, queues and bucket to create, each function's
environment, routes and event sources.

`load_app` reads the root and every nested stack it names and gives one template back, as if
it had never been split: each nested stack's parameters are replaced by what the root passes
(a root parameter, or the shared stack's output, itself resolved to the shared stack's
resource), and each stack's `Globals` are folded into its functions (the environment
merged, the function's own variables first). Conditions are decided as CloudFormation would
decide them for the local stack — partition `aws`, every parameter at its default: a resource
whose condition is false is left out, an `Fn::If` becomes the branch taken, `AWS::NoValue`
disappears. The tools that read the template (the local stack, the permission check, the
benchmarks) read that."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, tag_suffix, node):
    name = tag_suffix
    key = "Ref" if name == "Ref" else f"Fn::{name}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_CfnLoader)


def nested_stacks(root: dict, root_path: Path) -> dict[str, tuple[Path, dict]]:
    """The root's nested stacks: logical id → (template path, parameters the root passes)."""
    out = {}
    for lid, res in root["Resources"].items():
        if res["Type"] != "AWS::Serverless::Application":
            continue
        props = res["Properties"]
        out[lid] = (root_path.parent / props["Location"], props.get("Parameters") or {})
    return out


def _as_sub_name(expr) -> str:
    """`${…}` text for an expression a parameter stands for."""
    if "Ref" in expr:
        return expr["Ref"]
    if "Fn::GetAtt" in expr:
        return ".".join(expr["Fn::GetAtt"])
    raise ValueError(f"a nested stack parameter must be a Ref or a GetAtt, not {expr!r}")


def _inline(value, params: dict):
    """`value` with every reference to a nested stack's parameter replaced by what it is."""
    if isinstance(value, list):
        return [_inline(v, params) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in params:
        return params[value["Ref"]]
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, extra = (sub, None) if isinstance(sub, str) else (sub[0], sub[1])

        def one(m):
            name = m.group(1)
            if name in params and not (extra and name in extra):
                return "${" + _as_sub_name(params[name]) + "}"
            return m.group(0)
        text = re.sub(r"\$\{([^}!]+)\}", one, text)
        return {"Fn::Sub": text if extra is None else [text, _inline(extra, params)]}
    return {k: _inline(v, params) for k, v in value.items()}


# What the local stack stands for, for the conditions of the templates.
LOCAL_PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "us-east-1",
                "AWS::URLSuffix": "amazonaws.com", "AWS::AccountId": "000000000000"}


class _Decide:
    """Conditions and `Fn::If` of the merged template, decided for the local stack."""

    def __init__(self, conditions: dict, params: dict, pseudo: dict):
        self.conditions, self.params, self.pseudo, self.known = conditions, params, pseudo, {}

    def condition(self, name: str) -> bool:
        if name not in self.known:
            self.known[name] = bool(self.value(self.conditions[name]))
        return self.known[name]

    def value(self, v):
        if not isinstance(v, dict):
            return v
        if "Ref" in v:
            name = v["Ref"]
            if name in self.pseudo:
                return self.pseudo[name]
            return str(self.params[name].get("Default", ""))
        if "Condition" in v:
            return self.condition(v["Condition"])
        if "Fn::If" in v:
            name, yes, no = v["Fn::If"]
            return self.value(yes if self.condition(name) else no)
        if "Fn::Equals" in v:
            a, b = v["Fn::Equals"]
            return str(self.value(a)) == str(self.value(b))
        if "Fn::Not" in v:
            return not self.value(v["Fn::Not"][0])
        if "Fn::And" in v:
            return all(self.value(c) for c in v["Fn::And"])
        if "Fn::Or" in v:
            return any(self.value(c) for c in v["Fn::Or"])
        raise ValueError(f"cannot decide {v!r} locally")

    def walk(self, v):
        """`v` with every `Fn::If` replaced by its branch and `AWS::NoValue` removed."""
        no_value = {"Ref": "AWS::NoValue"}
        if isinstance(v, list):
            out = [self.walk(x) for x in v]
            return [x for x in out if x != no_value]
        if not isinstance(v, dict):
            return v
        if set(v) == {"Fn::If"}:
            name, yes, no = v["Fn::If"]
            return self.walk(yes if self.condition(name) else no)
        out = {k: self.walk(x) for k, x in v.items()}
        return {k: x for k, x in out.items() if x != no_value}


def load_app(root_path: Path, pseudo: dict | None = None) -> dict:
    """The root template and its nested stacks as one template (see the module's doc), its
    conditions decided for `pseudo` (the local stack's partition and region by default)."""
    root = load(root_path)
    stacks = nested_stacks(root, root_path)
    loaded = {lid: load(path) for lid, (path, _) in stacks.items()}
    outputs = {}  # (stack, output) → expression in that stack
    for lid, t in loaded.items():
        for name, out in (t.get("Outputs") or {}).items():
            outputs[(lid, name)] = out["Value"]
    merged: dict = {"Parameters": dict(root.get("Parameters") or {}), "Resources": {},
                    "Conditions": {}, "Outputs": {}, "Globals": {}, "Stacks": {}}
    for lid, t in loaded.items():
        params = {}
        for name, given in stacks[lid][1].items():
            if "Fn::GetAtt" in given and given["Fn::GetAtt"][1].startswith("Outputs."):
                source = given["Fn::GetAtt"][0]
                params[name] = outputs[(source, given["Fn::GetAtt"][1][len("Outputs."):])]
            else:
                params[name] = given
        declared = set(t.get("Parameters") or {})
        if declared != set(params):
            raise ValueError(f"{lid}: the root passes {sorted(set(params) - declared)} it does "
                             f"not declare and omits {sorted(declared - set(params))}")
        globals_fn = _inline((t.get("Globals") or {}).get("Function") or {}, params)
        env = (globals_fn.get("Environment") or {}).get("Variables") or {}
        for rid, res in (t.get("Resources") or {}).items():
            if rid in merged["Resources"]:
                raise ValueError(f"logical id {rid} is in two stacks")
            res = _inline(res, params)
            if res["Type"] == "AWS::Serverless::Function":
                props = res.setdefault("Properties", {})
                for key, value in globals_fn.items():
                    props.setdefault(key, value)
                own = (props.get("Environment") or {}).get("Variables") or {}
                props["Environment"] = {"Variables": {**env, **own}}
            merged["Resources"][rid] = res
            merged["Stacks"][rid] = lid
        for name, cond in _inline(t.get("Conditions") or {}, params).items():
            if merged["Conditions"].get(name, cond) != cond:
                raise ValueError(f"condition {name} means two things in two stacks")
            merged["Conditions"][name] = cond
        merged["Outputs"].update(t.get("Outputs") or {})
    merged["Conditions"].update(root.get("Conditions") or {})
    decide = _Decide(merged["Conditions"], merged["Parameters"], pseudo or LOCAL_PSEUDO)
    merged["Resources"] = {
        rid: decide.walk({k: v for k, v in res.items() if k != "Condition"})
        for rid, res in merged["Resources"].items()
        if "Condition" not in res or decide.condition(res["Condition"])}
    return merged


@dataclass
class Function:
    logical_id: str
    binary: str
    env: dict[str, object]
    routes: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    default_route: bool = False  # the HTTP API's $default route (no path, no method)
    sqs: list[str] = field(default_factory=list)  # queue logical ids
    streams: list[str] = field(default_factory=list)  # table logical ids
    schedules: list[int] = field(default_factory=list)  # periods in seconds
    timeout: int = 3  # seconds, as Lambda stops an invocation
    # Per event source, what its mapping says: SQS {queue: (BatchSize, window seconds)};
    # streams {table: (BatchSize, MaximumRetryAttempts, on-failure queue logical id or None)}.
    sqs_batch: dict[str, tuple[int, int]] = field(default_factory=dict)
    stream_config: dict[str, tuple[int, int, str | None]] = field(default_factory=dict)


def rate_seconds(expr: str) -> int:
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expr.strip())
    if not m:
        raise ValueError(f"only rate(...) schedules run locally, not {expr!r}")
    n, unit = int(m.group(1)), m.group(2)
    return n * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]


def http_routes(tpl: dict) -> dict[str, list[tuple[str, str]]]:
    """The HTTP API's routes by function logical id: (method, path), or ("*", "$default")."""
    res = tpl["Resources"]
    http = {lid for lid, r in res.items() if r["Type"] == "AWS::ApiGatewayV2::Api"
            and r["Properties"].get("ProtocolType") == "HTTP"}
    out: dict[str, list[tuple[str, str]]] = {}
    for r in res.values():
        props = r.get("Properties") or {}
        if r["Type"] != "AWS::ApiGatewayV2::Route" or props["ApiId"].get("Ref") not in http:
            continue
        integration = re.fullmatch(r"integrations/\$\{(\w+)\}", props["Target"]["Fn::Sub"]).group(1)
        uri = res[integration]["Properties"]["IntegrationUri"]
        function = uri["Fn::GetAtt"][0]
        key = props["RouteKey"]
        out.setdefault(function, []).append(("*", key) if key == "$default" else
                                            tuple(key.split(" ", 1)))
    return out


def functions(tpl: dict) -> list[Function]:
    globals_env = (
        tpl.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    routes = http_routes(tpl)
    out = []
    for lid, res in tpl["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        env = dict(globals_env)
        env.update(props.get("Environment", {}).get("Variables", {}))
        fn = Function(lid, binary, env, timeout=int(props.get("Timeout", 3)))
        for method, path in routes.get(lid, []):
            if path == "$default":
                fn.default_route = True
            else:
                fn.routes.append((method, path))
        for ev in props.get("Events", {}).values():
            p = ev.get("Properties", {})
            if ev["Type"] == "SQS":
                queue = p["Queue"]["Fn::GetAtt"][0]
                fn.sqs.append(queue)
                fn.sqs_batch[queue] = (int(p.get("BatchSize", 10)),
                                       int(p.get("MaximumBatchingWindowInSeconds", 0)))
            elif ev["Type"] == "DynamoDB":
                table = p["Stream"]["Fn::GetAtt"][0]
                fn.streams.append(table)
                on_failure = ((p.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                    "Destination")
                fn.stream_config[table] = (
                    int(p.get("BatchSize", 100)), int(p.get("MaximumRetryAttempts", -1)),
                    on_failure["Fn::GetAtt"][0] if isinstance(on_failure, dict) else None)
            elif ev["Type"] in ("Schedule", "ScheduleV2"):
                expr = (p.get("Schedule") or p["ScheduleExpression"]).strip()
                # Calendar schedules (the monthly reports) are run on demand locally
                # (`make monthly`); only periods are fired by the local stack.
                if not expr.startswith("cron("):
                    fn.schedules.append(rate_seconds(expr))
        out.append(fn)
    return out


def resolve(value, refs: dict[str, str], atts: dict[tuple[str, str], str]):
    """Resolves Ref / GetAtt / Sub against the local resources."""
    if isinstance(value, dict):
        if "Ref" in value:
            return refs[value["Ref"]]
        if "Fn::GetAtt" in value:
            lid, att = value["Fn::GetAtt"]
            return atts[(lid, att)]
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: refs[m.group(1)], value["Fn::Sub"])
        raise ValueError(f"cannot resolve {value!r} locally")
    return str(value)


def websocket_routes(tpl: dict) -> dict[str, str]:
    """The WebSocket API's routes (`$connect`, `$disconnect`, `$default`, …) → the binary of
    the function its integration invokes."""
    res = tpl["Resources"]
    binaries = {lid: r.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
                for lid, r in res.items() if r["Type"] == "AWS::Serverless::Function"}
    websocket = {lid for lid, r in res.items() if r["Type"] == "AWS::ApiGatewayV2::Api"
                 and r["Properties"].get("ProtocolType") == "WEBSOCKET"}
    out = {}
    for r in res.values():
        if r["Type"] != "AWS::ApiGatewayV2::Route" or r["Properties"]["ApiId"].get(
                "Ref") not in websocket:
            continue
        props = r["Properties"]
        target = props["Target"]["Fn::Sub"]
        integration = re.search(r"integrations/\$\{(\w+)\}", target).group(1)
        uri = res[integration]["Properties"]["IntegrationUri"]["Fn::Sub"]
        function = re.search(r"\$\{(\w+)\.Arn\}", uri).group(1)
        out[props["RouteKey"]] = binaries[function]
    return out


def http_api_cors(tpl: dict) -> dict | None:
    """The HTTP API's CorsConfiguration, if any."""
    for r in tpl["Resources"].values():
        props = r.get("Properties") or {}
        if r["Type"] == "AWS::ApiGatewayV2::Api" and props.get("ProtocolType") == "HTTP":
            return props.get("CorsConfiguration")
    return None
