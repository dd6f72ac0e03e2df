"""Rule files: load the YAML, validate it against the schema, index it for the matcher.

Rules are data (docs/rules.md). This module only knows the shape of a rule file, never one
SDK method: every SDK object, factory and method comes from rules/*.yaml or a user's folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, cast

import yaml

from cloudshift.model import Safety
from cloudshift.rules.template import Template

SCHEMA = json.loads((Path(__file__).with_name("schema.json")).read_text(encoding="utf-8"))


class RuleError(Exception):
    """A rule file is unreadable or invalid; the message names its file and line."""


@dataclass(frozen=True)
class Signature:
    """An SDK signature, enough to bind a call's arguments to parameter names."""

    positional: tuple[str, ...] = ()
    keyword_only: tuple[str, ...] = ()
    any_keyword: bool = False
    any_positional: bool = False  # no params were given: positional arguments bind as "#0", "#1", ...

    @classmethod
    def parse(cls, params: list[str] | None) -> Signature:
        if params is None:
            return cls(any_keyword=True, any_positional=True)
        positional: list[str] = []
        keyword_only: list[str] = []
        target = positional
        any_keyword = False
        for name in params:
            if name == "*":
                target = keyword_only
            elif name == "**":
                any_keyword = True
            else:
                target.append(name)
        return cls(tuple(positional), tuple(keyword_only), any_keyword)

    def accepts_keyword(self, name: str) -> bool:
        return self.any_keyword or name in self.positional or name in self.keyword_only


@dataclass(frozen=True)
class Origin:
    """Where a rule-file entry is, for error messages and `rules list`."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


DEFAULT_STORAGE = {"aws": "s3", "gcp": "gcs", "azure": "azure", "oci": "oci"}
"""The storage_shim provider of each rule-file provider, when the file does not say (`storage:`)."""


@dataclass(frozen=True)
class Creation:
    """One way code obtains an SDK object: a call, a method or attribute of another object, iteration."""

    kind: str  # call | method | attribute | iterate
    target: str  # dotted name for calls, else the member name
    on: str | None  # the object the member belongs to (None for calls)
    result: str  # the object obtained
    signature: Signature
    when: dict[str, tuple[str, ...]]
    neutral: frozenset[str]
    neutral_objects: dict[str, str]  # parameter -> SDK object it may be without configuring anything
    safety: Safety  # the most any fix on the obtained object may be
    reason: str
    template: Template | None  # how the rewrite spells this creation, when it has a shim equivalent
    origin: Origin
    neutral_values: dict[str, tuple[str, ...]] = field(default_factory=dict)  # parameter -> expressions
    profile: dict[str, str] = field(default_factory=dict)  # parameter -> storage profile setting it becomes


@dataclass(frozen=True)
class DroppedArgument:
    safety: Safety
    reason: str
    neutral_object: str | None = None  # when the argument is this SDK object, dropping it is as safe as it is


@dataclass(frozen=True)
class FixVariant:
    """One way to rewrite a matched call, chosen by how the call's result is used."""

    result: str  # ignored | any | iterated | trailing code
    iterated: bool  # the result (the call, or the call with its trailing code) is a loop's iterable
    safety: Safety
    reason: str
    template: Template
    keywords: dict[str, str]
    dict_keywords: dict[str, dict[str, str]]
    drop: dict[str, DroppedArgument]
    when: dict[str, tuple[str, ...]]
    same: tuple[tuple[str, ...], ...]
    patterns: tuple[str, ...] = ()  # code around the call that the template replaces (cloudshift/rules/pattern.py)


@dataclass(frozen=True)
class Rule:
    """A detectable SDK use: a method of an SDK object, or a module-level SDK function."""

    id: str
    provider: str
    service: str
    on: str | None  # object name for method rules
    method: str | None  # method name, or "*" for any other method of `on`
    call: str | None  # dotted name for function rules
    signature: Signature
    when: dict[str, tuple[str, ...]]
    message: str
    manual: str
    fixes: tuple[FixVariant, ...]
    origin: Origin

    @property
    def best_safety(self) -> Safety:
        """The safest fix this rule can offer, for `rules list`."""
        return min((fix.safety for fix in self.fixes), default=Safety.MANUAL)


