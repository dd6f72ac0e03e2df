"""Per-module summaries from the standard library's `ast`: scopes, bindings, classes, functions, calls.

The resolver answers "is this expression an SDK object?" across the whole project, so it needs
every module's bindings, not just the file at hand. `ast` parses an order of magnitude faster
than LibCST and is enough to know what is bound where; LibCST is kept for the files a fix
rewrites. A summary holds the module's tree and indexes over it; it is built once per module
text and never runs or imports anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property

Position = tuple[int, int]  # line, column
Branches = tuple[tuple[int, str], ...]  # (id of an if / match / loop statement, which branch), outermost first
LOOP = "loop"


class Kind(Enum):
    """How a name got its value; the resolver evaluates each kind differently."""

    IMPORT = "import"  # `import x` / `from x import y`: `dotted` names what
    VALUE = "value"  # `name = node` (with `path` for unpacking)
    ANNOTATED = "annotated"  # `name: node.annotation = node.value`
    ITERATE = "iterate"  # `for name in node`
    ENTER = "enter"  # `with node as name`
    PARAM = "param"  # a function parameter
    DEF = "def"  # `def name`
    CLASS = "class"  # `class name`
    STAR = "star"  # `from x import *`: names of x
    UNKNOWN = "unknown"  # `except ... as name`, `+=`, match captures, `*rest`


@dataclass(frozen=True, eq=False, repr=False)
class Binding:
    kind: Kind
    scope: Scope  # where `node` is evaluated
    node: ast.AST | None = None
    path: tuple[int, ...] = ()  # element indexes when the target unpacks (`a, (b, c) = ...`)
    dotted: str = ""  # for imports
    is_async: bool = False  # `async for` / `async with`
    function: FunctionInfo | None = None  # for parameters and defs
    index: int = 0  # the parameter's position
    cls: ClassInfo | None = None  # for class definitions
    fallback: bool = False  # bound in an `except ImportError:` handler: a stand-in for a missing package

    def __repr__(self) -> str:
        return f"<{self.kind.value} binding at line {getattr(self.node, 'lineno', '?')}>"


@dataclass(eq=False)
class Scope:
    kind: str  # module | class | function | comprehension
    parent: Scope | None
    module: ModuleSummary
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    function: FunctionInfo | None = None
    cls: ClassInfo | None = None  # the class whose body this is (class scopes)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)

    def __repr__(self) -> str:
        return f"<{self.kind} scope in {self.module.name or self.module.path}>"

    def bind(self, name: str, binding: Binding) -> None:
        target: Scope = self
        if name in self.global_names:
            target = self.module.scope
        elif name in self.nonlocal_names:
            outer = self.parent
            while outer is not None and (outer.kind == "class" or name not in outer.bindings):
                outer = outer.parent
            target = outer or self.module.scope
        target.bindings.setdefault(name, []).append(binding)

    def lookup(self, name: str) -> list[Binding] | None:
        """The bindings `name` refers to from here (class bodies are skipped by nested functions)."""
        scope: Scope | None = self
        while scope is not None:
            if (scope is self or scope.kind != "class") and name in scope.bindings:
                return scope.bindings[name]
            scope = scope.parent
        return None

    @property
    def method_owner(self) -> ClassInfo | None:
        """The class when this is (or is nested in) a method's scope and `self` refers to an instance."""
        scope: Scope | None = self
        while scope is not None and scope.kind == "comprehension":
            scope = scope.parent
        if scope is None or scope.function is None:
            return None
        return scope.function.owner


@dataclass(eq=False)
class FunctionInfo:
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    scope: Scope  # its own scope
    owner: ClassInfo | None  # set for methods defined directly in a class body
    decorators: tuple[str, ...] = ()  # last component of each decorator's name
    returns: list[ast.expr] = field(default_factory=list)
    yields: list[ast.expr] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)  # the calls in its body (nested functions aside)

    def __repr__(self) -> str:
        owner = f"{self.owner.name}." if self.owner else ""
        return f"<function {owner}{self.name} in {self.scope.module.name}>"

    @property
    def name(self) -> str:
        return self.node.name if not isinstance(self.node, ast.Lambda) else "<lambda>"

    @cached_property
    def params(self) -> list[ast.arg]:
        args = self.node.args
        return [*args.posonlyargs, *args.args, *args.kwonlyargs]

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    def has_decorator(self, *names: str) -> bool:
        return any(name in self.decorators for name in names)

    @cached_property
    def is_static(self) -> bool:
        return self.has_decorator("staticmethod")

    @cached_property
    def is_classmethod(self) -> bool:
        return self.has_decorator("classmethod")

    @cached_property
    def is_property(self) -> bool:
        return self.owner is not None and self.has_decorator("property", "cached_property", "cache_readonly")

    @cached_property
    def self_name(self) -> str | None:
        """The name of the first parameter of a method (`self` or `cls`), None for static methods and functions."""
        if self.owner is None or self.is_static or not self.params:
            return None
        return self.params[0].arg


