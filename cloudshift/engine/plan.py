"""Decide, for every match, whether and how it can be rewritten: the fix variant, its safety and why.

A fix never drops meaning silently. Arguments the template does not use must be listed as
dropped (with a safety and reason) or the fix is manual; the SDK object's own configuration
caps the safety; a call inside `try/except <SDK error>` is unsafe; and objects rewritten into
shim objects (a GCS bucket becoming a StorageClient) are rewritten as a group: every use of
the variable or `self` attribute, or none of them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import libcst as cst
from libcst.metadata import CodeRange

from cloudshift.engine.detect import Match
from cloudshift.engine.resolve import NONE, Resolver, Scope, SdkValue, Source, bind_arguments, subscript_key, when_holds
from cloudshift.model import ProfileEntry, Safety
from cloudshift.rules.pattern import PatternMatch, find_match, parse_pattern
from cloudshift.rules.ruleset import Creation, DroppedArgument, FixVariant, RuleSet
from cloudshift.rules.template import Template
from storage_shim.profiles import SECRET_KEYS

PASSED_AS_VALUE = "the SDK method is passed as a value (to a wrapper or callback); rewrite the call it makes by hand"
MAX_PROFILE_NAME = 32
_KEYS = SECRET_KEYS - {"connection_string"}  # profile settings that are access keys
UNBINDABLE = "the arguments cannot be bound statically (*args or **kwargs, or more than the SDK signature takes)"


@dataclass(frozen=True)
class Decision:
    """What the fix would do for one match at one safety level."""

    safety: Safety
    reason: str
    variant: FixVariant | None = None
    target: cst.CSTNode | None = None  # the expression (or first statement) the template replaces
    values: dict[str, cst.BaseExpression] = field(default_factory=dict)  # placeholder -> argument
    found: PatternMatch | None = None  # the code the variant's pattern matched, if it has one

    @property
    def uses_self(self) -> bool:
        return self.variant is not None and self.variant.template.uses_receiver

    @property
    def grouped(self) -> bool:
        """Whether applying this fix alone could break other code (shim objects, listing items)."""
        return self.uses_self or self.found is not None or (self.variant is not None and self.variant.iterated)


@dataclass(frozen=True)
class CreationFix:
    """A creation expression rewritten into its shim equivalent (`client.bucket(b)` -> `create_storage_client(b)`)."""

    creation: Creation
    node: cst.CSTNode
    values: dict[str, cst.BaseExpression]
    scope: Scope


@dataclass(frozen=True)
class FieldFix:
    """An SDK attribute or entry read (`blob.name`, `obj["Key"]`) that becomes a shim attribute."""

    read: cst.Attribute | cst.Subscript
    name: str  # the shim attribute


@dataclass
class Plan:
    """Everything the rewriter applies at one safety level."""

    decisions: dict[int, Decision]  # id(match.node) -> decision (applied or not)
    applied: list[Match]
    creations: dict[int, CreationFix]  # id(node) -> creation rewrite
    fields: dict[int, FieldFix]  # id(attribute or subscript node) -> the shim attribute it becomes
    targets: dict[int, tuple[Match, Decision]]  # id(target node) -> what replaces it
    profiles: dict[int, ProfileEntry] = field(default_factory=dict)  # id(target or creation node) -> its profile


class Planner:
    """Plans one module's fixes; `plan(level)` is called per safety level the caller allows."""

    def __init__(
        self,
        module: cst.Module,
        positions: Mapping[cst.CSTNode, CodeRange],
        parents: Mapping[cst.CSTNode, cst.CSTNode],
        resolver: Resolver,
        ruleset: RuleSet,
        matches: list[Match],
        field_maps: dict[str, dict[str, str]],
    ) -> None:
        self.module = module
        self.positions = positions
        self.resolver = resolver
        self.ruleset = ruleset
        self.matches = matches
        self.field_maps = field_maps
        self.parents = parents
        self.base = {id(m.node): self._decide(m) for m in matches}
        self._match_by_node = {id(m.node): m for m in matches}
        self._plans: dict[Safety, Plan] = {}

    def plan(self, level: Safety) -> Plan:
        """Fixes at or below `level`, with groups kept whole (computed once per level)."""
        if level not in self._plans:
            self._plans[level] = self._plan(level)
        return self._plans[level]

    def _plan(self, level: Safety) -> Plan:
        decisions = dict(self.base)
        for key, decision in decisions.items():
            if decision.safety > level:
                decisions[key] = Decision(Safety.MANUAL, decision.reason)
        groups = _GroupAnalysis(self, decisions)
        decisions = groups.settle()
        applied = [m for m in self.matches if decisions[id(m.node)].variant is not None]
        targets = {id(decisions[id(m.node)].target): (m, decisions[id(m.node)]) for m in applied}
        creations = groups.creation_fixes()
        profiles = {
            key: self._match_profile(match)
            for key, (match, decision) in targets.items()
            if decision.variant is not None and "shim" in decision.variant.template.placeholders
        }
        profiles.update(
            (key, self._creation_profile(fix))
            for key, fix in creations.items()
            if fix.creation.template is not None and "shim" in fix.creation.template.placeholders
        )
        return Plan(decisions, applied, creations, groups.field_fixes(), targets, profiles)

    def _match_profile(self, match: Match) -> ProfileEntry:
        """The profile a rewritten call names: its provider and what the receiver's creation configured."""
        settings = match.receiver.profile if match.receiver is not None else ()
        return self._profile_entry(self.ruleset.storage[match.rule.provider], settings)

    def _creation_profile(self, fix: CreationFix) -> ProfileEntry:
        assert isinstance(fix.node, cst.BaseExpression)
        value = self.resolver.sdk_value(fix.node, fix.scope)
        provider = self.ruleset.storage[self.ruleset.objects[fix.creation.result].provider]
        return self._profile_entry(provider, value.profile if value is not None else ())

    def _profile_entry(self, provider: str, settings: tuple[tuple[str, str], ...]) -> ProfileEntry:
        """The profile for what the SDK object was configured with, and the provider's own defaults."""
        inferred = dict(settings)
        defaults = self.ruleset.profile_defaults.get(provider, {})
        return profile_entry(provider, settings, tuple((k, v) for k, v in defaults.items() if k not in inferred))

    # one match, on its own
    def _decide(self, match: Match) -> Decision:
        if match.manual:
            return Decision(Safety.MANUAL, match.manual)
        if not match.is_call:
            return Decision(Safety.MANUAL, PASSED_AS_VALUE)
        if match.arguments is None:
            return Decision(Safety.MANUAL, UNBINDABLE)
        problems = []
        for variant in match.rule.fixes:
            decision = self._try_variant(match, variant)
            if decision.variant is not None:
                return self._with_context(match, decision)
            problems.append(decision.reason)
        specific = [problem for problem in problems if problem]
        return Decision(Safety.MANUAL, (specific or [match.rule.manual or "no fix applies to this use"])[0])

    def _try_variant(self, match: Match, variant: FixVariant) -> Decision:
        args = match.arguments or {}
        assert isinstance(match.node, cst.Call)
        if not when_holds(variant.when, args):
            return Decision(Safety.MANUAL, "")
        target, found = self._fix_target(match, variant)
        if target is None:
            return Decision(Safety.MANUAL, "")
        values, consumed, problem = self._placeholders(variant, args, match.scope)
        if values is None:
            return Decision(Safety.MANUAL, "")
        problem = problem or self._sdk_object_problem(values, match.scope)
        if found is None:
            problem = problem or _lost_comment_problem(target, values, match.node, variant.template)
        problem = problem or self._quote_problem(target, variant.template)
        if found is not None and not problem:
            problem = self._dropped_name_problem(found, variant.template, match.scope)
        if problem:
            return Decision(Safety.MANUAL, problem)
        for group in variant.same:
            nodes = self._same_nodes(group, values, args, found)
            codes = {_normalized(self.module.code_for_node(node)) for node in nodes}
            if len(codes) > 1 and any(name.startswith("$") for name in group):
                return Decision(Safety.MANUAL, "")  # the code is not the idiom the pattern spells
            if len(codes) > 1:
                return Decision(Safety.MANUAL, f"{' and '.join(group)} differ; the shim works within one bucket")
        safety, reason = Safety.SAFE, ""
        for name in args:
            if name in consumed:
                continue
            dropped = variant.drop.get(name)
            if dropped is None:
                return Decision(Safety.MANUAL, f"argument {name} has no shim equivalent")
            drop_safety, drop_reason = self._drop_safety(dropped, args[name], match.scope)
            if drop_safety > safety:
                safety, reason = drop_safety, drop_reason
        if variant.safety > safety:
            safety, reason = variant.safety, variant.reason
        if safety is Safety.MANUAL:
            return Decision(safety, reason)
        return Decision(safety, reason, variant, target, values, found)

    def _quote_problem(self, target: cst.CSTNode, template: Template) -> str:
        """Why the template cannot go inside the f-string around `target`: before Python 3.12 an
        f-string's expressions cannot hold its own quote or a backslash."""
        quotes = _enclosing_quotes(target, self.parents)
        written = re.sub(r"\{[^{}]*\}", "", template.text)  # the template's own text, placeholders aside
        clash = sorted({char for char in written if char == "\\" or any(char in quote for quote in quotes)})
        if not clash:
            return ""
        return (
            f"the call is inside an f-string and its fix would put {' and '.join(clash)} in it (valid only from "
            "Python 3.12): move the call out of the f-string, then fix again"
        )

    @staticmethod
    def _same_nodes(
        group: tuple[str, ...],
        values: dict[str, cst.BaseExpression],
        args: dict[str, cst.Arg],
        found: PatternMatch | None,
    ) -> list[cst.CSTNode]:
        """The code of each `same` entry that is there: a placeholder, a passed argument or a pattern's `$name`."""
        nodes: list[cst.CSTNode] = []
        for name in group:
            if name.startswith("$"):
                captured = found.captures.get(name[1:]) if found is not None else None
                nodes.extend([captured] if captured is not None else [])
            elif name in values or name in args:
                nodes.append(values[name] if name in values else args[name].value)
        return nodes

    def _fix_target(self, match: Match, variant: FixVariant) -> tuple[cst.CSTNode | None, PatternMatch | None]:
        """What the variant replaces: the code its pattern matches, else what its `result` names."""
        assert isinstance(match.node, cst.Call)
        if not variant.patterns:
            return self._result_target(match.node, variant), None
        for text in variant.patterns:
            found = find_match(
                parse_pattern(text),
                variant.template,
                match.node,
                self.parents,
                lambda node: self.resolver.dotted_name(node, match.scope),
            )
            if found is not None:
                return found.nodes[-1], found  # the rewriter replaces the last node, once every captured one is done
        return None, None

    def _dropped_name_problem(self, found: PatternMatch, template: Template, scope: Scope) -> str:
        """A name bound in the matched code that the template drops must not be read anywhere else."""
        kept = template.variables
        region = {id(node) for node in found.nodes}
        moved = {id(found.captures[name]) for name in kept}
        for name, node in found.captures.items():
            if name in kept or not self._binds(node):
                continue
            assert isinstance(node, cst.Name)
            bindings = self.resolver.bindings_of(node.value, scope)
            for load, load_scope in self.resolver.collector.names:
                if load.value != node.value or self.resolver.bindings_of(load.value, load_scope) is not bindings:
                    continue
                if not self._within(load, region, moved):
                    line = self.positions[load].start.line
                    return f"{node.value} is also used at line {line}, outside the code the fix replaces"
        return ""

    def _binds(self, node: cst.CSTNode) -> bool:
        """Whether `node` is a name being assigned (not an `except ... as` name, which ends with its handler)."""
        if not isinstance(node, cst.Name) or id(node) not in self.resolver.collector.store_nodes:
            return False
        holder = self.parents.get(node)
        return not (isinstance(holder, cst.AsName) and isinstance(self.parents.get(holder), cst.ExceptHandler))

    def _within(self, node: cst.CSTNode, region: set[int], excluded: set[int]) -> bool:
        """Whether `node` lies inside one of `region`'s nodes and outside all of `excluded`."""
        current: cst.CSTNode | None = node
        while current is not None:
            if id(current) in excluded:
                return False
            if id(current) in region:
                return True
            current = self.parents.get(current)
        return False

    def _drop_safety(self, dropped: DroppedArgument, arg: cst.Arg, scope: Scope) -> tuple[Safety, str]:
        """How safe dropping the argument is: its `neutral_object`'s own cap when it is that object."""
        value = self.resolver.sdk_value(arg.value, scope) if dropped.neutral_object else None
        if value is not None and value.object == dropped.neutral_object:
            return value.cap, value.cap_reason
        return dropped.safety, dropped.reason

    def _sdk_object_problem(self, values: dict[str, cst.BaseExpression], scope: Scope) -> str:
        """Templates take plain values (names, paths, data): an SDK object there would reach the shim."""
        for value in values.values():
            if self.resolver.sdk_value(value, scope) is not None:
                return f"{self.module.code_for_node(value)} is an SDK object where the shim takes a plain value"
        return ""

    def _placeholders(
        self, variant: FixVariant, args: dict[str, cst.Arg], scope: Scope
    ) -> tuple[dict[str, cst.BaseExpression] | None, set[str], str]:
        """Bind every placeholder and keyword of the variant: (values, consumed params, problem).

        Values are None when the template needs an argument the call does not pass.
        """
        values: dict[str, cst.BaseExpression] = {}
        consumed: set[str] = set(variant.when)
        dict_fields: dict[str, set[str]] = {}
        compared = [
            name
            for group in variant.same
            for name in group  # bound too, so `same` can compare them
            if not name.startswith("$")
        ]  # a pattern's capture, not a parameter
        for name in [*variant.template.placeholders, *compared]:
            if name in ("shim", "self"):
                continue
            param, _, key = name.partition(".")
            if param not in args:  # the variant does not apply, as when `when` fails; another one may
                return None, set(), ""
            consumed.add(param)
            if not key:
                values[name] = args[param].value
                continue
            entries = self._literal_entries(args[param].value, scope)
            if entries is None or key not in entries:
                return {}, set(), f"{param} is not a dict literal with a {key!r} entry"
            values[name] = entries[key]
            dict_fields.setdefault(param, set()).add(key)
        for param, used in dict_fields.items():  # every entry is read by the template or a dict keyword
            extra = sorted(
                set(dict_entries(args[param].value) or {}) - used - set(variant.dict_keywords.get(param, {}))
            )
            if extra:
                return {}, set(), f"{param} holds {', '.join(extra)}, which the shim cannot express"
        for param in variant.keywords:
            if param in args:
                consumed.add(param)
                values[f"keyword:{variant.keywords[param]}"] = args[param].value
        for param, mapping in variant.dict_keywords.items():
            if param not in args:
                continue
            entries = self._literal_entries(args[param].value, scope)
            if entries is None:
                return (
                    {},
                    set(),
                    (
                        f"{param} is not a dict literal or an SDK settings object built inline, "
                        "so its settings cannot be mapped"
                    ),
                )
            unknown = sorted(set(entries) - set(mapping) - dict_fields.get(param, set()))
            if unknown:
                return {}, set(), f"{param} holds {', '.join(unknown)}, which the shim cannot express"
            consumed.add(param)
            for key, keyword in mapping.items():
                if key in entries:
                    values[f"keyword:{keyword}"] = entries[key]
        return values, consumed, ""

    def _literal_entries(self, node: cst.BaseExpression, scope: Scope) -> dict[str, cst.BaseExpression] | None:
        """A dict literal's entries, or the keywords of an SDK settings class built inline.

        `ContentSettings(content_type="text/csv")` holds its settings as literally as a dict
        does; any other call is opaque.
        """
        if isinstance(node, cst.Call):
            dotted = self.resolver.dotted_name(node.func, scope) or ""
            if not self.ruleset.names_sdk(dotted):
                return None
        return dict_entries(node)

    def _result_target(self, call: cst.Call, variant: FixVariant) -> cst.BaseExpression | None:
        """The expression the fix replaces, given how the call's value is used; None if the use differs."""
        if variant.result == "ignored":
            return call if isinstance(self.parents.get(self._outer(call)), cst.Expr) else None
        target = call if variant.result in ("any", "iterated") else self._trailing_target(call, variant.result)
        if target is None or not variant.iterated:
            return target
        loop = self.parents.get(target)
        return target if isinstance(loop, (cst.For, cst.CompFor)) and loop.iter is target else None

    def _trailing_target(self, call: cst.Call, result: str) -> cst.BaseExpression | None:
        """The expression formed by the call and the trailing code `result` (`["Body"].read()`), if it is there."""
        wanted = _normalized("__result__" + result)
        node: cst.CSTNode = call
        for _ in range(6):
            parent = self.parents.get(node)
            if not isinstance(parent, cst.BaseExpression):
                return None
            node = parent
            code = _normalized(self.module.code_for_node(node.deep_replace(call, cst.Name("__result__"))))
            if code == wanted:
                return node
        return None

    def _outer(self, node: cst.CSTNode) -> cst.CSTNode:
        """The node itself, or the `await` around it."""
        parent = self.parents.get(node)
        return parent if isinstance(parent, cst.Await) else node

    def _with_context(self, match: Match, decision: Decision) -> Decision:
        safety, reason = decision.safety, decision.reason
        if match.receiver is not None:
            cap, why = match.receiver.cap, match.receiver.cap_reason
            if cap > safety:
                safety, reason = cap, why
            elif cap == safety is Safety.UNSAFE and why and why not in reason:  # each reason is said
                reason = f"{reason}; {why}" if reason else why
        caught = self._caught_sdk_error(decision.target or match.node, match.scope)
        if caught and safety is not Safety.MANUAL:  # said even when another reason already makes it unsafe
            handler = (
                f"the surrounding `except {caught}` will not catch the shim's errors "
                "(storage_shim.StorageError, NotFound)"
            )
            safety, reason = Safety.UNSAFE, f"{reason}; {handler}" if reason else handler
        if self._asynchronous(decision.target or match.node):
            safety, reason = Safety.MANUAL, "the call is awaited (an async SDK client); the shim's API is synchronous"
        if safety is Safety.MANUAL:
            return Decision(safety, reason)
        return Decision(safety, reason, decision.variant, decision.target, decision.values, decision.found)

    def _asynchronous(self, node: cst.CSTNode) -> bool:
        """Whether the value is awaited or iterated with `async for`: no shim method is awaitable."""
        parent = self.parents.get(node)
        if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
            return parent.asynchronous is not None
        return isinstance(parent, cst.Await)

    def _caught_sdk_error(self, node: cst.CSTNode, scope: Scope) -> str:
        child, parent = node, self.parents.get(node)
        while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            if isinstance(parent, cst.Try) and child is parent.body:
                for handler in parent.handlers:
                    name = self._sdk_exception(handler.type, scope)
                    if name:
                        return name
            child, parent = parent, self.parents.get(parent)
        return ""

    def _sdk_exception(self, node: cst.BaseExpression | None, scope: Scope) -> str:
        if node is None:
            return ""
        candidates = [e.value for e in node.elements] if isinstance(node, cst.Tuple) else [node]
        for candidate in candidates:
            dotted = self.resolver.dotted_name(candidate, scope)
            if dotted in self.ruleset.exceptions:
                return self.module.code_for_node(candidate)
            owner = candidate.value if isinstance(candidate, cst.Attribute) else None
            if isinstance(owner, cst.Attribute) and self.resolver.sdk_value(owner.value, scope) is not None:
                return self.module.code_for_node(candidate)  # client.exceptions.X
        return ""