@dataclass(frozen=True)
class CallShape:
    """How the SDK spells a call of the object's methods: botocore's take only keywords, each capitalised."""

    keywords: frozenset[str]  # keyword arguments every such call passes (Bucket)
    keywords_only: bool = False
    capitalised: bool = False

    def fits(self, positional: int, keywords: list[str | None]) -> bool:
        """Whether a call with `positional` arguments and these keyword names (None: `**mapping`) is spelled so."""
        named = {keyword for keyword in keywords if keyword is not None}
        if self.keywords_only and positional:
            return False
        if self.capitalised and not all(keyword[:1].isupper() for keyword in named):
            return False
        return self.keywords <= named


@dataclass(frozen=True)
class SdkObject:
    name: str
    provider: str
    summary: str
    types: tuple[str, ...]
    shim: str  # client | handle | info | none
    fields: dict[str, str]  # SDK attribute -> shim attribute that carries over
    origin: Origin
    distinctive: frozenset[str] = frozenset()  # methods matched when the service name was not a literal
    members: frozenset[str] = frozenset()  # the SDK class's methods (empty: not listed, any name may be one)
    call_shape: CallShape | None = None  # distinctive calls spelled so identify the object on an unknown value


@dataclass
class RuleSet:
    """Every loaded rule file, indexed the way the resolver and detector look things up."""

    objects: dict[str, SdkObject] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    creations_by_call: dict[str, list[Creation]] = field(default_factory=dict)
    creations_by_member: dict[tuple[str, str], list[Creation]] = field(default_factory=dict)
    rules_by_member: dict[tuple[str, str], list[Rule]] = field(default_factory=dict)
    rules_by_call: dict[str, list[Rule]] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # annotation dotted name -> object
    generic_types: dict[str, str] = field(default_factory=dict)  # annotation of any service's object -> object
    modules: set[str] = field(default_factory=set)
    exceptions: dict[str, str] = field(default_factory=dict)  # SDK exception dotted name -> provider
    files: list[str] = field(default_factory=list)
    summaries: dict[str, str] = field(default_factory=dict)  # rule file -> its one-line summary
    storage: dict[str, str] = field(default_factory=dict)  # provider -> the storage_shim provider fixes use
    profile_defaults: dict[str, dict[str, str]] = field(default_factory=dict)  # storage_shim provider -> settings

    def catch_all(self, obj: str, method: str) -> Rule | None:
        """The `<obj>.*` rule for a method no explicit rule names, when the SDK object has that method."""
        rules = self.rules_by_member.get((obj, "*"))
        members = self.objects[obj].members if obj in self.objects else frozenset()
        return rules[0] if rules and (not members or method in members) else None

    def method_passed_along(self, obj: str, name: str) -> Rule | None:
        """The `<obj>.*` rule for `obj.name` handed to a wrapper (`functools.partial(client.upload_part, ...)`,
        `run_in_thread(client.create_bucket, ...)`): only when the object lists its methods and `name` is
        one, since a data attribute passed along (`blob.name`) is not a use."""
        if obj not in self.objects or name not in self.objects[obj].members:
            return None
        return self.catch_all(obj, name)

    @cached_property
    def method_names(self) -> frozenset[str] | None:
        """Every method name a finding can be a call of (None when an object with a catch-all lists no members).

        A call spelled with any other name is never an SDK call, so its receiver need not be evaluated.
        """
        names = {method for _, method in self.rules_by_member} | {method for _, method in self.creations_by_member}
        names |= {dotted.rpartition(".")[2] for dotted in self.rules_by_call}
        for obj, method in self.rules_by_member:
            if method == "*":
                if obj not in self.objects or not self.objects[obj].members:
                    return None
                names |= self.objects[obj].members
        return frozenset(names - {"*"})

    def names_sdk(self, dotted: str) -> bool:
        """Whether a dotted name is something in one of the SDKs' modules."""
        return any(dotted.startswith(f"{module}.") for module in self.modules)

    def rule(self, rule_id: str) -> Rule:
        return next(rule for rule in self.rules if rule.id == rule_id)

    def add_rule(self, rule: Rule) -> None:
        self.rules.append(rule)
        if rule.call:
            self.rules_by_call.setdefault(rule.call, []).append(rule)
        else:
            self.rules_by_member.setdefault((rule.on or "", rule.method or ""), []).append(rule)