@dataclass(eq=False)
class ClassInfo:
    node: ast.ClassDef
    scope: Scope  # the scope the class statement is in
    body: Scope  # the class body's own scope
    methods: dict[str, FunctionInfo] = field(default_factory=dict)
    setters: dict[str, FunctionInfo] = field(default_factory=dict)  # `@name.setter` methods
    instance_attributes: dict[str, list[Binding]] = field(default_factory=dict)  # self.x = ... in methods

    def __repr__(self) -> str:
        return f"<class {self.name} in {self.module.name}>"

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def module(self) -> ModuleSummary:
        return self.scope.module


@dataclass(frozen=True, eq=False)
class CallSite:
    node: ast.Call
    scope: Scope


@dataclass(frozen=True, eq=False)
class AttributeStore:
    """`<base>.name = value` (or `<base>[key] = value`, `<base>.append(value)`) on something not `self`."""

    target: ast.expr  # the Attribute or Subscript stored to, or the container appended to
    binding: Binding
    appended: bool = False  # `target.append(value)`: an item under any key


@dataclass(eq=False)
class ModuleSummary:
    name: str  # dotted module name ("" when unknown)
    path: str
    is_package: bool
    tree: ast.Module
    scope: Scope = field(init=False)
    classes: list[ClassInfo] = field(default_factory=list)
    functions: list[FunctionInfo] = field(default_factory=list)
    calls: list[CallSite] = field(default_factory=list)
    calls_by_name: dict[str, list[CallSite]] = field(default_factory=dict)  # by the callee's last name
    stores: dict[str, list[AttributeStore]] = field(default_factory=dict)  # by attribute name ("[]" for items)
    value_reads: list[tuple[ast.Attribute, Scope]] = field(default_factory=list)  # `f(obj.method)`: passed as values
    flow: dict[int, tuple[Position, Branches]] = field(default_factory=dict)  # id(binding or Name load) -> where
    comprehensions: dict[int, Scope] = field(default_factory=dict)  # id(node) -> the scope its targets live in

    def __post_init__(self) -> None:
        self.scope = Scope("module", None, self)

    def __repr__(self) -> str:
        return f"<module {self.name or self.path}>"

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def summarize(tree: ast.Module, name: str, path: str, is_package: bool) -> ModuleSummary:
    summary = ModuleSummary(name, path, is_package, tree)
    _Collector(summary).body(tree.body, summary.scope)
    return summary


