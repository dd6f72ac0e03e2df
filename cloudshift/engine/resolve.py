"""Which expressions are SDK objects: imports, aliases, assignments, `self.x`, helpers, parameters.

One pass collects every binding of the module (imports, assignments, parameters, `with ... as`,
`for` targets, `self.attr = ...` in any method, function returns and call sites). Inference then
walks expressions lazily and memoised. It is flow-insensitive but conservative: a name is an SDK
object only when every value bound to it in its scope is the same kind of SDK object (or None),
which keeps look-alikes (`s3 = MyUploader()`) out. Nothing is imported or run.
"""

from __future__ import annotations

import ast
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import libcst as cst
from libcst.metadata import CodeRange

from cloudshift.engine.infer import ANNOTATED_ONE_OF, Program, Sdk
from cloudshift.engine.parse import NoFieldHooks, ParsedModule
from cloudshift.engine.summarize import ModuleSummary
from cloudshift.model import Safety
from cloudshift.rules.pattern import matches_expression
from cloudshift.rules.ruleset import Creation, RuleSet, Signature
from storage_shim.profiles import SECRET_KEYS


@dataclass(frozen=True)
class SdkValue:
    """An expression known to be an SDK object of kind `object`."""

    object: str
    created_by: cst.CSTNode | None  # the creating expression, when known
    cap: Safety = Safety.SAFE  # the most a fix on this object may be
    cap_reason: str = ""
    certain: bool = True  # False: a factory whose service name is not a literal (only distinctive methods match)
    confident: bool = True  # False: some values bound on the way were unknown (optimistic binding)
    shaped: bool = False  # True: recognised only by how a call of it is spelled (botocore's keyword arguments)
    profile: tuple[tuple[str, str], ...] = ()  # storage profile settings its creation gave it (region, endpoint)

    def capped(self, safety: Safety, reason: str) -> SdkValue:
        if safety <= self.cap:
            return self
        return replace(self, cap=safety, cap_reason=reason)


@dataclass(frozen=True)
class QualName:
    """A module, class or function reached through imports, spelled by its dotted name."""

    dotted: str


@dataclass(frozen=True)
class BoundMember:
    """`obj.name` where obj is an SDK object; becomes something when called or iterated."""

    owner: SdkValue
    name: str


@dataclass(frozen=True)
class Iterable:
    """The result of a call whose items are SDK objects (`bucket.list_blobs()`)."""

    item: SdkValue


@dataclass(eq=False)
class Function:
    node: cst.FunctionDef | cst.Lambda
    scope: Scope  # the function's own scope
    owner: ClassInfo | None  # set for methods
    returns: list[cst.BaseExpression] = field(default_factory=list)

    @property
    def params(self) -> list[cst.Param]:
        p = self.node.params
        return [*p.posonly_params, *p.params, *p.kwonly_params]

    def is_method(self) -> bool:
        if self.owner is None or not isinstance(self.node, cst.FunctionDef):
            return False
        return not any(_decorator_name(d) == "staticmethod" for d in self.node.decorators)

    def is_property(self) -> bool:
        """`@property` or `@functools.cached_property`: reading the attribute calls the method."""
        return (
            isinstance(self.node, cst.FunctionDef)
            and self.is_method()
            and any(_decorator_name(d) in ("property", "cached_property") for d in self.node.decorators)
        )


@dataclass(frozen=True)
class FunctionRef:
    function: Function


@dataclass(eq=False)
class ClassInfo:
    node: cst.ClassDef
    scope: Scope  # the scope the class is defined in
    attributes: dict[str, list[Source]] = field(default_factory=dict)
    methods: dict[str, Function] = field(default_factory=dict)


@dataclass(frozen=True)
class ClassRef:
    info: ClassInfo


@dataclass(frozen=True)
class Instance:
    info: ClassInfo


class _NoneValue:
    """The literal None: it unifies with anything (`client = None` before the real assignment)."""


NONE = _NoneValue()

Value = SdkValue | QualName | BoundMember | Iterable | FunctionRef | ClassRef | Instance | _NoneValue | None


@dataclass(frozen=True)
class Source:
    """One thing bound to a name: how to infer it and in which scope."""

    kind: str  # import | expr | annotated | iter | with | param | def | class | unknown
    node: cst.CSTNode | None
    scope: Scope | None
    dotted: str = ""
    function: Function | None = None
    info: ClassInfo | None = None


UNKNOWN = Source("unknown", None, None)


@dataclass(eq=False)
class Scope:
    kind: str  # module | class | function
    parent: Scope | None
    function: Function | None = None
    bindings: dict[str, list[Source]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)

    def bind(self, name: str, source: Source) -> None:
        target = self.module() if name in self.global_names else self
        target.bindings.setdefault(name, []).append(source)

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope


@dataclass(frozen=True)
class CallSite:
    node: cst.Call
    scope: Scope


@dataclass(frozen=True)
class AttributeUse:
    """An attribute read that is not the callee of a call (`retry(client.get_object)`)."""

    node: cst.Attribute
    scope: Scope


class Collector(NoFieldHooks, cst.CSTVisitor):
    """Records scopes, bindings, classes, functions, calls and attribute reads in one pass."""

    def __init__(self, package: str = "") -> None:
        self.package = package  # the package relative imports start from ("" for a top-level module)
        self.module_scope = Scope("module", None)
        self.stack: list[Scope] = [self.module_scope]
        self.class_stack: list[ClassInfo] = []
        self.classes: dict[cst.ClassDef, ClassInfo] = {}
        self.functions: dict[cst.CSTNode, Function] = {}
        self.calls: list[CallSite] = []
        self.attributes: list[AttributeUse] = []
        self.callee_nodes: set[int] = set()
        self.store_nodes: set[int] = set()
        self.argument_values: set[int] = set()  # expressions passed as call arguments
        self.names: list[tuple[cst.Name, Scope]] = []
        self.assignments: list[tuple[cst.Assign, Scope]] = []
        self._not_loads: set[int] = set()

    @property
    def scope(self) -> Scope:
        return self.stack[-1]

    # imports
    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            dotted = _dotted(alias.name)
            if alias.asname is not None:
                self.scope.bind(_name_of(alias.asname.name), Source("import", None, None, dotted))
            else:
                root = dotted.split(".")[0]
                self.scope.bind(root, Source("import", None, None, root))
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if isinstance(node.names, cst.ImportStar):
            return False
        module = self._absolute_module(node)
        if module is None:
            return False
        for alias in node.names:
            name = _dotted(alias.name)
            local = _name_of(alias.asname.name) if alias.asname is not None else name
            self.scope.bind(local, Source("import", None, None, f"{module}.{name}"))
        return False

    def _absolute_module(self, node: cst.ImportFrom) -> str | None:
        """The module a `from ... import` names, with relative imports made absolute when possible."""
        named = _dotted(node.module) if node.module is not None else ""
        if not node.relative:
            return named or None
        base = self.package.split(".") if self.package else []
        up = len(node.relative) - 1
        if up > len(base) or (not base and not named):
            return None
        parts = base[: len(base) - up] + ([named] if named else [])
        return ".".join(parts) or None

    # scopes
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._not_loads.add(id(node.name))
        info = ClassInfo(node, self.scope)
        self.classes[node] = info
        self.scope.bind(node.name.value, Source("class", node, self.scope, info=info))
        self.class_stack.append(info)
        self.stack.append(Scope("class", self.scope))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        class_scope = self.stack.pop()
        info = self.class_stack.pop()
        for name, sources in class_scope.bindings.items():
            info.attributes.setdefault(name, []).extend(sources)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._not_loads.add(id(node.name))
        outer = self.scope
        owner = self.class_stack[-1] if outer.kind == "class" else None
        self._enter_function(node, owner)
        outer.bind(node.name.value, Source("def", node, outer, function=self.functions[node]))
        if owner is not None:
            owner.methods[node.name.value] = self.functions[node]

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter_function(node, None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.stack.pop()

    def _enter_function(self, node: cst.FunctionDef | cst.Lambda, owner: ClassInfo | None) -> None:
        scope = Scope("function", self.scope)
        function = Function(node, scope, owner)
        scope.function = function
        self.functions[node] = function
        for param in [*node.params.posonly_params, *node.params.params, *node.params.kwonly_params]:
            self._not_loads.add(id(param.name))
            scope.bind(param.name.value, Source("param", param, scope, function=function))
        for star in (node.params.star_arg, node.params.star_kwarg):
            if isinstance(star, cst.Param):
                self._not_loads.add(id(star.name))
                scope.bind(star.name.value, UNKNOWN)
        if isinstance(node, cst.Lambda):
            function.returns.append(node.body)
        self.stack.append(scope)

    def visit_Global(self, node: cst.Global) -> bool:
        self.scope.global_names.update(item.name.value for item in node.names)
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        function = self.scope.function
        if function is not None and node.value is not None:
            function.returns.append(node.value)

    # bindings
    def visit_Assign(self, node: cst.Assign) -> None:
        self.assignments.append((node, self.scope))
        for target in node.targets:
            self._bind_target(target.target, Source("expr", node.value, self.scope))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(node.target, Source("annotated", node, self.scope))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, UNKNOWN)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, Source("expr", node.value, self.scope))

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, Source("iter", node.iter, self.scope))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, Source("iter", node.iter, self.scope))

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, Source("with", node.item, self.scope))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind_target(node.name.name, UNKNOWN)

    def _bind_target(self, target: cst.BaseExpression, source: Source) -> None:
        self.store_nodes.add(id(target))
        if isinstance(target, cst.Name):
            self.scope.bind(target.value, source)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                inner = element.value.value if isinstance(element.value, cst.StarredElement) else element.value
                self._bind_target(inner, UNKNOWN)
        elif isinstance(target, cst.Attribute):
            self._bind_self_attribute(target, source)

    def _bind_self_attribute(self, target: cst.Attribute, source: Source) -> None:
        function = self.scope.function
        if function is None or function.owner is None or not isinstance(target.value, cst.Name):
            return
        if function.is_method() and function.params and target.value.value == function.params[0].name.value:
            function.owner.attributes.setdefault(target.attr.value, []).append(source)

    # uses
    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(CallSite(node, self.scope))
        self.callee_nodes.add(id(node.func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_loads.add(id(node.attr))
        self.attributes.append(AttributeUse(node, self.scope))

    def visit_Arg(self, node: cst.Arg) -> None:
        self.argument_values.add(id(node.value))
        if node.keyword is not None:
            self._not_loads.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self._not_loads and id(node) not in self.store_nodes:
            self.names.append((node, self.scope))


class Resolver:
    """Answers "what is this expression?" for one module, lazily and memoised."""

    def __init__(
        self,
        module: cst.Module,
        ruleset: RuleSet,
        module_name: str = "",
        is_package: bool = False,
        facts: Facts | None = None,
    ) -> None:
        self.ruleset = ruleset
        self.facts = facts  # what whole-program resolution found, for what this module alone cannot tell
        package = module_name if is_package else module_name.rpartition(".")[0]
        self.collector = Collector(package)
        module.visit(self.collector)
        self._memo: dict[tuple[int, int], Value] = {}
        self._in_progress: set[tuple[int, int]] = set()
        self._call_sites: dict[str | None, list[CallSite]] | None = None  # by the callee's name
        self._groups: list[tuple[list[Source], list[tuple[cst.CSTNode, Scope]]]] | None = None
        self._type_names = {dotted.rsplit(".", 1)[-1] for dotted in ruleset.types}

    # public API
    @property
    def calls(self) -> list[CallSite]:
        return self.collector.calls

    def attribute_reads(self) -> Iterator[AttributeUse]:
        """Attribute reads that are neither called nor assigned to."""
        skip = self.collector.callee_nodes | self.collector.store_nodes
        return (use for use in self.collector.attributes if id(use.node) not in skip)

    def bindings_of(self, name: str, scope: Scope) -> list[Source] | None:
        """Every source bound to `name` as seen from `scope` (the list object identifies the group)."""
        return self._lookup(name, scope)

    def self_attribute_bindings(self, node: cst.Attribute, scope: Scope) -> list[Source] | None:
        """For `self.attr`: the sources of that attribute across the class's methods."""
        owner = self.infer(node.value, scope)
        if isinstance(owner, Instance):
            return owner.info.attributes.get(node.attr.value)
        return None

    def sdk_groups(self) -> list[tuple[list[Source], list[tuple[cst.CSTNode, Scope]]]]:
        """Every name or `self` attribute that holds an SDK object, with all its loads."""
        if self._groups is None:
            groups: dict[int, tuple[list[Source], list[tuple[cst.CSTNode, Scope]]]] = {}
            for bindings, node, scope in self.loads():
                self._add_group_use(groups, bindings, node, scope)
            self._groups = list(groups.values())
        return self._groups

    def loads(self) -> Iterator[tuple[list[Source] | None, cst.CSTNode, Scope]]:
        """Every read of a name or a `self` attribute, with the bindings it reads (None when unbound here)."""
        for name, scope in self.collector.names:
            yield self.bindings_of(name.value, scope), name, scope
        for use in self.attribute_reads():
            yield self.self_attribute_bindings(use.node, use.scope), use.node, use.scope

    def _add_group_use(
        self,
        groups: dict[int, tuple[list[Source], list[tuple[cst.CSTNode, Scope]]]],
        bindings: list[Source] | None,
        node: cst.CSTNode,
        scope: Scope,
    ) -> None:
        if bindings is None:
            return
        if id(bindings) not in groups:
            if not isinstance(self._unify_sources(bindings), SdkValue):
                return
            groups[id(bindings)] = (bindings, [])
        groups[id(bindings)][1].append((node, scope))

    def sdk_assignments(self) -> Iterator[tuple[list[Source], cst.Assign]]:
        """`name = <SDK object>` and `self.attr = <SDK object>` statements, with the group they bind."""
        for statement, scope in self.collector.assignments:
            if len(statement.targets) != 1 or self.sdk_value(statement.value, scope) is None:
                continue
            target = statement.targets[0].target
            if isinstance(target, cst.Name):
                bindings = self.bindings_of(target.value, scope)
            elif isinstance(target, cst.Attribute):
                bindings = self.self_attribute_bindings(target, scope)
            else:
                bindings = None
            if bindings is not None:
                yield bindings, statement

    def constant_setting(self, name: str, key: str) -> str | None:
        """The storage-profile setting a top-level name of this module holds (for a module that imports it)."""
        return self._constant_setting(key, cst.Name(name), self.collector.module_scope, 0)

    def _qualified(self, dotted: str) -> Value:
        """A dotted name reached through imports (other modules' names come in as facts)."""
        return QualName(dotted)

    def sdk_value(self, node: cst.BaseExpression, scope: Scope) -> SdkValue | None:
        value = self.infer(node, scope)
        return value if isinstance(value, SdkValue) else None

    def dotted_name(self, node: cst.BaseExpression, scope: Scope) -> str | None:
        value = self.infer(node, scope)
        return value.dotted if isinstance(value, QualName) else None

    def infer(self, node: cst.CSTNode, scope: Scope) -> Value:
        key = (id(node), id(scope))
        if key in self._memo:
            return self._memo[key]
        if key in self._in_progress:
            return None
        self._in_progress.add(key)
        try:
            value = self._infer(node, scope)
            if not isinstance(value, SdkValue) and self.facts is not None:
                value = self.facts.sdk(node) or value
        finally:
            self._in_progress.discard(key)
        self._memo[key] = value
        return value

    # expressions
    def _infer(self, node: cst.CSTNode, scope: Scope) -> Value:
        if isinstance(node, cst.Name):
            if node.value == "None":
                return NONE
            found = self._lookup(node.value, scope)
            return self._unify_sources(found) if found is not None else None
        if isinstance(node, cst.Attribute):
            return self._infer_attribute(node, scope)
        if isinstance(node, cst.Subscript):
            return self._infer_subscript(node, scope)
        if isinstance(node, cst.Call):
            return self._infer_call(node, scope)
        if isinstance(node, cst.Await):
            return self.infer(node.expression, scope)
        if isinstance(node, cst.IfExp):
            return _unify([self.infer(node.body, scope), self.infer(node.orelse, scope)])
        if isinstance(node, cst.BooleanOperation):
            sides = [self.infer(node.left, scope), self.infer(node.right, scope)]
            return _unify([side for side in sides if side is not None])
        if isinstance(node, cst.NamedExpr):
            return self.infer(node.value, scope)
        return None

    def _infer_attribute(self, node: cst.Attribute, scope: Scope) -> Value:
        base = self.infer(node.value, scope)
        name = node.attr.value
        if isinstance(base, QualName):
            return self._qualified(f"{base.dotted}.{name}")
        if isinstance(base, SdkValue):
            read = id(node) not in self.collector.callee_nodes
            for creation in self.ruleset.creations_by_member.get((base.object, name), ()):
                if creation.kind == "attribute":
                    return self._derive(base, creation, node)
                if creation.kind == "iterate" and read:  # an attribute whose items are SDK objects
                    return Iterable(self._derive(base, creation, node))
            return BoundMember(base, name)
        if isinstance(base, Instance):
            return self._instance_attribute(base.info, name, set())
        return None

    def _infer_subscript(self, node: cst.Subscript, scope: Scope) -> Value:
        """`obj["key"]` of an SDK object that is a dict (a boto3 response): an entry the rules declare."""
        base = self.infer(node.value, scope)
        key = subscript_key(node)
        if not isinstance(base, SdkValue) or key is None:
            return None
        for creation in self.ruleset.creations_by_member.get((base.object, key), ()):
            if creation.kind == "attribute":
                return self._derive(base, creation, node)
            if creation.kind == "iterate":
                return Iterable(self._derive(base, creation, node))
        return None

    def _instance_attribute(self, info: ClassInfo, name: str, seen: set[int]) -> Value:
        seen.add(id(info))
        if name in info.methods:
            method = info.methods[name]
            if method.is_property():  # read as an attribute, it is what the method returns
                return _unify([self.infer(value, method.scope) for value in method.returns])
            return FunctionRef(method)
        if name in info.attributes:
            return self._unify_sources(info.attributes[name])
        for base in info.node.bases:
            base_value = self.infer(base.value, info.scope)
            if isinstance(base_value, ClassRef) and id(base_value.info) not in seen:
                return self._instance_attribute(base_value.info, name, seen)
        return None

    def _infer_call(self, node: cst.Call, scope: Scope) -> Value:
        callee = self.infer(node.func, scope)
        if isinstance(callee, QualName):
            for creation in self.ruleset.creations_by_call.get(callee.dotted, ()):
                value = self._create(creation, node, scope, None)
                if value is not None:
                    return value
            return None
        if isinstance(callee, BoundMember):
            for creation in self.ruleset.creations_by_member.get((callee.owner.object, callee.name), ()):
                if creation.kind in ("method", "iterate"):
                    value = self._create(creation, node, scope, callee.owner)
                    if value is not None:
                        return Iterable(value) if creation.kind == "iterate" else value
            return None
        if isinstance(callee, FunctionRef):
            function = callee.function
            return _unify([self.infer(ret, function.scope) for ret in function.returns])
        if isinstance(callee, ClassRef):
            return Instance(callee.info)
        return None

    def _create(self, creation: Creation, node: cst.Call, scope: Scope, owner: SdkValue | None) -> SdkValue | None:
        bound = bind_arguments(creation.signature, node.args)
        if bound is None or not when_holds(creation.when, bound):
            return None
        value = self._derive(owner, creation, node)
        configured: list[str] = []
        computed: list[str] = []
        settings = dict(value.profile)
        for name, arg in bound.items():
            given = self._neutral_object(creation, name, arg, scope)
            if given is not None:
                value = value.capped(given.cap, given.cap_reason)
            elif name in creation.neutral or self._neutral_value(creation, name, arg, scope):
                continue
            elif name in creation.profile:
                setting = self._profile_setting(creation.profile[name], arg.value, scope)
                if setting is None:  # a credential spelled as a literal is configuration no profile records
                    (configured if string_value(arg.value) is not None else computed).append(name)
                else:
                    settings[creation.profile[name]] = setting
            else:
                configured.append(name.replace("#", "argument "))
        value = replace(value, profile=tuple(sorted(settings.items())))
        if computed:
            value = value.capped(
                Safety.UNSAFE,
                f"the SDK object is created with {', '.join(sorted(computed))} computed at run time "
                "(not a literal or one environment variable), so no storage profile can record it",
            )
        if configured and creation.kind != "iterate":
            value = value.capped(
                Safety.UNSAFE,
                f"the SDK object is created with {', '.join(sorted(configured))}; "
                "the shim takes these from its configuration instead",
            )
        return value

    def _profile_setting(self, key: str, node: cst.BaseExpression, scope: Scope, hops: int = 0) -> str | None:
        """What a storage profile records for an argument: a literal, or `env:VAR` for one variable read,
        spelled in place or held by a module-level constant (`REGION = os.getenv("REGION")`, here or imported).

        Secrets (credentials, a connection string) are only ever recorded as the variable that holds them.
        """
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            text = string_value(node)
            return text if text and key not in SECRET_KEYS else None
        variable = environment_variable(node, functools.partial(self.dotted_name, scope=scope))
        if variable:
            return f"env:{variable}"
        return self._constant_setting(key, node, scope, hops + 1) if hops < _MAX_CONSTANT_HOPS else None

    def _constant_setting(self, key: str, node: cst.BaseExpression, scope: Scope, hops: int) -> str | None:
        """The setting a name holds when its one binding is a module-level assignment, or an import whose
        module defines it (answered by whole-program facts); a name bound twice is computed at run time."""
        if isinstance(node, cst.Name):
            sources = self._lookup(node.value, scope)
            if sources is None or len(sources) != 1:
                return None
            source = sources[0]
            if source.kind in ("expr", "annotated") and source.scope is not None and source.scope.kind == "module":
                value = _assigned_value(source)
                return self._profile_setting(key, value, source.scope, hops) if value is not None else None
        dotted = self.dotted_name(node, scope) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if dotted is None or self.facts is None:
            return None
        return self.facts.constant(dotted, key)

    def _neutral_value(self, creation: Creation, name: str, arg: cst.Arg, scope: Scope) -> bool:
        """Whether the argument is one of the expressions `neutral_values` allows (read from the same setting)."""
        qualified = functools.partial(self.dotted_name, scope=scope)
        return any(matches_expression(code, arg.value, qualified) for code in creation.neutral_values.get(name, ()))

    def _neutral_object(self, creation: Creation, name: str, arg: cst.Arg, scope: Scope) -> SdkValue | None:
        """The argument, when it is the SDK object `neutral_objects` allows for this parameter."""
        wanted = creation.neutral_objects.get(name)
        value = self.sdk_value(arg.value, scope) if wanted else None
        return value if value is not None and value.object == wanted else None

    def _derive(self, owner: SdkValue | None, creation: Creation, node: cst.CSTNode) -> SdkValue:
        value = SdkValue(creation.result, node)
        if owner is not None:
            value = replace(value.capped(owner.cap, owner.cap_reason), profile=owner.profile)
        return value.capped(creation.safety, creation.reason)

    # names and their sources
    def _lookup(self, name: str, scope: Scope) -> list[Source] | None:
        current: Scope | None = scope
        while current is not None:
            if current.kind == "class" and current is not scope:
                current = current.parent
                continue
            if name in current.bindings:
                return current.bindings[name]
            current = current.parent
        return None

    def _unify_sources(self, sources: list[Source]) -> Value:
        return _unify([self._infer_source(source) for source in sources])

    def _infer_source(self, source: Source) -> Value:
        if source.kind == "import":
            return self._qualified(source.dotted)
        if source.kind == "class":
            assert isinstance(source.node, cst.ClassDef)
            assert source.info is not None
            return ClassRef(source.info)
        if source.kind == "def":
            assert source.function is not None
            return FunctionRef(source.function)
        if source.scope is None or source.node is None:
            return None
        if source.kind == "annotated":
            assert isinstance(source.node, cst.AnnAssign)
            declared = self._annotation(source.node.annotation.annotation, source.scope)
            if declared is not None:
                return declared
            return self.infer(source.node.value, source.scope) if source.node.value is not None else None
        if source.kind == "iter":
            iterated = self.infer(source.node, source.scope)
            return iterated.item if isinstance(iterated, Iterable) else None
        if source.kind == "param":
            return self._infer_param(source)
        return self.infer(source.node, source.scope)  # expr, with

    def _annotation(self, node: cst.BaseExpression, scope: Scope) -> SdkValue | None:
        """An SDK object declared by annotation: `S3Client`, `"S3Client"`, `Optional[...]`, `X | None`."""
        if isinstance(node, cst.SimpleString):
            if not any(name in node.value for name in self._type_names):
                return None  # a string annotation that names no SDK type: not worth parsing
            text = node.evaluated_value
            try:
                return self._annotation(cst.parse_expression(text), scope) if isinstance(text, str) else None
            except cst.ParserSyntaxError:
                return None
        if isinstance(node, cst.BinaryOperation):
            return self._annotation(node.left, scope) or self._annotation(node.right, scope)
        if isinstance(node, cst.Subscript):
            generic = (
                node.value.attr.value if isinstance(node.value, cst.Attribute) else getattr(node.value, "value", "")
            )
            if generic not in ANNOTATED_ONE_OF:
                return None  # `set[Blob]` holds SDK objects but is not one (whole-program facts know its items)
            candidates = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
            return next(filter(None, (self._annotation(c, scope) for c in candidates)), None)
        dotted = self.dotted_name(node, scope)
        if dotted is not None and dotted in self.ruleset.types:
            return SdkValue(
                self.ruleset.types[dotted],
                None,
                Safety.UNSAFE,
                "the SDK object is passed in, so how it was configured is not known here",
            )
        return None

    def _infer_param(self, source: Source) -> Value:
        param, function = source.node, source.function
        assert isinstance(param, cst.Param) and function is not None
        if function.is_method() and function.params and function.params[0] is param:
            assert function.owner is not None
            return Instance(function.owner)
        if param.annotation is not None:
            declared = self._annotation(param.annotation.annotation, function.scope.parent or function.scope)
            if declared is not None:
                return declared
        values = [self._argument_value(site, function, param) for site in self._sites_of(function)]
        return _unify([v for v in values if v is not None]) if values and None not in values else None

    def _argument_value(self, site: CallSite, function: Function, param: cst.Param) -> Value:
        """What `site` passes for `param`; NONE when it passes nothing (the default applies)."""
        params = function.params
        offset = 1 if function.is_method() and isinstance(site.node.func, cst.Attribute) else 0
        names = [p.name.value for p in params[offset:]]
        signature = Signature(tuple(names), (), False)
        bound = bind_arguments(signature, site.node.args)
        if bound is None:
            return None
        arg = bound.get(param.name.value)
        return self.infer(arg.value, site.scope) if arg is not None else NONE

    def _sites_of(self, function: Function) -> list[CallSite]:
        """The calls of `function`.

        Only calls spelled with the function's name (`f(...)`, `x.f(...)`) are inferred: inferring
        every call of the module from here would re-enter the inference under way (a parameter
        used as a receiver), cut it short as a cycle and memoise the half-resolved values.
        """
        if self._call_sites is None:
            self._call_sites = {}
            for site in self.collector.calls:
                self._call_sites.setdefault(_callee_name(site.node.func), []).append(site)
        name = function.node.name.value if isinstance(function.node, cst.FunctionDef) else None
        candidates = (
            self._call_sites.get(name, []) if name else [s for sites in self._call_sites.values() for s in sites]
        )
        return [site for site in candidates if self._calls(site, function)]

    def _calls(self, site: CallSite, function: Function) -> bool:
        callee = self.infer(site.node.func, site.scope)
        return isinstance(callee, FunctionRef) and callee.function is function


def _unify(values: Sequence[Value]) -> Value:
    """One value when all agree (None literals aside), else unknown."""
    real = [value for value in values if value is not NONE]
    if not real:
        return NONE if values else None
    first = real[0]
    if all(_same(first, other) for other in real[1:]):
        return first
    return None


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, SdkValue) and isinstance(b, SdkValue):
        return a.object == b.object
    return a == b


def bind_arguments(signature: Signature, args: Sequence[cst.Arg]) -> dict[str, cst.Arg] | None:
    """Map call arguments to parameter names; None when they cannot be bound statically."""
    bound: dict[str, cst.Arg] = {}
    position = 0
    for arg in args:
        if arg.star:
            return None
        if arg.keyword is None:
            if position < len(signature.positional):
                bound[signature.positional[position]] = arg
            elif signature.any_positional:
                bound[f"#{position}"] = arg
            else:
                return None
            position += 1
        else:
            name = arg.keyword.value
            if name in bound or not signature.accepts_keyword(name):
                return None
            bound[name] = arg
    return bound


def when_holds(when: dict[str, tuple[str, ...]], bound: dict[str, cst.Arg] | None) -> bool:
    """Whether every parameter named in `when` is passed one of its allowed string literals."""
    if not when:
        return True
    if bound is None:
        return False
    return all(name in bound and string_value(bound[name].value) in allowed for name, allowed in when.items())


def subscript_key(node: cst.Subscript) -> str | None:
    """`["Key"]` for a subscript by one plain string literal (how rule files name dict entries), else None."""
    if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
        return None
    key = string_value(node.slice[0].slice.value)
    return f"[{json.dumps(key)}]" if key is not None else None


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain string literal, else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


_MAX_CONSTANT_HOPS = 4  # `A = B` chains followed within one module before a setting counts as computed

ENVIRONMENT_CALLS = ("os.environ.get", "os.getenv")


def environment_variable(node: cst.BaseExpression, dotted: Callable[[cst.BaseExpression], str | None]) -> str | None:
    """VAR for `os.environ["VAR"]`, `os.environ.get("VAR")` or `os.getenv("VAR")` with no default or a None
    one (an unset variable gives None either way), else None."""
    if isinstance(node, cst.Subscript) and dotted(node.value) == "os.environ" and len(node.slice) == 1:
        index = node.slice[0].slice
        return string_value(index.value) if isinstance(index, cst.Index) else None
    if not isinstance(node, cst.Call) or dotted(node.func) not in ENVIRONMENT_CALLS or not 1 <= len(node.args) <= 2:
        return None
    name, *default = node.args
    if name.keyword is not None or name.star or any(arg.star or not _is_none(arg.value) for arg in default):
        return None
    return string_value(name.value)


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _assigned_value(source: Source) -> cst.BaseExpression | None:
    """The value a plain or annotated assignment binds (None for `x: int` alone)."""
    if source.kind == "annotated":
        assert isinstance(source.node, cst.AnnAssign)
        return source.node.value
    return source.node if isinstance(source.node, cst.BaseExpression) else None


def _dotted(node: cst.CSTNode) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    raise TypeError(f"not a dotted name: {node!r}")


def _name_of(node: cst.CSTNode) -> str:
    return node.value if isinstance(node, cst.Name) else _dotted(node)


def _callee_name(func: cst.BaseExpression) -> str | None:
    """The name a call is spelled with: `f` for `f(...)` and `x.f(...)`, else None."""
    if isinstance(func, cst.Name):
        return func.value
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return None


def _decorator_name(decorator: cst.Decorator) -> str:
    """`name` for `@name` and `@module.name`."""
    target = decorator.decorator
    if isinstance(target, cst.Attribute):
        return target.attr.value
    return target.value if isinstance(target, cst.Name) else ""


FOLLOWED = (
    "the SDK object reaches this call from other functions, classes or modules, so how it was created "
    "and configured is not checked here"
)
SHAPED = (
    "nothing in the project says where this object comes from (it is handed in from outside); only the way "
    "the call is spelled says it is an SDK client, so how it was configured is not known"
)
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")
Constants = Callable[[str, str], "str | None"]  # (dotted name, profile key) -> the setting a module constant holds
Span = tuple[int, int, int, int]  # start line, column, end line, column; columns count characters from 0


@dataclass(frozen=True)
class IndirectCall:
    """An SDK call not spelled `object.method(...)`: by name (`_call_s3("put_object", ...)`) or unbound."""

    rule: str
    receiver: SdkValue
    reason: str  # why it is found but not fixed where it is


class Facts:
    """What whole-program resolution found in one module, looked up by a LibCST node's position."""

    def __init__(
        self,
        parsed: ParsedModule,
        sdk: dict[Span, SdkValue],
        indirect: dict[Span, IndirectCall],
        constants: Constants | None = None,
    ) -> None:
        self._positions = parsed.positions if sdk or indirect else {}
        self._sdk = sdk
        self._indirect = indirect
        self._constants = constants

    def constant(self, dotted: str, key: str) -> str | None:
        """The storage-profile setting (`key`) another module's top-level name holds, when it is a constant."""
        return self._constants(dotted, key) if self._constants is not None else None

    def sdk(self, node: cst.CSTNode) -> SdkValue | None:
        span = self._span(node)
        return self._sdk.get(span) if span is not None else None

    def indirect(self, node: cst.CSTNode) -> IndirectCall | None:
        span = self._span(node)
        return self._indirect.get(span) if span is not None else None

    def _span(self, node: cst.CSTNode) -> Span | None:
        return cst_span(self._positions, node)


class CreatingModule:
    """A module that creates SDK objects other modules use, resolved on its own: what each creating call makes
    there, with the cap and storage profile its arguments give it."""

    def __init__(self, resolver: Resolver, parsed: ParsedModule) -> None:
        self._resolver = resolver
        self._lines = _LINE_BREAKS.split(parsed.text)
        self._calls = {cst_span(parsed.positions, site.node): site for site in resolver.calls}

    def value_of(self, call: ast.Call) -> SdkValue | None:
        site = self._calls.get(_ast_span(self._lines, call))
        return self._resolver.sdk_value(site.node, site.scope) if site is not None else None

    def constant_setting(self, name: str, key: str) -> str | None:
        return self._resolver.constant_setting(name, key)


def cst_span(positions: Mapping[cst.CSTNode, CodeRange], node: cst.CSTNode) -> Span | None:
    where = positions.get(node)
    return None if where is None else (where.start.line, where.start.column, where.end.line, where.end.column)


def facts_for(
    program: Program,
    summary: ModuleSummary,
    source: str,
    parsed: ParsedModule,
    checked: Callable[[Sdk], SdkValue | None] | None = None,
    constants: Constants | None = None,
) -> Facts:
    """The whole-program resolver's findings for this module, in LibCST's terms.

    `checked` gives an object made elsewhere the cap and profile its creation gives it there; `constants`
    what storage-profile setting another module's constant holds.
    """
    lines = _LINE_BREAKS.split(source)
    sdk = {
        _ast_span(lines, node): _followed(value, checked)
        for node, value in program.sdk_nodes(summary)
        if hasattr(node, "end_lineno")
    }
    indirect = {
        _ast_span(lines, call): IndirectCall(rule, _followed(owner), reason)
        for call, rule, owner, reason in program.indirect_calls(summary)
    }
    return Facts(parsed, sdk, indirect, constants)


def _followed(value: Sdk, checked: Callable[[Sdk], SdkValue | None] | None = None) -> SdkValue:
    """An SDK object the whole-program resolver found: as its one creation configured it, when every path to
    it is certain and `checked` can tell; else unchecked (unsafe)."""
    if checked is not None and value.made is not None and value.certain and value.confident:
        found = checked(value)
        if found is not None:
            return found
    reason = SHAPED if value.shaped else FOLLOWED
    return SdkValue(value.object, None, Safety.UNSAFE, reason, value.certain, value.confident, value.shaped)


def _ast_span(lines: list[str], node: ast.AST) -> Span:
    start, end = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
    return (
        start,
        _characters(lines, start, node.col_offset),  # type: ignore[attr-defined]
        end,
        _characters(lines, end, node.end_col_offset or 0),  # type: ignore[attr-defined]
    )


def _characters(lines: list[str], line: int, byte_offset: int) -> int:
    """`ast` columns count UTF-8 bytes; LibCST's count characters."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if text.isascii():
        return byte_offset
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))