def bundled_rules_dir() -> Path:
    """The rule files shipped with cloudshift: rules/ in a checkout, cloudshift/bundled_rules installed."""
    package = Path(__file__).resolve().parents[1]
    checkout = package.parent / "rules"
    if checkout.is_dir() and any(checkout.glob("*.yaml")):
        return checkout
    return package / "bundled_rules"


def default_fixtures() -> Path | None:
    """The golden fixtures of a source checkout (an installed wheel has none)."""
    fixtures = bundled_rules_dir().parent / "fixtures"
    return fixtures if fixtures.is_dir() else None


def load_rules(extra_dirs: Iterable[Path] = ()) -> RuleSet:
    """Load the bundled rule files and any user folders, validated, into one RuleSet."""
    ruleset = RuleSet()
    for directory in [bundled_rules_dir(), *extra_dirs]:
        if not directory.is_dir():
            raise RuleError(f"{directory}: rule folder does not exist")
        for path in sorted(directory.glob("*.y*ml")):
            load_rule_file(path, ruleset)
    return ruleset


def load_rule_file(path: Path, ruleset: RuleSet) -> None:
    """Validate one YAML file and add its objects and rules to `ruleset`."""
    text = _read(path)
    node = _compose(path, text)
    data = _yaml(path, lambda: _YAML_LOADER("").construct_document(node))  # the composed tree, not a second parse
    stamp = _validated_stamp(text)
    checked = stamp is not None and stamp.exists()
    if not checked:
        _validate(path, node, data)
    lines = _LineFinder(path, node)
    provider, service = data["provider"], data["service"]
    ruleset.files.append(str(path))
    ruleset.summaries[str(path)] = data.get("summary", "")
    ruleset.storage[provider] = data.get("storage", DEFAULT_STORAGE[provider])
    ruleset.profile_defaults.setdefault(ruleset.storage[provider], {}).update(data.get("profile_defaults", {}))
    ruleset.modules.update(data["modules"])
    ruleset.exceptions.update(dict.fromkeys(data.get("exceptions", ()), provider))
    for name, spec in data["objects"].items():
        origin = lines.origin(["objects", name])
        if name in ruleset.objects:
            raise RuleError(f"{origin}: object '{name}' is already defined at {ruleset.objects[name].origin}")
        ruleset.objects[name] = SdkObject(
            name,
            provider,
            spec["summary"],
            tuple(spec.get("types", ())),
            spec.get("shim", "none"),
            dict(spec.get("fields", {})),
            origin,
            frozenset(spec.get("distinctive", ())),
            frozenset(spec.get("members", ())),
            _call_shape(spec.get("call_shape")),
        )
        for dotted in spec.get("types", ()):
            ruleset.types[dotted] = name
        for dotted in spec.get("generic_types", ()):
            ruleset.generic_types[dotted] = name
    for name, spec in data["objects"].items():
        for index, entry in enumerate(spec["created_by"]):
            creation = _creation(name, entry, lines.origin(["objects", name, "created_by", index]), checked)
            for referred in [creation.on, *creation.neutral_objects.values()]:
                _check_object(ruleset, referred, creation.origin)
            if creation.kind == "call":
                ruleset.creations_by_call.setdefault(creation.target, []).append(creation)
            else:
                key = (creation.on or "", creation.target)
                ruleset.creations_by_member.setdefault(key, []).append(creation)
    known = {rule.id for rule in ruleset.rules}
    for index, entry in enumerate(data["rules"]):
        rule = _rule(provider, service, entry, lines.origin(["rules", index]), checked)
        if rule.id in known:
            raise RuleError(f"{rule.origin}: rule id '{rule.id}' is defined twice")
        for referred in [rule.on, *_dropped_objects(rule)]:
            _check_object(ruleset, referred, rule.origin)
        known.add(rule.id)
        ruleset.add_rule(rule)
    if stamp is not None and not checked:
        _write_stamp(stamp)


def _call_shape(spec: dict[str, Any] | None) -> CallShape | None:
    if spec is None:
        return None
    return CallShape(
        frozenset(spec["keywords"]), bool(spec.get("keywords_only", False)), bool(spec.get("capitalised", False))
    )