def dotted_name(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def spelled_items(node: ast.expr) -> list[ast.expr]:
    """A tuple's items as written (`except (A, B)`, `isinstance(x, (str, bytes))`), else the node alone."""
    return list(node.elts) if isinstance(node, ast.Tuple) else [node]


def callee_name(func: ast.expr) -> str | None:
    """The name a call is spelled with: `f` for `f(...)` and `x.f(...)`."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


_COMPREHENSIONS = frozenset({ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp})
_TRY_STATEMENTS: tuple[type[ast.Try], ...] = (ast.Try, *((ast.TryStar,) if hasattr(ast, "TryStar") else ()))
_CONTAINER_ADDS = frozenset({"append", "add", "insert", "appendleft", "setdefault"})


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    caught = spelled_items(handler.type) if handler.type is not None else []  # a bare `except:` names nothing
    return any(callee_name(name) in _IMPORT_ERRORS for name in caught)


_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


class _Collector:
    """One walk over a module: every binding into its scope, every call and store into the indexes."""

    def __init__(self, summary: ModuleSummary) -> None:
        self.summary = summary
        self.import_fallback = False  # walking an `except ImportError:` handler
        self.position: Position = (0, 0)  # of the statement being walked
        self.branches: Branches = ()  # the exclusive branches it is in (within its function)

    def bind(self, scope: Scope, name: str, binding: Binding) -> None:
        if self.import_fallback:
            binding = replace(binding, fallback=True)
        self.summary.flow[id(binding)] = (self.position, self.branches)
        scope.bind(name, binding)

    # statements
    def body(self, statements: list[ast.stmt], scope: Scope) -> None:
        for statement in statements:
            self.statement(statement, scope)

    def after_value(self, node: ast.stmt) -> None:
        """An assignment binds once its value is computed: `blob = blob.download_as_bytes()` reads the old `blob`."""
        if node.end_lineno is not None and node.end_col_offset is not None:
            self.position = (node.end_lineno, node.end_col_offset)

    def statement(self, node: ast.stmt, scope: Scope) -> None:
        self.position = (node.lineno, node.col_offset)
        if isinstance(node, ast.If):
            self.expressions([node.test], scope)
            self.branch(node, "body", node.body, scope)
            self.branch(node, "orelse", node.orelse, scope)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.loop(node, scope)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.function(node, scope)
        elif isinstance(node, ast.ClassDef):
            self.class_def(node, scope)
        elif isinstance(node, ast.Assign):
            self.expressions([node.value], scope)
            self.after_value(node)
            for target in node.targets:
                self.target(target, Binding(Kind.VALUE, scope, node.value), scope)
        elif isinstance(node, ast.AnnAssign):
            self.expressions([node.annotation, *([node.value] if node.value else [])], scope)
            self.after_value(node)
            self.target(node.target, Binding(Kind.ANNOTATED, scope, node), scope)
        elif isinstance(node, ast.AugAssign):
            self.expressions([node.value], scope)
            self.after_value(node)
            if isinstance(node.target, ast.Name):
                self.bind(scope, node.target.id, Binding(Kind.UNKNOWN, scope))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            is_async = isinstance(node, ast.AsyncWith)
            for item in node.items:
                self.expressions([item.context_expr], scope)
                if item.optional_vars is not None:
                    binding = Binding(Kind.ENTER, scope, item.context_expr, is_async=is_async)
                    self.target(item.optional_vars, binding, scope)
            self.body(node.body, scope)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node, scope)
        elif isinstance(node, ast.Global):
            scope.global_names.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            scope.nonlocal_names.update(node.names)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.expressions([node.value], scope)
                if scope.function is not None:
                    scope.function.returns.append(node.value)
        elif isinstance(node, _TRY_STATEMENTS):
            self.body(node.body, scope)
            for handler in node.handlers:
                if handler.type is not None:
                    self.expressions([handler.type], scope)
                if handler.name:
                    self.bind(scope, handler.name, Binding(Kind.UNKNOWN, scope))
                outer_fallback = self.import_fallback
                self.import_fallback = outer_fallback or _catches_import_error(handler)
                self.body(handler.body, scope)
                self.import_fallback = outer_fallback
            self.body(node.orelse, scope)
            self.body(node.finalbody, scope)
        elif isinstance(node, ast.Match):
            self.expressions([node.subject], scope)
            for index, case in enumerate(node.cases):
                outer = self.branches
                self.branches = (*outer, (id(node), f"case{index}"))
                for capture in _match_captures(case.pattern):
                    self.bind(scope, capture, Binding(Kind.UNKNOWN, scope))
                if case.guard is not None:
                    self.expressions([case.guard], scope)
                self.body(case.body, scope)
                self.branches = outer
        else:  # if, while, expression statements, assert, raise, delete, ...
            for name, value in ast.iter_fields(node):
                if name in ("body", "orelse", "finalbody") and isinstance(value, list):
                    self.body(value, scope)
                elif isinstance(value, ast.expr):
                    self.expressions([value], scope)
                elif isinstance(value, list):
                    self.expressions([v for v in value if isinstance(v, ast.expr)], scope)

    def branch(self, node: ast.stmt, label: str, statements: list[ast.stmt], scope: Scope) -> None:
        """One of mutually exclusive branches: a binding in one never reaches a use in another."""
        outer = self.branches
        self.branches = (*outer, (id(node), label))
        self.body(statements, scope)
        self.branches = outer

    def loop(self, node: ast.For | ast.AsyncFor | ast.While, scope: Scope) -> None:
        """A loop's body runs again: bindings late in it reach uses early in it."""
        outer = self.branches
        if isinstance(node, ast.While):
            self.expressions([node.test], scope)
        else:
            self.expressions([node.iter], scope)
        self.branches = (*outer, (id(node), LOOP))
        if not isinstance(node, ast.While):
            is_async = isinstance(node, ast.AsyncFor)
            self.target(node.target, Binding(Kind.ITERATE, scope, node.iter, is_async=is_async), scope)
        self.body(node.body, scope)
        self.branches = outer
        self.body(node.orelse, scope)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        self.expressions([*node.decorator_list, *_defaults(node.args), *_annotations(node)], scope)
        owner = scope.cls if scope.kind == "class" else None
        outer, self.branches = self.branches, ()
        info = self.enter_function(node, scope, owner, tuple(_decorator_names(node.decorator_list)))
        self.branches = outer
        if owner is not None and _is_setter(node):
            owner.setters[node.name] = info
        elif owner is not None:
            owner.methods.setdefault(node.name, info)
        self.bind(scope, node.name, Binding(Kind.DEF, scope, node, function=info))
        outer, self.branches = self.branches, ()
        self.body(node.body, info.scope)
        self.branches = outer

    def enter_function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        scope: Scope,
        owner: ClassInfo | None,
        decorators: tuple[str, ...] = (),
    ) -> FunctionInfo:
        own = Scope("function", scope, self.summary)
        info = FunctionInfo(node, own, owner, decorators)
        own.function = info
        self.summary.functions.append(info)
        for index, param in enumerate(info.params):
            self.bind(own, param.arg, Binding(Kind.PARAM, own, param, function=info, index=index))
        for star in (node.args.vararg, node.args.kwarg):
            if star is not None:
                self.bind(own, star.arg, Binding(Kind.UNKNOWN, own))
        return info

    def class_def(self, node: ast.ClassDef, scope: Scope) -> None:
        self.expressions([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)], scope)
        body = Scope("class", scope, self.summary)
        info = ClassInfo(node, scope, body)
        body.cls = info
        self.summary.classes.append(info)
        self.bind(scope, node.name, Binding(Kind.CLASS, scope, node, cls=info))
        self.body(node.body, body)

    def imports(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.bind(scope, alias.asname, Binding(Kind.IMPORT, scope, node, dotted=alias.name))
                else:
                    root = alias.name.split(".")[0]
                    self.bind(scope, root, Binding(Kind.IMPORT, scope, node, dotted=root))
            return
        module = self.absolute(node)
        if module is None:
            return
        for alias in node.names:
            if alias.name == "*":
                scope.bindings.setdefault("*", []).append(Binding(Kind.STAR, scope, node, dotted=module))
                continue
            local = alias.asname or alias.name
            self.bind(scope, local, Binding(Kind.IMPORT, scope, node, dotted=f"{module}.{alias.name}"))

    def absolute(self, node: ast.ImportFrom) -> str | None:
        """The module a `from ... import` names, relative imports made absolute when the package is known."""
        named = node.module or ""
        if not node.level:
            return named or None
        base = self.summary.package.split(".") if self.summary.package else []
        up = node.level - 1
        if up > len(base) or (not base and not named):
            return None
        parts = base[: len(base) - up] + ([named] if named else [])
        return ".".join(parts) or None

    # targets
    def target(self, target: ast.expr, binding: Binding, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            self.bind(scope, target.id, binding)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Starred):
                    self.target(element.value, Binding(Kind.UNKNOWN, scope), scope)
                else:
                    unpacked = Binding(
                        binding.kind, binding.scope, binding.node, (*binding.path, index), is_async=binding.is_async
                    )
                    self.target(element, unpacked, scope)
        elif isinstance(target, ast.Attribute):
            self.expressions([target.value], scope)
            self.attribute_store(target, binding, scope)
        elif isinstance(target, ast.Subscript):
            self.expressions([target.value, target.slice], scope)
            self.summary.stores.setdefault("[]", []).append(AttributeStore(target, binding))
        elif isinstance(target, ast.Starred):
            self.target(target.value, Binding(Kind.UNKNOWN, scope), scope)

    def attribute_store(self, target: ast.Attribute, binding: Binding, scope: Scope) -> None:
        owner = scope.method_owner
        function = scope.function
        base = target.value
        if (
            owner is not None
            and function is not None
            and isinstance(base, ast.Name)
            and base.id == function.self_name
            and not function.is_classmethod
        ):
            owner.instance_attributes.setdefault(target.attr, []).append(binding)
        else:
            self.summary.stores.setdefault(target.attr, []).append(AttributeStore(target, binding))

    # expressions
    def expressions(self, nodes: list[ast.expr], scope: Scope) -> None:
        """Record calls, value reads, walrus bindings, lambdas and comprehensions inside expressions.

        The hottest loop of a scan: it dispatches on the exact node type and walks `_fields`
        itself, skipping constants and expression contexts, instead of `ast.iter_child_nodes`.
        """
        stack: list[ast.AST] = list(nodes)
        flow = self.summary.flow
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                    flow[id(node)] = ((node.lineno, node.col_offset), self.branches)  # type: ignore[attr-defined]
                continue
            if kind is ast.Constant:
                continue
            if kind is ast.Call:
                self.call(node, scope)  # type: ignore[arg-type]
            elif kind is ast.Lambda:
                self.lambda_function(node, scope)  # type: ignore[arg-type]
                continue
            elif kind in _COMPREHENSIONS:
                self.comprehension(node, scope)  # type: ignore[arg-type]
                continue
            elif kind is ast.NamedExpr:
                named: ast.NamedExpr = node  # type: ignore[assignment]
                self.target(named.target, Binding(Kind.VALUE, scope, named.value), _walrus_scope(scope))
                stack.append(named.value)
                continue
            elif kind is ast.Yield or kind is ast.YieldFrom:
                self.yielded(node, scope)  # type: ignore[arg-type]
            for name in node._fields:
                value = getattr(node, name)
                if type(value) is list:
                    stack.extend(item for item in value if item is not None)  # dict keys may be None
                elif isinstance(value, ast.AST) and name != "ctx":
                    stack.append(value)

    def lambda_function(self, node: ast.Lambda, scope: Scope) -> None:
        self.expressions(_defaults(node.args), scope)
        info = self.enter_function(node, scope, None)
        info.returns.append(node.body)
        self.expressions([node.body], info.scope)

    def yielded(self, node: ast.Yield | ast.YieldFrom, scope: Scope) -> None:
        if scope.function is not None and node.value is not None:
            scope.function.yields.append(node if isinstance(node, ast.YieldFrom) else node.value)

    def call(self, node: ast.Call, scope: Scope) -> None:
        site = CallSite(node, scope)
        self.summary.calls.append(site)
        if scope.function is not None:
            scope.function.calls.append(site)
        name = callee_name(node.func)
        if name is not None:
            self.summary.calls_by_name.setdefault(name, []).append(site)
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, ast.Attribute):
                self.summary.value_reads.append((arg, scope))
        if name in _CONTAINER_ADDS and isinstance(node.func, ast.Attribute) and node.args:
            value = node.args[-1]
            self.summary.stores.setdefault("[]", []).append(
                AttributeStore(node.func.value, Binding(Kind.VALUE, scope, value), appended=True)
            )

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, scope: Scope) -> None:
        own = Scope("comprehension", scope, self.summary, function=scope.function)
        for generator in node.generators:
            self.expressions([generator.iter], own if generator is not node.generators[0] else scope)
            is_async = bool(generator.is_async)
            self.target(generator.target, Binding(Kind.ITERATE, own, generator.iter, is_async=is_async), own)
            self.expressions(list(generator.ifs), own)
        results = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        self.expressions(results, own)
        self.summary.comprehensions[id(node)] = own


def _walrus_scope(scope: Scope) -> Scope:
    while scope.kind == "comprehension" and scope.parent is not None:
        scope = scope.parent
    return scope


def _defaults(args: ast.arguments) -> list[ast.expr]:
    return [*args.defaults, *(d for d in args.kw_defaults if d is not None)]


def _annotations(node: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.expr]:
    args = node.args
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
        if arg is not None and arg.annotation is not None:
            yield arg.annotation
    if node.returns is not None:
        yield node.returns


def _decorator_names(decorators: list[ast.expr]) -> Iterator[str]:
    for decorator in decorators:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = callee_name(target)
        if name is not None:
            yield name


def _is_setter(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") for d in node.decorator_list)


def _match_captures(pattern: ast.pattern) -> Iterator[str]:
    for node in ast.walk(pattern):
        name = getattr(node, "name", None)
        if isinstance(name, str):
            yield name
        rest = getattr(node, "rest", None)
        if isinstance(rest, str):
            yield rest