class _GroupAnalysis:
    """Keeps shim-object rewrites whole: a variable becomes a shim object only if all its uses can follow."""

    def __init__(self, planner: Planner, decisions: dict[int, Decision]) -> None:
        self.p = planner
        self.decisions = decisions
        self.resolver = planner.resolver
        self.blocked: dict[int, str] = {}  # id(bindings list) -> why the group stays as it is
        self._sdk_groups = {id(bindings) for bindings, _ in self.resolver.sdk_groups()}  # the ones that can convert
        self._creation_cache: dict[int, CreationFix | None] = {}

    def settle(self) -> dict[int, Decision]:
        """Demote fixes until every applied `{self}` fix has a rewritable receiver (a fixed point)."""
        changed = True
        while changed:
            changed = False
            for key, decision in list(self.decisions.items()):
                if decision.variant is None:
                    continue
                match = self.p._match_by_node[key]
                problem = self._decision_problem(match, decision)
                if problem:
                    self.decisions[key] = Decision(Safety.MANUAL, problem)
                    changed = True
            changed = self._block_groups() or changed
        return self.decisions

    def _decision_problem(self, match: Match, decision: Decision) -> str:
        """Why an otherwise applicable fix cannot be applied with the rest of the module, or ""."""
        assert isinstance(match.node, cst.Call)
        if decision.uses_self:
            assert isinstance(match.node.func, cst.Attribute)
            problem = self._receiver_problem(match.node.func.value, match.scope)
            if problem:
                return problem
        creates_sdk_object = decision.target is match.node and self.resolver.sdk_value(match.node, match.scope)
        if creates_sdk_object and not self._consumer_ok(match.node, match.scope):
            return "its result is an SDK object used in a way the rewrite cannot follow"
        if decision.variant is not None and decision.variant.iterated:
            assert decision.target is not None
            loop = self.p.parents[decision.target]
            assert isinstance(loop, (cst.For, cst.CompFor))
            if not isinstance(loop.target, cst.Name):
                return "the loop target is not a single name"
            bindings = self.resolver.bindings_of(loop.target.value, match.scope)
            if bindings is None or len(bindings) != 1:
                return f"{loop.target.value} is also bound elsewhere"
            return self.blocked.get(id(bindings), "")
        if decision.found is not None:
            return self._moved_loop_problem(decision, match.scope)
        return ""

    def _moved_loop_problem(self, decision: Decision, scope: Scope) -> str:
        """A loop target the pattern's template keeps must be one name whose every use can follow."""
        assert decision.found is not None and decision.variant is not None
        for name in decision.variant.template.variables:
            node = decision.found.captures[name]
            loop = self.p.parents.get(node)
            if not isinstance(loop, (cst.For, cst.CompFor)) or loop.target is not node:
                continue
            if not isinstance(node, cst.Name):
                return "the loop target is not a single name"
            bindings = self.resolver.bindings_of(node.value, scope)
            if bindings is None or len(bindings) != 1:
                return f"{node.value} is also bound elsewhere"
            if self.blocked.get(id(bindings)):
                return self.blocked[id(bindings)]
        return ""

    # receivers
    def _receiver_problem(self, node: cst.BaseExpression, scope: Scope) -> str:
        """Why `node` cannot become a shim object, or "" when it can."""
        if isinstance(node, cst.Call):
            fix = self._creation_fix(node, scope)
            if fix is None:
                return "the object it is called on has no shim equivalent"
            return self._template_receiver_problem(fix, node, scope)
        if isinstance(node, cst.Attribute):
            owner = self.resolver.sdk_value(node.value, scope)
            if owner is not None and self._creation_fix(node, scope) is not None:
                return self._receiver_problem(node.value, scope)
        bindings = self._group_of(node, scope)
        if bindings is None or id(bindings) not in self._sdk_groups:
            return (
                "the object it is called on is passed in, returned by a function or property, or computed; "
                "rewrite it where it is created"
            )
        return self.blocked.get(id(bindings), "")

    def _template_receiver_problem(self, fix: CreationFix, node: cst.CSTNode, scope: Scope) -> str:
        if fix.creation.template and fix.creation.template.uses_receiver:
            inner = node.func.value if isinstance(node, cst.Call) else node.value  # type: ignore[attr-defined]
            return self._receiver_problem(inner, scope)
        return ""

    def _creation_fix(self, node: cst.CSTNode, scope: Scope) -> CreationFix | None:
        if id(node) in self._creation_cache:
            return self._creation_cache[id(node)]
        fix = self._find_creation_fix(node, scope)
        self._creation_cache[id(node)] = fix
        return fix

    def _find_creation_fix(self, node: cst.CSTNode, scope: Scope) -> CreationFix | None:
        """The template rewrite of a creation expression (constructor, factory method or attribute)."""
        candidates: list[Creation] = []
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            owner = self.resolver.sdk_value(node.func.value, scope)
            if owner is not None:
                candidates = self._member_creations(owner, node.func.attr.value, "method")
        if isinstance(node, cst.Call) and not candidates:
            dotted = self.resolver.dotted_name(node.func, scope)
            candidates = list(self.p.ruleset.creations_by_call.get(dotted or "", ()))
        if isinstance(node, cst.Attribute):
            owner = self.resolver.sdk_value(node.value, scope)
            if owner is not None:
                candidates = self._member_creations(owner, node.attr.value, "attribute")
        for creation in candidates:
            if creation.template is None:
                continue
            args = bind_arguments(creation.signature, node.args) if isinstance(node, cst.Call) else {}
            if args is None or not when_holds(creation.when, args):
                continue
            names = {n for n in creation.template.placeholders if n not in ("shim", "self")}
            values = {n: args[n].value for n in names if n in args}
            if len(values) < len(names) or self.p._sdk_object_problem(values, scope):
                continue
            return CreationFix(creation, node, values, scope)
        return None

    def _member_creations(self, owner: SdkValue, member: str, kind: str) -> list[Creation]:
        return [c for c in self.p.ruleset.creations_by_member.get((owner.object, member), ()) if c.kind == kind]

    # groups: all bindings of one name in one scope, or of one attribute of one class
    def _group_of(self, node: cst.BaseExpression, scope: Scope) -> list[Source] | None:
        if isinstance(node, cst.Name):
            return self.resolver.bindings_of(node.value, scope)
        if isinstance(node, cst.Attribute):
            return self.resolver.self_attribute_bindings(node, scope)
        return None

    def _block_groups(self) -> bool:
        """Block every group with a source or a use that cannot follow; True if anything changed."""
        changed = False
        for bindings, uses in self.resolver.sdk_groups():
            if id(bindings) in self.blocked:
                continue
            problem = self._sources_problem(bindings) or self._uses_problem(uses, self._listed(bindings))
            if problem:
                self.blocked[id(bindings)] = problem
                changed = True
        return changed

    def _listed(self, bindings: list[Source]) -> bool:
        """Whether the group is the loop variable over a rewritten listing (its items become ObjectInfo)."""
        if len(bindings) != 1 or bindings[0].kind != "iter" or bindings[0].node is None:
            return False
        iterable = bindings[0].node
        return any(
            (d.target is iterable and d.variant is not None and d.variant.iterated) or self._relisted(d, iterable)
            for d in self.decisions.values()
        )

    def _relisted(self, decision: Decision, iterable: cst.CSTNode) -> bool:
        """Whether a pattern fix keeps the loop over `iterable` but makes it iterate a shim listing."""
        if decision.found is None or decision.variant is None:
            return False
        loop = self.p.parents.get(iterable)
        if not isinstance(loop, (cst.For, cst.CompFor)) or loop.iter is not iterable:
            return False
        kept = decision.variant.template.variables
        return any(decision.found.captures.get(name) is loop.target for name in kept)

    def _sources_problem(self, bindings: list[Source]) -> str:
        if self._listed(bindings):
            return ""
        for source in bindings:
            if source.kind == "expr" and isinstance(source.node, cst.BaseExpression) and source.scope is not None:
                value = self.resolver.infer(source.node, source.scope)
                if value is NONE:
                    continue
                fix = self._creation_fix(source.node, source.scope)
                if fix is None:
                    return "it is assigned a value that has no shim equivalent"
                problem = self._template_receiver_problem(fix, source.node, source.scope)
                if problem:
                    return problem
                continue
            return "it is bound in a way the rewrite cannot follow (parameter, loop or annotation)"
        return ""

    def _uses_problem(self, uses: list[tuple[cst.CSTNode, Scope]], fields_only: bool) -> str:
        for node, scope in uses:
            problem = self._use_problem(node, scope, fields_only)
            if problem:
                return problem
        return ""

    def _use_problem(self, node: cst.CSTNode, scope: Scope, fields_only: bool) -> str:
        parent = self.p.parents.get(node)
        line = self.p.positions[node].start.line
        name = self.p.module.code_for_node(node)
        if fields_only:
            if isinstance(parent, (cst.Attribute, cst.Subscript)) and self._field_name(parent, scope) is not None:
                return ""
            return f"{name} at line {line} is used as more than a listing entry (only its name and size carry over)"
        if isinstance(parent, cst.Attribute) and parent.value is node:
            grand = self.p.parents.get(parent)
            if isinstance(grand, cst.Call) and grand.func is parent:
                decision = self.decisions.get(id(grand))
                if decision is not None and decision.uses_self:
                    return ""
                if self._creation_fix(grand, scope) is not None and self._consumer_ok(grand, scope):
                    return ""
                reason = decision.reason if decision is not None else "it has no shim equivalent"
                return f"{name}.{parent.attr.value}() at line {line} cannot be rewritten: {reason}"
            if self._field_name(parent, scope) is not None:
                return ""
            if self._creation_fix(parent, scope) is not None and self._consumer_ok(parent, scope):
                return ""
            return f"{name}.{parent.attr.value} at line {line} has no shim equivalent"
        return f"{name} is used at line {line} in a way the rewrite cannot follow"

    def _consumer_ok(self, node: cst.CSTNode, scope: Scope) -> bool:
        """A creation rewritten inline is fine when what consumes its result is rewritten too."""
        parent = self.p.parents.get(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            grand = self.p.parents.get(parent)
            decision = self.decisions.get(id(grand)) if grand is not None else None
            if decision is not None and decision.uses_self:
                return True
            if grand is not None and self._creation_fix(grand, scope) is not None:
                return self._consumer_ok(grand, scope)
            return self._field_name(parent, scope) is not None
        if isinstance(parent, cst.Assign):
            target = parent.targets[0].target if len(parent.targets) == 1 else None
            bindings = self._group_of(target, scope) if target is not None else None
            return bindings is not None and id(bindings) not in self.blocked
        return False

    def _field_name(self, read: cst.Attribute | cst.Subscript, scope: Scope) -> str | None:
        """The shim attribute an SDK attribute read (`blob.name`) or dict entry read (`obj["Key"]`) becomes."""
        owner = self.resolver.sdk_value(read.value, scope)
        member = read.attr.value if isinstance(read, cst.Attribute) else subscript_key(read)
        if owner is None or member is None:
            return None
        return self.p.field_maps.get(owner.object, {}).get(member)

    # results
    def creation_fixes(self) -> dict[int, CreationFix]:
        fixes: dict[int, CreationFix] = {}
        for bindings, _uses in self.resolver.sdk_groups():
            if id(bindings) in self.blocked:
                continue
            for source in bindings:
                if source.kind == "expr" and source.node is not None and source.scope is not None:
                    self._collect_chain(source.node, source.scope, fixes)
        for key, decision in self.decisions.items():
            if decision.uses_self:
                match = self.p._match_by_node[key]
                self._collect_chain(match.node.func.value, match.scope, fixes)  # type: ignore[union-attr]
        return fixes

    def _collect_chain(self, node: cst.CSTNode, scope: Scope, fixes: dict[int, CreationFix]) -> None:
        fix = self._creation_fix(node, scope) if isinstance(node, (cst.Call, cst.Attribute)) else None
        if fix is None:
            return
        fixes[id(node)] = fix
        if fix.creation.template and fix.creation.template.uses_receiver:
            inner = node.func.value if isinstance(node, cst.Call) else node.value  # type: ignore[attr-defined]
            self._collect_chain(inner, scope, fixes)

    def field_fixes(self) -> dict[int, FieldFix]:
        fields: dict[int, FieldFix] = {}
        for bindings, uses in self.resolver.sdk_groups():
            if id(bindings) in self.blocked:
                continue
            for node, scope in uses:
                parent = self.p.parents.get(node)
                if isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is node:
                    name = self._field_name(parent, scope)
                    if name is not None:
                        fields[id(parent)] = FieldFix(parent, name)
        return fields


def profile_entry(
    provider: str, settings: tuple[tuple[str, str], ...], defaults: tuple[tuple[str, str], ...] = ()
) -> ProfileEntry:
    """The profile for a provider and settings, named after them: `s3`, `s3-eu-west-1`, `s3-minio-internal`.

    A long name is shortened and given a digest of the settings, so a name always means one
    configuration. The provider's defaults are the same in every profile of the provider, so they
    are not part of the name, nor are the variables holding access keys (they do not say where the data
    is, as a connection string does), which the digest then stands for.
    """
    words = [_name_word(value) for key, value in settings if key not in _KEYS]
    name = "-".join([provider, *filter(None, words)])
    if len(name) > MAX_PROFILE_NAME or len(words) < len(settings):
        digest = hashlib.sha256(repr(settings).encode()).hexdigest()[:6]
        name = f"{name[: MAX_PROFILE_NAME - 7].rstrip('-')}-{digest}"
    return ProfileEntry(name, provider, settings, defaults)


def _name_word(value: str) -> str:
    """A setting as part of a profile name: an endpoint by its host, a variable by its name."""
    host = urlsplit(value).hostname if "://" in value else None
    text = host.removeprefix("www.") if host else value.removeprefix("env:")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _lost_comment_problem(
    target: cst.CSTNode, values: dict[str, cst.BaseExpression], call: cst.Call, template: Template
) -> str:
    """Why a template would drop a comment written inside the replaced code, or "".

    The arguments a template copies (and the receiver, for `{self}`) carry their own comments;
    a comment between arguments or in dropped code has nowhere to go.
    """
    copied = list(values.values())
    if template.uses_receiver and isinstance(call.func, cst.Attribute):
        copied.append(call.func.value)
    carried = set().union(*(_comment_ids(node) for node in copied))
    if _comment_ids(target) - carried:
        return "a comment inside the call would be lost: move it above the statement, then fix again"
    return ""


def _enclosing_quotes(node: cst.CSTNode, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> list[str]:
    """The quotes of the f-strings `node` sits inside, innermost first."""
    quotes: list[str] = []
    current = parents.get(node)
    while current is not None and not isinstance(current, cst.BaseStatement):
        if isinstance(current, cst.FormattedString):
            quotes.append(current.quote)
        current = parents.get(current)
    return quotes


def _comment_ids(node: cst.CSTNode) -> set[int]:
    """The comments anywhere inside `node`, by identity."""
    stack, found = [node], set()
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Comment):
            found.add(id(current))
        stack.extend(current.children)
    return found


def dict_entries(node: cst.BaseExpression) -> dict[str, cst.BaseExpression] | None:
    """The entries of a dict literal with plain string keys, or a call's keyword arguments, else None."""
    if isinstance(node, cst.Call):
        if any(arg.keyword is None or arg.star for arg in node.args):
            return None
        return {arg.keyword.value: arg.value for arg in node.args if arg.keyword is not None}
    if not isinstance(node, cst.Dict):
        return None
    entries: dict[str, cst.BaseExpression] = {}
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            return None
        key = element.key
        if not isinstance(key, cst.SimpleString) or not isinstance(key.evaluated_value, str):
            return None
        entries[key.evaluated_value] = element.value
    return entries


def _normalized(code: str) -> str:
    return re.sub(r"\s+", "", code).replace("'", '"')