def _validated_stamp(text: str) -> Path | None:
    """The marker saying this exact rule text passed the schema and pattern checks of this code.

    Those checks parse every fix pattern with LibCST and cost most of a second; with the marker a
    scan of one file starts at once. It sits in the user's cache folder, never in a project.
    """
    try:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except RuntimeError:  # no home folder
        return None
    digest = hashlib.sha256(_checker_digest().encode())
    digest.update(text.encode("utf-8", "surrogatepass"))
    return base / "cloudshift" / "validated-rules" / digest.hexdigest()


@cache
def _checker_digest() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in ("ruleset.py", "schema.json", "pattern.py", "template.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def _write_stamp(stamp: Path) -> None:
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    except OSError:
        return  # an unwritable cache only means the checks run again next time


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: a tenth of the start-up time


def _compose(path: Path, text: str) -> yaml.Node:
    node = _yaml(path, lambda: yaml.compose(text, Loader=_YAML_LOADER))
    if node is None:
        raise RuleError(f"{path}:1: empty rule file")
    return cast(yaml.Node, node)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise RuleError(f"{path}: cannot read: {error.strerror or error}") from error
    except UnicodeDecodeError as error:
        raise RuleError(f"{path}: not UTF-8 ({error.reason})") from error


def _yaml(path: Path, load: Callable[[], Any]) -> Any:
    """`load()` of the file's YAML; any failure, a `!!python/` tag too (never run), is a RuleError with file:line."""
    try:
        return load()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else 0
        raise RuleError(f"{path}:{line}: invalid YAML: {error.problem or error.context}") from error
    except yaml.YAMLError as error:
        raise RuleError(f"{path}: invalid YAML: {error}") from error
    except RecursionError as error:
        raise RuleError(f"{path}: invalid YAML: nested too deeply") from error


def _validate(path: Path, node: yaml.Node, data: Any) -> None:
    import jsonschema  # only a rule text not validated before needs it: not imported at start-up

    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        where = _LineFinder(path, node).origin(list(error.absolute_path))
        location = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise RuleError(f"{where}: {location}: {error.message}")


class _LineFinder:
    """Maps a path inside the YAML document to the line it starts on."""

    def __init__(self, path: Path, root: yaml.Node) -> None:
        self.path = path
        self.root = root

    def origin(self, keys: list[Any]) -> Origin:
        node = self.root
        for key in keys:
            child = self._child(node, key)
            if child is None:
                break
            node = child
        return Origin(str(self.path), node.start_mark.line + 1)

    @staticmethod
    def _child(node: yaml.Node, key: Any) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == key:
                    return cast(yaml.Node, value_node)
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            return cast(yaml.Node, node.value[key])
        return None


def _dropped_objects(rule: Rule) -> list[str]:
    return [d.neutral_object for fix in rule.fixes for d in fix.drop.values() if d.neutral_object]


def _check_object(ruleset: RuleSet, name: str | None, origin: Origin) -> None:
    if name is not None and name not in ruleset.objects:
        raise RuleError(f"{origin}: unknown object '{name}' (defined objects: {', '.join(sorted(ruleset.objects))})")


def _member(spelled: str) -> tuple[str, str]:
    """`obj.name` -> (obj, name); `obj["key"]` -> (obj, '["key"]'), a dict entry."""
    if "[" in spelled:
        on, _, key = spelled.partition("[")
        return on, "[" + key
    on, _, name = spelled.partition(".")
    return on, name


def _when(spec: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    return {key: (value,) if isinstance(value, str) else tuple(value) for key, value in (spec or {}).items()}


def _creation(result: str, entry: dict[str, Any], origin: Origin, checked: bool) -> Creation:
    kind = next(k for k in ("call", "method", "attribute", "iterate") if k in entry)
    on, target = (None, entry[kind]) if kind == "call" else _member(entry[kind])
    signature = Signature.parse(entry.get("params"))
    when = _when(entry.get("when"))
    _check_params(signature, when, "when", origin)
    neutral_objects = dict(entry.get("neutral_objects", {}))
    _check_params(signature, neutral_objects, "neutral_objects", origin)
    neutral_values = {name: tuple(codes) for name, codes in entry.get("neutral_values", {}).items()}
    _check_params(signature, neutral_values, "neutral_values", origin)
    profile = dict(entry.get("profile", {}))
    _check_params(signature, profile, "profile", origin)
    if not checked:
        _check_expressions([code for codes in neutral_values.values() for code in codes], origin)
    return Creation(
        kind,
        target,
        on,
        result,
        signature,
        when,
        frozenset(entry.get("neutral", ())),
        neutral_objects,
        Safety(entry.get("safety", "safe")),
        entry.get("reason", ""),
        Template(entry["template"]) if "template" in entry else None,
        origin,
        neutral_values,
        profile,
    )


def _rule(provider: str, service: str, entry: dict[str, Any], origin: Origin, checked: bool = False) -> Rule:
    on = method = None
    if "method" in entry:
        on, method = entry["method"].split(".", 1)
    signature = Signature.parse(entry.get("params"))
    when = _when(entry.get("when"))
    _check_params(signature, when, "when", origin)
    fixes = tuple(_fix(spec, signature, origin, checked) for spec in entry.get("fix", ()))
    if not fixes and not entry.get("manual"):
        raise RuleError(f"{origin}: rule '{entry['id']}' has no fix, so it needs 'manual: <why>'")
    return Rule(
        entry["id"],
        provider,
        service,
        on,
        method,
        entry.get("call"),
        signature,
        when,
        entry["message"],
        entry.get("manual", ""),
        fixes,
        origin,
    )


def _fix(spec: dict[str, Any], signature: Signature, origin: Origin, checked: bool) -> FixVariant:
    safety = Safety(spec.get("safety", "safe"))
    if safety is not Safety.SAFE and not spec.get("reason"):
        raise RuleError(f"{origin}: a {safety} fix needs a 'reason' saying how behaviour may differ")
    drop = {
        name: DroppedArgument(Safety(d["safety"]), d["reason"], d.get("neutral_object"))
        for name, d in spec.get("drop", {}).items()
    }
    when = _when(spec.get("when"))
    named = [*spec.get("keywords", {}), *spec.get("dict_keywords", {}), *drop, *when]
    for name in named:
        if not signature.accepts_keyword(name):
            raise RuleError(f"{origin}: fix names '{name}', which is not a parameter of the rule's signature")
    result = spec.get("result", "any")
    iterated = result == "iterated" or bool(spec.get("iterated", False))
    return FixVariant(
        result,
        iterated,
        safety,
        spec.get("reason", ""),
        Template(spec["template"]),
        dict(spec.get("keywords", {})),
        {k: dict(v) for k, v in spec.get("dict_keywords", {}).items()},
        drop,
        when,
        tuple(tuple(group) for group in spec.get("same", ())),
        _patterns(spec, origin, checked),
    )


def _patterns(spec: dict[str, Any], origin: Origin, checked: bool) -> tuple[str, ...]:
    """The fix's `pattern` alternatives, each checked against its template (unless this text was before)."""
    given = spec.get("pattern", ())
    patterns = (given,) if isinstance(given, str) else tuple(given)
    if patterns and any(key in spec for key in ("result", "iterated", "keywords", "dict_keywords")):
        raise RuleError(
            f"{origin}: a fix with a 'pattern' takes no 'result', 'iterated', 'keywords' or 'dict_keywords'"
        )
    if not checked:
        _check_patterns(patterns, Template(spec["template"]), origin)
    return patterns


def _check_patterns(patterns: tuple[str, ...], template: Template, origin: Origin) -> None:
    # pattern.py parses with LibCST: only a rule text not validated before needs it, not every start-up
    from cloudshift.rules.pattern import PatternError, check_template

    for pattern in patterns:
        try:
            check_template(pattern, template)
        except PatternError as error:
            raise RuleError(f"{origin}: {error}") from error


def _check_expressions(codes: list[str], origin: Origin) -> None:
    import libcst as cst  # only a rule text not validated before needs the parser: not imported at start-up

    for code in codes:
        try:
            cst.parse_expression(code)
        except cst.ParserSyntaxError as error:
            raise RuleError(f"{origin}: neutral_values: {code!r} is not a Python expression") from error


def _check_params(signature: Signature, names: Iterable[str], key: str, origin: Origin) -> None:
    for name in names:
        if not signature.accepts_keyword(name):
            raise RuleError(f"{origin}: '{key}' names '{name}', which is not in 'params'")
