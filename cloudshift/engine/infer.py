"""Whole-program resolution: which expressions are SDK objects, across every module of the project.

Real code rarely creates a client where it uses it: it comes from a hook's `get_conn()` in a base
class in another file, a property that caches it on first use, a `client or boto3.client("s3")`
fallback, an `async with` block, a helper whose service name is a parameter. The resolver
follows all of these over the `ast` summaries of the project's modules, lazily and memoised:

- names through imports, re-exports and star imports, into the project's other modules;
- `self.x` through the class, its bases (in any module) and its subclasses (mixins);
- calls into functions and methods (their returns, yields and context managers), evaluating a
  function's returns with the literal arguments of the call at hand (`client("s3")` through a
  helper's `service_name` parameter);
- parameters from their annotations, defaults and every call site in the project;
- attributes stored on other objects (`threading.local()`, namespaces), containers of clients,
  property setters, `functools.partial`, `getattr(obj, "literal")`, `typing.cast`;
- what a few libraries do at run time that no project source shows: fsspec's blocking twins of
  an async filesystem's `_methods`, and the `self.fs` its file base class keeps.

Binding is optimistic: a name is an SDK object when some value bound to it is one and none is
known not to be; such results are marked not `confident`. A factory whose service name is not a
literal yields an SDK object that is not `certain`; only methods distinctive of the service are
matched on it. Nothing is imported or run.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from cloudshift.engine.summarize import (
    LOOP,
    Binding,
    Branches,
    CallSite,
    ClassInfo,
    FunctionInfo,
    Kind,
    ModuleSummary,
    Position,
    Scope,
    callee_name,
    spelled_items,
)
from cloudshift.rules.ruleset import CallShape, Creation, RuleSet, Signature

# --- values -------------------------------------------------------------------------------------


Made = tuple[str, ast.Call]  # the file an SDK object is created in, and the call that creates it


@dataclass(frozen=True)
class Sdk:
    """An SDK object of kind `object` (a rule file's object name)."""

    object: str
    certain: bool = True  # False: obtained from a factory whose service name is not a literal
    confident: bool = True  # False: some bindings on the way were unknown (optimistic binding)
    shaped: bool = False  # True: nothing but the way a call of it is spelled says what it is
    made: Made | None = field(default=None, compare=False)  # its one creation, when every path leads there


@dataclass(frozen=True)
class OneOf:
    """One of several SDK objects (`conn` returns a client or a resource): the method called decides which."""

    options: tuple[Sdk, ...]


@dataclass(frozen=True)
class Ext:
    """A name outside the project, reached through imports (`boto3.client`, `os.environ`)."""

    dotted: str


@dataclass(frozen=True)
class ModuleRef:
    summary: ModuleSummary


@dataclass(frozen=True)
class ClassRef:
    cls: ClassInfo


@dataclass(frozen=True)
class Instance:
    cls: ClassInfo


@dataclass(frozen=True)
class FunctionRef:
    function: FunctionInfo
    bound: Value = None  # the receiver of a bound method


@dataclass(frozen=True)
class Member:
    """`sdk.name` read but not yet called: becomes a creation, a method call or a value passed along."""

    owner: Sdk | OneOf
    name: str


@dataclass(frozen=True)
class Items:
    """Something iterated to get `item` (an SDK listing, a list of clients, a generator)."""

    item: Value


@dataclass(frozen=True)
class Elements:
    """A tuple or list literal, element by element."""

    values: tuple[Value, ...]


@dataclass(frozen=True)
class Entries:
    """A dict literal with string keys."""

    values: tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Alternatives:
    """One of several objects chosen at run time: a storage helper's `self._driver` is an S3, a GCS or
    a file driver depending on the URL, and a driver's object a Blob or a local file object. Reading
    a member or calling reads or calls each of the project's objects (see `_alternatives_attribute`)."""

    options: tuple[Instance | ClassRef | FunctionRef | Sdk, ...]


@dataclass(frozen=True)
class Const:
    value: str | int | float | bool | bytes | None


@dataclass(frozen=True)
class Opaque:
    """A value known not to be an SDK object (a number, an f-string, a mock, a container of such).

    A mock is a stand-in: bound alone it is not an SDK object, but beside an SDK object bound to the
    same name (a test passing `MagicMock()` where the application passes a client) it says nothing.
    """

    stand_in: bool = False


Value = (
    Sdk
    | OneOf
    | Ext
    | ModuleRef
    | ClassRef
    | Instance
    | FunctionRef
    | Member
    | Items
    | Elements
    | Entries
    | Alternatives
    | Const
    | Opaque
    | None
)
NONE = Const(None)
OPAQUE = Opaque()
STAND_IN = Opaque(stand_in=True)
_MOCKS = ("unittest.mock.", "mock.", "pytest_mock.", "moto.")
_IMPORT_BY_NAME = frozenset({"importlib.import_module", "builtins.__import__"})
_TRANSPARENT_CALLS = frozenset({"typing.cast", "typing_extensions.cast"})  # the second argument is the value
# class methods that model libraries (pydantic v1 and v2, dataclass serialisers) give a class: each returns an instance
_INHERITED_CONSTRUCTORS = frozenset(
    {"model_validate", "model_validate_json", "model_construct", "parse_obj", "parse_raw", "construct", "from_dict"}
)
_ITERATORS = frozenset({"builtins.iter", "builtins.list", "builtins.tuple", "builtins.sorted", "builtins.reversed"})
_ENTER_CONTEXT = frozenset({"enter_context", "enter_async_context"})  # ExitStack / AsyncExitStack
_LOOKUPS = frozenset({"get", "pop", "setdefault"})  # mapping lookups with a default
_ANNOTATED_ITEMS = frozenset(
    {
        "list",
        "List",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
        "Sequence",
        "MutableSequence",
        "Iterable",
        "Iterator",
        "Collection",
        "Generator",
        "AsyncIterator",
        "AsyncIterable",
        "AsyncGenerator",
        "deque",
        "Deque",
        "AbstractSet",
    }
)  # annotations whose first parameter is the type of their items
ANNOTATED_ONE_OF = frozenset({"Optional", "Union", "Annotated", "Final", "ClassVar"})  # their parameter is the type
_MAX_STEPS = 200_000  # per top-level question; pathological code gets "unknown", never a hang
# A name spelled in more modules than this is not searched for callers or for stores through an attribute
# or a setter: `name`, `info`, `run` say nothing about one object, and searching for stores to a `name`
# setter alone summarised 2,851 modules of a 7,929-file corpus for one file. Subclasses and item stores
# stay unbounded: capping them lost real sites (sagemaker, oci-cli) for little time.
_MAX_SEARCHED_MODULES = 150
_SETTLED = 1 << 30  # no cycle cut below any open question
_LITERAL_TYPES: dict[str, type] = {"str": str, "bytes": bytes, "int": int, "float": float, "bool": bool}
_MAX_PARAMETER_DEPTH = 3  # parameters followed through callers' parameters, at most this deep
_MAX_ALTERNATIVES = 8  # a name bound to more of the project's objects than this is unknown
# Calls that run the function given at a position with the arguments after it, elsewhere (an executor, a worker
# thread, an event loop), and whether they pass their keyword arguments on too: concurrent.futures, asyncio,
# anyio, prefect, fsspec's sync(loop, f, ...).
_RUNNERS = {
    "submit": (0, True),
    "to_thread": (0, True),
    "run_in_executor": (1, False),
    "run_sync": (0, True),
    "run_sync_in_worker_thread": (0, True),
    "sync": (1, True),
}
_MAX_HANDOVERS = 2  # how often a handed-over function may be passed on before the call that makes use of it
_MAX_NAMESAKES = 3  # a method called on an unknown object is followed by name when the project has this few
# fsspec gives every `async def _name` of an async filesystem a blocking twin `name` at run time
# (`fs.call_s3(...)` runs `fs._call_s3(...)`), so project code calls methods no class defines.
_SYNC_TWINS_FROM = frozenset({"fsspec.asyn.AsyncFileSystem", "fsspec.AsyncFileSystem"})
# Library base classes whose constructor keeps arguments as attributes of the parameter's name:
# fsspec's file classes are handed their filesystem first and read it back as `self.fs`.
_KEPT_BY_LIBRARY_INIT: dict[str, tuple[str, ...]] = {
    "fsspec.spec.AbstractBufferedFile": ("fs", "path", "mode"),
    "fsspec.AbstractBufferedFile": ("fs", "path", "mode"),
}


def unify(values: Iterable[Value]) -> Value:
    """Several values bound to one name: optimistic for SDK objects, else only when all agree."""
    given = [v for v in values if v != NONE]
    real = [v for v in given if v != STAND_IN]
    if not real:
        return STAND_IN if given else NONE
    known = [option for v in real if v is not None for option in _alternative_options(v)]
    if not known:
        return None
    sdk = [option for v in known if isinstance(v, (Sdk, OneOf)) for option in _options(v)]
    if sdk:
        if any(not isinstance(v, (Sdk, OneOf)) for v in known):
            # an object of the project bound beside the SDK object (a driver per provider) is one
            # alternative; any other value known not to be an SDK object makes the name unknown
            return _less_sure(_alternatives(known))
        confident = len(known) == len(given) and all(s.confident for s in sdk)
        merged = {
            name: Sdk(
                name,
                all(s.certain for s in sdk if s.object == name),
                confident,
                all(s.shaped for s in sdk if s.object == name),
                made=_one_creation([s for s in sdk if s.object == name]),
            )
            for name in dict.fromkeys(s.object for s in sdk)
        }
        return next(iter(merged.values())) if len(merged) == 1 else OneOf(tuple(merged.values()))
    first = known[0]
    if isinstance(first, Elements) and all(
        isinstance(v, Elements) and len(v.values) == len(first.values) for v in known
    ):
        columns = zip(*(v.values for v in known if isinstance(v, Elements)), strict=True)
        return Elements(tuple(unify(column) for column in columns))  # a tuple filled in later: by position
    if all(_same(first, other) for other in known[1:]):
        return first
    return _alternatives(known)


def _one_creation(values: list[Sdk]) -> Made | None:
    """The creation all these values come from, if they share one."""
    made = {id(value.made[1]) if value.made is not None else None for value in values}
    return values[0].made if len(made) == 1 else None


def _alternative_options(value: Value) -> tuple[Value, ...]:
    if isinstance(value, Alternatives):
        return value.options
    return value.options if isinstance(value, OneOf) else (value,)


def _alternatives(known: list[Value]) -> Value:
    """Distinct objects bound to one name (drivers chosen by a URL's scheme), when all are objects
    of the project or SDK objects; else unknown."""
    options: list[Instance | ClassRef | FunctionRef | Sdk] = []
    for option in known:
        if not isinstance(option, (Instance, ClassRef, FunctionRef, Sdk)):
            return None
        if not any(_same(option, seen) for seen in options):
            options.append(option)
    return Alternatives(tuple(options)) if len(options) <= _MAX_ALTERNATIVES else None


def _options(value: Sdk | OneOf) -> tuple[Sdk, ...]:
    return value.options if isinstance(value, OneOf) else (value,)


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, Instance) and isinstance(b, Instance):
        return a.cls is b.cls
    if isinstance(a, ClassRef) and isinstance(b, ClassRef):
        return a.cls is b.cls
    if isinstance(a, FunctionRef) and isinstance(b, FunctionRef):
        return a.function is b.function
    if isinstance(a, ModuleRef) and isinstance(b, ModuleRef):
        return a.summary is b.summary
    if isinstance(a, Items) and isinstance(b, Items):
        return _same(a.item, b.item)
    return a == b


def _less_sure(value: Value) -> Value:
    if isinstance(value, Sdk):
        return _unsure(value)
    if isinstance(value, OneOf):
        return OneOf(tuple(_unsure(o) for o in value.options))
    if isinstance(value, Alternatives):
        return Alternatives(tuple(_unsure(o) if isinstance(o, Sdk) else o for o in value.options))
    return value


def _unsure(value: Sdk) -> Sdk:
    return replace(value, confident=False)


def _bound_receiver(method: FunctionInfo) -> Value:
    """What a method of the project is bound to when called on an instance of its own class."""
    assert method.owner is not None
    if method.is_static:
        return None
    return ClassRef(method.owner) if method.is_classmethod else Instance(method.owner)


def _holds_sdk(value: Value) -> bool:
    """An SDK object, or a tuple, list or listing with one among its parts."""
    if isinstance(value, (Sdk, OneOf)):
        return True
    if isinstance(value, Elements):
        return any(_holds_sdk(v) for v in value.values)
    return isinstance(value, Items) and _holds_sdk(value.item)


def _known_by_name(value: Value) -> Value:
    """The SDK objects in `value`, marked as identified only by the name of the method that returned them."""
    if isinstance(value, Sdk):
        return replace(value, confident=False, shaped=True)
    if isinstance(value, OneOf):
        return OneOf(tuple(replace(o, confident=False, shaped=True) for o in value.options))
    if isinstance(value, Elements):
        return Elements(tuple(_known_by_name(v) for v in value.values))
    return Items(_known_by_name(value.item)) if isinstance(value, Items) else value


# --- the program --------------------------------------------------------------------------------


class Modules:
    """The project's modules by dotted name, summarised on first use (the source of summaries is pluggable)."""

    def __init__(
        self,
        names: dict[str, str],
        load: Callable[[str], ModuleSummary | None],
        population: Iterable[str] = (),
        spelling: Callable[[str], Iterable[str]] = lambda word: (),
        defining: Callable[[str], Iterable[str]] = lambda word: (),
    ) -> None:
        self.names = names  # dotted module name -> path
        self._load = load
        self._spelling = spelling  # word -> the population's modules whose text contains it
        self._defining = defining  # word -> the population's modules whose text has `def word(`
        self._methods: dict[str, list[FunctionInfo]] = {}
        self.population = list(population)  # the modules searched for callers, subclasses and stores
        self._mentioning: dict[str, list[ModuleSummary]] = {}
        self._summaries: dict[str, ModuleSummary | None] = {}
        self._by_suffix: dict[str, list[str]] | None = None
        self._extra: list[ModuleSummary] = []
        self.generation = 0  # changes whenever the population grows (indexes over it are rebuilt)

    def summary(self, name: str) -> ModuleSummary | None:
        if name not in self._summaries:
            self._summaries[name] = None  # an import cycle ends here
            self._summaries[name] = self._load(name)
        return self._summaries[name]

    def find(self, dotted: str) -> tuple[str, list[str]] | None:
        """The project module `dotted` starts with (longest), and the names after it.

        A package scanned below its root (`airflow/providers/amazon` scanned on its own) has module
        names without their leading packages; an import spelled in full still finds them when the
        trailing part is unambiguous.
        """
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            module = ".".join(parts[:end])
            if module in self.names:
                return module, parts[end:]
        for start in range(1, len(parts) - 1):
            for end in range(len(parts), start + 1, -1):
                candidates = self._suffixes().get(".".join(parts[start:end]), [])
                if len(candidates) == 1:
                    return candidates[0], parts[end:]
        return None

    def _suffixes(self) -> dict[str, list[str]]:
        if self._by_suffix is None:
            self._by_suffix = {}
            for name in self.names:
                pieces = name.split(".")
                for start in range(1, len(pieces) - 1):
                    self._by_suffix.setdefault(".".join(pieces[start:]), []).append(name)
        return self._by_suffix

    def loaded(self) -> Iterator[ModuleSummary]:
        return (s for s in [*self._summaries.values(), *self._extra] if s is not None)

    def include(self, summary: ModuleSummary) -> None:
        """Make a summary made outside (of the text being checked) part of the program.

        The project's own text of a module is simply that module; any other text (a buffer not
        yet saved, a file in the middle of being fixed) joins the population as an extra module.
        """
        known = self._summaries.get(summary.name)
        if known is summary or summary in self._extra:
            return
        if known is None and summary.name in self.names and self._load(summary.name) is summary:
            self._summaries[summary.name] = summary
            return
        self._extra.append(summary)
        for found in self._mentioning.values():
            found.append(summary)
        self.generation += 1

    def mentioning(self, word: str) -> list[ModuleSummary]:
        """The population's modules whose text mentions `word`, summarised on demand.

        Callers of a function, subclasses of a class and stores through a setter can only be in
        modules that spell its name; the rest of the population is never parsed for them. The
        set depends on the project's texts alone, never on the order files are checked in.
        """
        if word not in self._mentioning:
            names = sorted(self._spelling(word))
            found = [s for s in map(self.summary, names) if s is not None]
            self._mentioning[word] = found + [s for s in self._extra if s not in found]
        return self._mentioning[word]

    def too_common(self, word: str) -> bool:
        """Whether more than _MAX_SEARCHED_MODULES of the population's modules spell `word` (from the word
        index: nothing is parsed); a search for callers or stores of such a name says nothing about one."""
        return len(set(self._spelling(word))) > _MAX_SEARCHED_MODULES

    def methods_named(self, name: str) -> list[FunctionInfo]:
        """The population's methods called `name` (only modules that define one are summarised), none when
        the name is too common to search for."""
        if name not in self._methods:
            defining = sorted(self._defining(name)) if not self.too_common(name) else []
            summaries = [s for s in map(self.summary, defining) if s is not None]
            self._methods[name] = [c.methods[name] for s in summaries for c in s.classes if name in c.methods]
        return self._methods[name]

    def mentioning_all(self, first: str, second: str) -> list[ModuleSummary]:
        """The population's modules whose text mentions both words (only those are summarised), when few do."""
        both = set(self._spelling(first)) & set(self._spelling(second))
        if len(both) > _MAX_SEARCHED_MODULES:
            both = set()
        found = [s for s in map(self.summary, sorted(both)) if s is not None]
        return found + [s for s in self._extra if s not in found]  # as `mentioning` does


class _Answer(NamedTuple):
    """A memoised answer, how many levels of parameters it followed through callers, and whether
    _MAX_PARAMETER_DEPTH cut that short."""

    value: Value
    levels: int
    cut: bool


Context = frozenset[tuple[int, Value]]  # id(parameter binding) -> the literal passed at this call
_Question = tuple[int, int, Context]  # id(node), id(scope), context
_NO_CONTEXT: Context = frozenset()


class Program:
    """Answers what an expression is, for any module of the project; memoised per process."""

    def __init__(self, ruleset: RuleSet, modules: Modules) -> None:
        self.ruleset = ruleset
        self.modules = modules
        # (question, None) -> its answer when following parameters was not cut short by _MAX_PARAMETER_DEPTH;
        # (question, parameter depth) -> its answer there when it was
        self._memo: dict[tuple[_Question, int | None], _Answer] = {}
        self._active: dict[_Question, int] = {}  # questions being answered -> their depth
        self._provisional_below = _SETTLED  # answers deeper than this used a cut-off cycle: not memoised
        self._provisional: dict[tuple[_Question, int | None], _Answer] = {}  # those answers, for the open question
        self._steps = 0
        self._parameter_depth = 0
        self._deepest = 0  # the deepest parameter depth the question being answered reached
        self._cut = False  # whether the question being answered ran into _MAX_PARAMETER_DEPTH
        self._subclasses: dict[tuple[int, str, int], list[ClassInfo]] = {}
        self._mro: dict[int, list[ClassInfo]] = {}
        self._proxies: dict[int, bool] = {}  # id(class) -> whether it is a lazy-import proxy
        self._calls: dict[tuple[str, int], list[CallSite]] = {}
        self._sites: dict[tuple[int, int], list[tuple[CallSite, int]]] = {}
        self._handed: dict[int, dict[str, list[CallSite]]] = {}  # id(module) -> see `_handing_over`
        self._dispatch: dict[int, tuple[int, Sdk] | None] = {}
        self._annotations: dict[int, ast.expr | None] = {}  # id(string annotation) -> what it spells
        self._indirect: dict[int, dict[int, tuple[ast.Call, str, Sdk, str]]] = {}
        self._sdk_nodes: dict[int, dict[int, tuple[ast.AST, Sdk]]] = {}  # id(module) -> id(node) -> fact
        self._distinctive = {name: set(obj.distinctive) for name, obj in ruleset.objects.items()}
        self._shapes: dict[str, list[tuple[str, CallShape]]] = {}  # method -> objects whose calls of it have a shape
        for name, obj in ruleset.objects.items():
            if obj.call_shape is not None:
                for method in obj.distinctive:
                    self._shapes.setdefault(method, []).append((name, obj.call_shape))

    # entry points
    def value(self, node: ast.AST, scope: Scope, context: Context = _NO_CONTEXT) -> Value:
        """What `node` evaluates to in `scope`.

        A question met again while it is being answered (a cycle) adds nothing on that path. The
        answers in between are then provisional: memoised for good, they would make the result
        depend on which question was asked first, so they are kept only until the top-level
        question is answered; the question the cycle returned to is memoised for good.

        An answer is reused only where it would be worked out the same way again: one that followed
        parameters through callers N levels deep, at a parameter depth that leaves N levels; one that
        _MAX_PARAMETER_DEPTH cut short, at the same depth only. Reused deeper, it would reach further
        than a first asking there does, and a file's findings would depend on which files the same
        process checked before it.
        """
        if not self._active:
            self._steps = 0
        key = (id(node), id(scope), context)
        known = self._known(key)
        if known is not None:
            return known.value
        if key in self._active:
            self._provisional_below = min(self._provisional_below, self._active[key])
            return None
        self._steps += 1
        if self._steps > _MAX_STEPS:
            self._provisional_below = -1  # cut short: nothing asked on the way here is settled
            return None
        depth = len(self._active)
        self._active[key] = depth
        outer_deepest, outer_cut = self._deepest, self._cut
        self._deepest, self._cut = self._parameter_depth, False
        try:
            result = self._evaluate(node, scope, context)
        except RecursionError:
            result = None
        finally:
            del self._active[key]
        answer = _Answer(result, self._deepest - self._parameter_depth, self._cut)
        where = (key, self._parameter_depth if self._cut else None)
        self._deepest, self._cut = max(outer_deepest, self._deepest), outer_cut or self._cut
        if isinstance(result, Sdk):
            self._record(node, scope, result)
        if self._provisional_below >= depth:
            self._memo[where] = answer
            if self._provisional_below == depth:
                self._provisional_below = _SETTLED
        else:
            self._provisional[where] = answer  # reused only while this top-level question is open
        if not self._active:
            self._provisional_below = _SETTLED
            self._provisional.clear()
        return result

    def _known(self, key: _Question) -> _Answer | None:
        """The answer asking `key` at the current parameter depth gives, when it was worked out before; the
        question under way has then reached as deep as that asking would have."""
        here = self._parameter_depth
        for known in (self._memo, self._provisional):
            answer = known.get((key, None))
            if answer is None or here + answer.levels > _MAX_PARAMETER_DEPTH:
                answer = known.get((key, here))
            if answer is not None:
                self._deepest = max(self._deepest, here + answer.levels)
                self._cut = self._cut or answer.cut
                return answer
        return None

    def sdk(self, node: ast.AST, scope: Scope) -> Sdk | None:
        found = self.value(node, scope)
        return found if isinstance(found, Sdk) else None

    def receiver(self, node: ast.AST, scope: Scope, member: str) -> Sdk | None:
        """The SDK object `node` is when `member` is read from it (a OneOf narrowed by the member, an SDK subclass)."""
        found = self.value(node, scope)
        if isinstance(found, OneOf):
            found = self._narrowed(found, member)
        elif isinstance(found, Instance):
            found = self._sdk_member_of(found, member, self._class_member(found.cls, member, found))
        elif isinstance(found, Alternatives):
            found = self._alternative_owner(found, member, None, scope, _NO_CONTEXT)
        else:
            return found if isinstance(found, Sdk) else None
        if found is not None:
            self._record(node, scope, found)
        return found

    def shaped_receiver(self, site: CallSite) -> Sdk | None:
        """The SDK object a call's spelling alone identifies, when nothing in the project says what its receiver is.

        A client injected from outside the project (s3transfer's tasks are handed theirs by boto3)
        has no creation, annotation or caller to follow, but botocore's keyword-only, capitalised
        arguments (`put_object(Bucket=b, Key=k)`) still say what it is. A receiver the project knows
        anything about (its own class, a module, a mock, another library's object) is never taken
        for one.
        """
        func = site.node.func
        if not isinstance(func, ast.Attribute) or func.attr not in self._shapes:
            return None
        keywords = [name for keyword in site.node.keywords for name in _keyword_names(keyword, site.scope)]
        fitting = [obj for obj, shape in self._shapes[func.attr] if shape.fits(len(site.node.args), keywords)]
        if len(fitting) != 1 or self.value(func.value, site.scope) is not None:
            return None
        if self._made_by_other_library(func.value, site.scope):
            return None
        found = Sdk(fitting[0], certain=False, confident=False, shaped=True)
        self._record(func.value, site.scope, found)
        return found

    def _made_by_other_library(self, receiver: ast.expr, scope: Scope) -> bool:
        """Whether the receiver is bound, in its module, to what a call into a library other than the SDKs returns.

        Tencent COS's `CosS3Client(conf).download_file(Bucket=..., Key=...)` copies botocore's
        spelling; an object another library makes is that library's, however its calls look.
        """
        if isinstance(receiver, ast.Call):
            return self._other_library(self.value(receiver.func, scope))
        if isinstance(receiver, ast.Name):
            bindings = list(scope.lookup(receiver.id) or ())
        elif isinstance(receiver, ast.Attribute):
            module = scope.module
            bindings = [b for cls in module.classes for b in cls.instance_attributes.get(receiver.attr, ())]
            bindings += [store.binding for store in module.stores.get(receiver.attr, ())]
        else:
            return False
        return any(
            self._other_library(self.value(b.node.func, b.scope)) for b in bindings if isinstance(b.node, ast.Call)
        )

    def _other_library(self, callee: Value) -> bool:
        if not isinstance(callee, Ext) or callee.dotted.startswith(("builtins.", *_MOCKS)):
            return False
        return not self.ruleset.names_sdk(callee.dotted)

    def _sdk_member_of(self, instance: Instance, name: str, own: Value) -> Sdk | None:
        """The SDK object whose member `name` is, for an instance of a project subclass of an SDK class.

        Members the subclass adds are its own; an override that calls the SDK's method of the same
        name (`ObjectStorageClient.get_object(self, ...)`, `super().get_object(...)`) is the SDK's.
        """
        sdk_object = self.sdk_base(instance.cls)
        if sdk_object is None:
            return None
        if own is None or (isinstance(own, FunctionRef) and self._delegates(own.function)):
            return Sdk(sdk_object)
        return None

    def _delegates(self, function: FunctionInfo) -> bool:
        """Whether a method calls the method of the same name of its SDK base class."""
        for site in function.scope.module.calls_by_name.get(function.name, ()):
            if site.scope.function is not function or not isinstance(site.node.func, ast.Attribute):
                continue
            owner = site.node.func.value
            if isinstance(owner, ast.Call) and callee_name(owner.func) == "super":
                return True
            spelled = self.value(owner, site.scope)
            if isinstance(spelled, Ext) and spelled.dotted in self.ruleset.types:
                return True
        return False

    def _narrowed(self, value: OneOf, member: str) -> Sdk | None:
        """The one option that has `member` as a rule or creation of its own, if exactly one does."""
        ruleset = self.ruleset
        knowing = [
            option
            for option in value.options
            if member in self._distinctive.get(option.object, ())
            or (
                option.certain
                and (
                    (option.object, member) in ruleset.rules_by_member
                    or (option.object, member) in ruleset.creations_by_member
                )
            )
        ]
        return knowing[0] if len(knowing) == 1 else None

    def _record(self, node: ast.AST, scope: Scope, found: Sdk) -> None:
        """Keep what `node` was found to be, for the LibCST side (`sdk_nodes`)."""
        self._sdk_nodes.setdefault(id(scope.module), {})[id(node)] = (node, found)

    def is_distinctive(self, owner: Sdk, method: str) -> bool:
        """Whether `method` on an object of uncertain service still identifies the service."""
        return owner.certain or method in self._distinctive.get(owner.object, ())

    def record_indirect(self, site: CallSite, rule: str, owner: Sdk, reason: str) -> None:
        self._indirect.setdefault(id(site.scope.module), {})[id(site.node)] = (site.node, rule, owner, reason)

    def indirect_calls(self, summary: ModuleSummary) -> Iterator[tuple[ast.Call, str, Sdk, str]]:
        """SDK calls not spelled `object.method(...)` (by name, unbound): facts for the LibCST side."""
        yield from self._indirect.get(id(summary), {}).values()

    def sdk_nodes(self, summary: ModuleSummary) -> Iterator[tuple[ast.AST, Sdk]]:
        """Every node of the module evaluated so far to an SDK object (facts for the LibCST side)."""
        yield from self._sdk_nodes.get(id(summary), {}).values()

    # expressions
    def _evaluate(self, node: ast.AST, scope: Scope, context: Context) -> Value:
        if isinstance(node, ast.Name):
            return self._name(node.id, scope, context, node)
        if isinstance(node, ast.Attribute):
            return self._attribute(self.value(node.value, scope, context), node.attr, node, scope, context)
        if isinstance(node, ast.Call):
            return self._call(node, scope, context)
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope, context)
        if isinstance(node, ast.Await):
            return self.value(node.value, scope, context)
        if isinstance(node, ast.IfExp):
            decided = self._type_test(node.test, scope, context)
            if decided is not None:  # `make(name) if isinstance(name, str) else name`, called with a literal
                return self.value(node.body if decided else node.orelse, scope, context)
            return unify([self.value(node.body, scope, context), self.value(node.orelse, scope, context)])
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return self.value(node.values[-1], scope, context)
            return unify(self.value(v, scope, context) for v in node.values)
        if isinstance(node, ast.NamedExpr):
            return self.value(node.value, scope, context)
        if isinstance(node, ast.Constant):
            return Const(node.value) if not isinstance(node.value, (complex, type(...))) else OPAQUE
        if isinstance(node, (ast.Tuple, ast.List)):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                return OPAQUE
            return Elements(tuple(self.value(e, scope, context) for e in node.elts))
        if isinstance(node, ast.Dict):
            return self._dict(node, scope, context)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            own = scope.module.comprehensions.get(id(node))
            return Items(self.value(node.elt, own, context)) if own is not None else None
        if isinstance(node, ast.Lambda):
            return next((FunctionRef(f) for f in scope.module.functions if f.node is node), None)
        if isinstance(node, (ast.JoinedStr, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Set, ast.DictComp)):
            return OPAQUE
        return None

    def _dict(self, node: ast.Dict, scope: Scope, context: Context) -> Value:
        entries: list[tuple[str, Value]] = []
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                return OPAQUE
            entries.append((key.value, self.value(value, scope, context)))
        return Entries(tuple(entries))

    def _name(self, name: str, scope: Scope, context: Context, node: ast.Name | None = None) -> Value:
        bindings = scope.lookup(name)
        if bindings is None:
            star = self._star_import(name, scope)
            return star if star is not None else Ext(f"builtins.{name}")
        if node is not None and len(bindings) > 1:
            bindings = reaching(bindings, node, scope)
        if any(b.fallback for b in bindings) and any(b.kind is Kind.IMPORT and not b.fallback for b in bindings):
            bindings = [b for b in bindings if not b.fallback]  # `except ImportError: Client = None`
        stubs = [b for b in bindings if b.function is not None and b.function.has_decorator("overload")]
        if stubs and len(stubs) < len(bindings):  # `@overload` signatures: the implementation is the function
            bindings = [b for b in bindings if b not in stubs]
        return unify(self._binding(b, context) for b in bindings)

    def _star_import(self, name: str, scope: Scope) -> Value:
        module_scope = scope.module.scope
        for star in module_scope.bindings.get("*", ()):
            found = self.modules.find(star.dotted)
            if found is not None and not found[1]:
                other = self.modules.summary(found[0])
                if other is not None and name in other.scope.bindings:
                    return self._name(name, other.scope, _NO_CONTEXT)
            elif found is None:
                return None  # a name from an external star import: unknown, not a builtin
        return None

    def _binding(self, binding: Binding, context: Context) -> Value:
        kind, scope = binding.kind, binding.scope
        if kind is Kind.IMPORT:
            return self.qualified(binding.dotted)
        if kind is Kind.DEF:
            assert binding.function is not None
            return FunctionRef(binding.function)
        if kind is Kind.CLASS:
            assert binding.cls is not None
            return ClassRef(binding.cls)
        if kind is Kind.PARAM:
            for key, value in context:
                if key == id(binding):
                    return value
            return self._parameter(binding)
        if kind is Kind.UNKNOWN or kind is Kind.STAR or binding.node is None:
            return None
        node = binding.node
        if kind is Kind.ANNOTATED:
            assert isinstance(node, ast.AnnAssign)
            declared = self.annotation(node.annotation, scope)
            if declared is not None:
                return declared
            return self._unpack(self.value(node.value, scope, context), binding.path) if node.value else None
        value = self.value(node, scope, context)
        if kind is Kind.ITERATE:
            value = self._item(value)
        elif kind is Kind.ENTER:
            value = self._entered(value, binding.is_async)
        return self._unpack(value, binding.path)

    def _unpack(self, value: Value, path: tuple[int, ...]) -> Value:
        for index in path:
            if isinstance(value, Elements):
                value = value.values[index] if index < len(value.values) else None
            elif isinstance(value, Items):
                value = value.item
            else:
                return None
        return value

    def _item(self, value: Value) -> Value:
        """What iterating `value` yields."""
        if isinstance(value, Items):
            return value.item
        if isinstance(value, Elements):
            return unify(value.values)
        if isinstance(value, Entries):
            return OPAQUE  # iterating a dict gives its keys
        if isinstance(value, Instance):
            iterate = self._class_member(value.cls, "__iter__", value)
            if isinstance(iterate, FunctionRef):
                return self._item(self._returns(iterate.function, _NO_CONTEXT, iterate.bound))
        return None

    def _entered(self, value: Value, is_async: bool) -> Value:
        """What `with value as name` binds: SDK clients are their own context managers."""
        if isinstance(value, (Sdk, OneOf)):
            return value
        if isinstance(value, Instance):
            enter = self._class_member(value.cls, "__aenter__" if is_async else "__enter__", value)
            if isinstance(enter, FunctionRef):
                return self._returns(enter.function, _NO_CONTEXT, enter.bound)
        if isinstance(value, (Ext, Opaque)):
            return OPAQUE if isinstance(value, Ext) and value.dotted == "builtins.open" else None
        return None

    def qualified(self, dotted: str) -> Value:
        """A dotted name reached through imports: a project module's binding, else an external name."""
        found = self.modules.find(dotted)
        if found is None:
            return Ext(dotted)
        module, names = found
        summary = self.modules.summary(module)
        if summary is None:
            return None
        value: Value = ModuleRef(summary)
        for name in names:
            value = self._attribute(value, name, None, summary.scope, _NO_CONTEXT)
        return value

    # attributes
    def _attribute(self, base: Value, name: str, node: ast.Attribute | None, scope: Scope, context: Context) -> Value:
        if isinstance(base, Ext):
            return self.qualified(f"{base.dotted}.{name}") if self.modules.names else Ext(f"{base.dotted}.{name}")
        if isinstance(base, ModuleRef):
            summary = base.summary
            if name in summary.scope.bindings:
                return self._name(name, summary.scope, _NO_CONTEXT)
            submodule = f"{summary.name}.{name}"
            if submodule in self.modules.names:
                other = self.modules.summary(submodule)
                return ModuleRef(other) if other is not None else None
            return self._star_import(name, summary.scope)
        if isinstance(base, OneOf):
            narrowed = self._narrowed(base, name)
            return self._sdk_attribute(narrowed, name) if narrowed is not None else Member(base, name)
        if isinstance(base, Sdk):
            return self._sdk_attribute(base, name)
        if isinstance(base, Instance):
            found = self._class_member(base.cls, name, base)
            inherited = self._sdk_member_of(base, name, found)
            if inherited is not None:
                return self._sdk_attribute(inherited, name)
            if found is not None:
                return found
        if isinstance(base, ClassRef):
            return self._class_attribute(base.cls, name, node, scope, context)
        if isinstance(base, Alternatives):
            return self._alternatives_attribute(base, name, node, scope, context)
        if node is not None and (base is None or isinstance(base, (Opaque, Instance))):
            return self._stored(name, node, scope, context)
        return None

    def _alternatives_attribute(
        self, base: Alternatives, name: str, node: ast.Attribute | None, scope: Scope, context: Context
    ) -> Value:
        """`name` read from one of several objects: from the SDK object that has it (see
        `_alternative_owner`), else from the project's objects; when both could have it, unknown."""
        owner = self._alternative_owner(base, name, node, scope, context)
        if owner is not None:
            return self._sdk_attribute(owner, name)
        if self._sdk_alternative(base, name) is not None:
            return None
        return unify(self._attribute(o, name, node, scope, context) for o in base.options if not isinstance(o, Sdk))

    def _alternative_owner(
        self, base: Alternatives, name: str, node: ast.Attribute | None, scope: Scope, context: Context
    ) -> Sdk | None:
        """The SDK object among several that `name` is read from: the one whose rules know `name`,
        when none of the project's objects among them has a member of that name."""
        sdk = self._sdk_alternative(base, name)
        if sdk is None:
            return None
        own = (self._attribute(o, name, node, scope, context) for o in base.options if not isinstance(o, Sdk))
        return sdk if all(value is None for value in own) else None

    def _sdk_alternative(self, base: Alternatives, member: str) -> Sdk | None:
        options = tuple(option for option in base.options if isinstance(option, Sdk))
        return self._narrowed(OneOf(options), member) if options else None

    def _class_attribute(
        self, cls: ClassInfo, name: str, node: ast.Attribute | None, scope: Scope, context: Context
    ) -> Value:
        """`Cls.name`: the class body's value, and what code stores into `Cls.name` (a cache filled on first use).

        papermill keeps `s3_session = (None, None, None)` on the class and fills it with
        `S3.s3_session = (session, client, resource)` in `__init__`.
        """
        found = self._class_member(cls, name, None)
        if node is None or isinstance(found, (FunctionRef, ClassRef)):
            return found
        stored = self._stored(name, node, scope, context)
        return found if stored is None else unify([found, stored])

    def _sdk_attribute(self, owner: Sdk, name: str) -> Value:
        for creation in self.ruleset.creations_by_member.get((owner.object, name), ()):
            if creation.kind == "attribute":
                return self._derived(owner, creation, certain=self._identified(owner, name))
        return Member(owner, name)

    def _stored(self, name: str, node: ast.Attribute, scope: Scope, context: Context) -> Value:
        """`base.name` on an object cloudshift cannot type: what code stores into the same path.

        `self._local.client = boto3.client("s3")` on a `threading.local()`, a namespace object or
        a module-level holder: reads of the same spelled path, in the same class or module, see
        what was stored.
        """
        return self._stored_at(node, name, scope, context)

    def _stored_at(self, read: ast.expr, index: str, scope: Scope, context: Context) -> Value:
        """What code stores at the path `read` spells (`index`: the attribute name, or "[]" for items).

        Paths are matched by where their first name lives (the class for `self.`/`cls.`, the
        defining module for a global, wherever it is imported) and then part by part, a
        subscript by its literal key or by any key when it is not a literal.
        """
        key = self._path_key(read, scope, context)
        if key is None:
            return None
        owner, parts = key
        modules = [scope.module]
        if isinstance(owner, Scope) and owner.kind == "module":  # a global: stores may be in any importer
            first = parts[0]
            spelled = self.modules.mentioning(first) if index == "[]" else self.modules.mentioning_all(first, index)
            modules += [m for m in spelled if m is not scope.module]
        values = []
        for module in modules:
            for store in module.stores.get(index, ()):
                if store.binding.node is None:
                    continue
                stored = self._path_key(store.target, store.binding.scope, _NO_CONTEXT)
                if stored is not None and store.appended:
                    stored = (stored[0], (*stored[1], "[*]"))
                if stored is not None and stored[0] is owner and _same_path(stored[1], parts):
                    values.append(self.value(store.binding.node, store.binding.scope, _NO_CONTEXT))
        return _less_sure(unify(values)) if values else None

    def _path_key(self, node: ast.expr, scope: Scope, context: Context) -> tuple[object, tuple[str, ...]] | None:
        """Where a spelled path like `self._local.client` or `CLIENT_MAP["s3"][name]` lives, and its parts."""
        if isinstance(node, ast.Attribute):
            inner = self._path_key(node.value, scope, context)
            return (inner[0], (*inner[1], node.attr)) if inner is not None else None
        if isinstance(node, ast.Subscript):
            inner = self._path_key(node.value, scope, context)
            if inner is None:
                return None
            key = self.value(node.slice, scope, context)
            part = f"[{key.value!r}]" if isinstance(key, Const) and key.value is not None else "[*]"
            return inner[0], (*inner[1], part)
        if not isinstance(node, ast.Name):
            return None
        function = scope.function
        if function is not None and node.id == function.self_name and function.owner is not None:
            return function.owner, ()
        current: Scope | None = scope
        while current is not None:
            bindings = current.bindings.get(node.id)
            if bindings:
                return self._path_root(node.id, bindings, current)
            current = current.parent
        return scope.module.scope, (node.id,)

    def _path_root(self, name: str, bindings: list[Binding], scope: Scope) -> tuple[object, tuple[str, ...]]:
        """A class by any spelling is the class; an imported global is the defining module's."""
        if all(b.kind is Kind.CLASS for b in bindings):
            cls = bindings[0].cls
            assert cls is not None
            return cls, ()
        if all(b.kind is Kind.IMPORT for b in bindings):
            found = self.modules.find(bindings[0].dotted)
            if found is not None and len(found[1]) == 1:
                defining = self.modules.summary(found[0])
                if defining is not None:
                    return defining.scope, (found[1][0],)
        return scope, (name,)

    def _class_member(self, cls: ClassInfo, name: str, instance: Value) -> Value:
        """An attribute of a class or of its instances, looked up through its bases and subclasses."""
        for klass in self.mro(cls):
            found = self._own_member(klass, name, instance)
            if found is not None:
                return found
        twin = self._sync_twin(cls, name, instance)
        if twin is not None:
            return twin
        if instance is not None:  # `self.x` in a mixin or base class: what subclasses define
            below = [self._own_member(sub, name, instance) for sub in self.subclasses(cls, defining=name)]
            below = [v for v in below if v is not None]
            if below:
                return _less_sure(unify(below))
            return self._handed_to_base(cls, name)
        return None

    def _handed_to_base(self, cls: ClassInfo, name: str) -> Value:
        """`self.fs` never assigned here, where `__init__(self, fs, ...)` passes `fs` to a library base class's
        `super().__init__`: by the usual convention the base keeps it under the same name."""
        for klass in self.mro(cls):
            init = klass.methods.get("__init__")
            binding = init.scope.bindings.get(name, [None])[0] if init is not None else None
            if init is None or binding is None or binding.kind is not Kind.PARAM:
                continue
            for site in _super_init_calls(init):
                passed = [*site.node.args, *(k.value for k in site.node.keywords)]
                if any(isinstance(arg, ast.Name) and arg.id == name for arg in passed):
                    return _less_sure(self._binding(binding, _NO_CONTEXT))
        return self._kept_by_library_base(cls, name)

    def _kept_by_library_base(self, cls: ClassInfo, name: str) -> Value:
        """`self.fs` in an fsspec file class: the argument its `__init__` hands the library base for `fs`."""
        if not any(name in parameters for parameters in _KEPT_BY_LIBRARY_INIT.values()):
            return None  # checked first: the bases of every class would be evaluated for every unknown attribute
        kept = (_KEPT_BY_LIBRARY_INIT.get(base, ()) for base in self._external_bases(cls))
        parameters = next((parameters for parameters in kept if name in parameters), None)
        if parameters is None:
            return None
        signature = Signature(parameters, (), True)
        for klass in self.mro(cls):
            init = klass.methods.get("__init__")
            for site in _super_init_calls(init) if init is not None else ():
                passed = (bind_arguments(signature, site.node, lenient=True) or {}).get(name)
                if passed is not None:
                    return _less_sure(self.value(passed, site.scope))
        return None

    def _sync_twin(self, cls: ClassInfo, name: str, instance: Value) -> Value:
        """`fs.call_s3` on an fsspec async filesystem: its `async def _call_s3`, called and awaited."""
        if name.startswith("_"):
            return None
        for klass in self.mro(cls):  # the `async def _name` first: a dict lookup, where bases are evaluated
            method = klass.methods.get(f"_{name}")
            if method is not None and method.is_async and not method.is_property:
                twins = _SYNC_TWINS_FROM.intersection(self._external_bases(cls))
                return FunctionRef(method, instance) if twins else None
        return None

    def _own_member(self, cls: ClassInfo, name: str, instance: Value) -> Value:
        method = cls.methods.get(name)
        if method is not None:
            if method.is_property and instance is not None:
                return self._returns(method, _NO_CONTEXT, instance)
            if method.is_classmethod:
                return FunctionRef(method, ClassRef(cls))
            return FunctionRef(method, instance if not method.is_static else None)
        if instance is not None and name in cls.instance_attributes:
            values = [self._binding(b, _NO_CONTEXT) for b in cls.instance_attributes[name]]
            setter = cls.setters.get(name)
            if setter is not None:
                values.append(self._setter_value(cls, name, setter))
            return unify(values)
        if name in cls.body.bindings:
            found = self._name(name, cls.body, _NO_CONTEXT)
            function = found.function if isinstance(found, FunctionRef) and found.bound is None else None
            if function is not None and instance is not None and function.self_name is not None:
                return FunctionRef(function, instance)  # `call_s3 = wrap(_call_s3)`: still a method
            return found
        return None

    def _setter_value(self, cls: ClassInfo, name: str, setter: FunctionInfo) -> Value:
        """What `obj.name = value` stores through a property setter, from every such store in the project."""
        if self.modules.too_common(name):
            return None
        values: list[Value] = []
        for summary in self.modules.mentioning(name):
            for store in summary.stores.get(name, ()):
                target = store.target
                if isinstance(target, ast.Attribute) and store.binding.node is not None:
                    owner = self.value(target.value, store.binding.scope)
                    if isinstance(owner, Instance) and cls in self.mro(owner.cls):
                        values.append(self.value(store.binding.node, store.binding.scope))
        return unify(values) if values else None

    def mro(self, cls: ClassInfo) -> list[ClassInfo]:
        """The class and its project bases, depth first, left to right (close enough to C3 for lookups)."""
        known = self._mro.get(id(cls))
        if known is None:
            self._mro[id(cls)] = [cls]  # a class among its own bases (broken code) ends here
            known = self._mro[id(cls)] = self._linearise(cls)
        return known

    def _linearise(self, cls: ClassInfo) -> list[ClassInfo]:
        order: list[ClassInfo] = []
        stack = [cls]
        while stack:
            klass = stack.pop(0)
            if klass in order:
                continue
            order.append(klass)
            bases = [self.value(base, klass.scope) for base in _bases(klass)]
            stack[0:0] = [b.cls for b in bases if isinstance(b, ClassRef)]
        return order

    def _external_bases(self, cls: ClassInfo) -> list[str]:
        """The classes from outside the project that a project class derives from, in lookup order."""
        values = (self.value(base, klass.scope) for klass in self.mro(cls) for base in _bases(klass))
        return list(dict.fromkeys(value.dotted for value in values if isinstance(value, Ext)))

    def sdk_base(self, cls: ClassInfo) -> str | None:
        """The SDK object a class's instances are, when it subclasses an SDK class (`class C(ObjectStorageClient)`)."""
        types = self.ruleset.types
        return next((types[dotted] for dotted in self._external_bases(cls) if dotted in types), None)

    def subclasses(self, cls: ClassInfo, defining: str = "") -> list[ClassInfo]:
        """Project classes (in the population) that have `cls` among their bases.

        With `defining`, only those whose module spells that name, the only ones that can define a
        member of it, and none when more than _MAX_SEARCHED_MODULES do: the base class of a mocking
        library's 170 services says nothing about one attribute, and parsing them all cost a minute.
        """
        key = (id(cls), defining, self.modules.generation)
        if key not in self._subclasses:
            spelled = self.modules.mentioning_all(cls.name, defining) if defining else self.modules.mentioning(cls.name)
            found = (klass for summary in spelled for klass in summary.classes if klass is not cls)
            self._subclasses[key] = [klass for klass in found if cls in self.mro(klass)[1:]]
        return self._subclasses[key]

    def _calls_named(self, name: str) -> list[CallSite]:
        """Calls spelled with `name` in the population."""
        key = (name, self.modules.generation)
        if key not in self._calls:
            if self.modules.too_common(name):
                self._calls[key] = []  # `__init__`, `process`, `run`: callers everywhere say nothing about one
                return self._calls[key]
            mentioning = self.modules.mentioning(name)
            self._calls[key] = [site for summary in mentioning for site in summary.calls_by_name.get(name, ())]
        return self._calls[key]

    # subscripts
    def _subscript(self, node: ast.Subscript, scope: Scope, context: Context) -> Value:
        base = self.value(node.value, scope, context)
        key = self.value(node.slice, scope, context)
        if isinstance(base, Sdk) and isinstance(key, Const) and isinstance(key.value, str):
            member = f'["{key.value}"]'
            for creation in self.ruleset.creations_by_member.get((base.object, member), ()):
                if creation.kind == "attribute":
                    return self._derived(base, creation, certain=base.certain)
                if creation.kind == "iterate":
                    return Items(self._derived(base, creation, certain=base.certain))
            return None
        if isinstance(base, Elements) and isinstance(key, Const) and isinstance(key.value, int):
            return base.values[key.value] if -len(base.values) <= key.value < len(base.values) else None
        if isinstance(base, Items):
            return base.item
        if isinstance(base, Entries) and isinstance(key, Const):
            found = next((v for k, v in base.values if k == key.value), None)
            if found is not None:
                return found
        literal = (
            base.values
            if isinstance(base, Elements)
            else tuple(v for _, v in base.values)
            if isinstance(base, Entries)
            else ()
        )
        if base is None or isinstance(base, (Opaque, Instance, Elements, Entries)):
            stored = self._stored_at(node, "[]", scope, context)  # `cache[key] = client` elsewhere
            return unify([*literal, stored]) if stored is not None else unify(literal) if literal else None
        return None

    # calls
    def _call(self, node: ast.Call, scope: Scope, context: Context) -> Value:
        if isinstance(node.func, ast.Attribute) and node.func.attr in _ENTER_CONTEXT and len(node.args) == 1:
            return self._entered(self.value(node.args[0], scope, context), "async" in node.func.attr)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _INHERITED_CONSTRUCTORS:
            owner = self.value(node.func.value, scope, context)
            if isinstance(owner, ClassRef) and self._class_member(owner.cls, node.func.attr, None) is None:
                return Instance(owner.cls)  # `Credentials.model_validate(data)`: pydantic's, on a class of the project
        if isinstance(node.func, ast.Attribute) and node.func.attr in _LOOKUPS and len(node.args) == 2:
            found = self._looked_up(node.func.value, node.args, scope, context)
            if found is not None:
                return found
        callee = self.value(node.func, scope, context)
        func = node.func
        if callee is None and isinstance(func, ast.Attribute) and self.value(func.value, scope, context) is None:
            return self._by_method_name(func.attr)
        return self._call_value(callee, node, scope, context)

    def _by_method_name(self, name: str) -> Value:
        """`storage.get_client_and_bucket()` on an object nothing in the project identifies (a parameter
        no call site fills): what the project's methods of that name return, when each of a few returns
        SDK objects. A reader looks for `def get_client_and_bucket` and follows it; the objects found
        so are known only by the name called, and say so (shaped, low confidence)."""
        if name.startswith("__"):
            return None
        methods = self.modules.methods_named(name)
        if not methods or len(methods) > _MAX_NAMESAKES:
            return None
        values = [self._returns(m, _NO_CONTEXT, _bound_receiver(m)) for m in methods if not m.is_property]
        if len(values) < len(methods) or not all(_holds_sdk(v) for v in values):
            return None
        return _known_by_name(unify(values))

    def _looked_up(self, mapping: ast.expr, args: list[ast.expr], scope: Scope, context: Context) -> Value:
        """`kwargs.get("client", boto3.client("s3"))`: an SDK object given as the default of a lookup in a
        mapping (unknown contents, or a dict literal) is what the name holds unless the mapping has
        another, as with `client or boto3.client("s3")`."""
        held = self.value(mapping, scope, context)
        if held is not None and not isinstance(held, Entries):
            return None  # an object with a `get` of its own, an SDK object, a known value
        default = self.value(args[1], scope, context)
        if not isinstance(default, (Sdk, OneOf)):
            return None
        key = self.value(args[0], scope, context)
        entries = dict(held.values) if isinstance(held, Entries) else {}
        name = key.value if isinstance(key, Const) and isinstance(key.value, str) else None
        return unify([entries.get(name) if name is not None else None, default])

    def _call_value(self, callee: Value, node: ast.Call, scope: Scope, context: Context) -> Value:
        if isinstance(callee, Alternatives):
            return unify(self._call_value(option, node, scope, context) for option in callee.options)
        if isinstance(callee, Ext):
            return self._external_call(callee.dotted, node, scope, context)
        if isinstance(callee, Member):
            return self._member_call(callee, node, scope, context)
        if isinstance(callee, FunctionRef):
            function = callee.function
            forwarded = _forwarded_argument(callee, node)
            if forwarded is not None:  # `run_in_thread(session.client)("s3")` is `session.client("s3")`
                return self.value(forwarded, scope, context)
            if function.has_decorator("contextmanager", "asynccontextmanager"):
                return unify(
                    self.value(y, function.scope, self._context(callee, node, scope, context)) for y in function.yields
                )
            return self._returns(function, self._context(callee, node, scope, context), callee.bound)
        if isinstance(callee, ClassRef):
            module = self._lazily_imported(callee.cls, node)
            if module is not None:
                return self.qualified(module)
            if "collections.defaultdict" in self._external_bases(callee.cls):
                return self._made_on_demand(node, scope, context) or Instance(callee.cls)
            return Instance(callee.cls)
        if isinstance(callee, Instance):
            method = self._class_member(callee.cls, "__call__", callee)
            return self._returns(method.function, _NO_CONTEXT, callee) if isinstance(method, FunctionRef) else None
        if isinstance(callee, Sdk):
            return None
        return None

    def _external_call(self, dotted: str, node: ast.Call, scope: Scope, context: Context) -> Value:
        for creation in self.ruleset.creations_by_call.get(dotted, ()):
            created = self._create(creation, node, scope, context, None)
            if created is not None:
                return created
        if dotted in _TRANSPARENT_CALLS and len(node.args) == 2:
            declared = self.annotation(node.args[0], scope)
            return declared if declared is not None else self.value(node.args[1], scope, context)
        if dotted == "builtins.getattr" and len(node.args) >= 2:
            name = self.value(node.args[1], scope, context)
            if isinstance(name, Const) and isinstance(name.value, str):
                base = self.value(node.args[0], scope, context)
                return self._attribute(base, name.value, None, scope, context)
            return None
        if dotted == "collections.defaultdict":
            return self._made_on_demand(node, scope, context)
        if dotted in _IMPORT_BY_NAME and node.args:
            return self._imported_by_name(dotted, node.args[0], scope, context)
        if dotted in ("functools.partial", "functools.wraps") and node.args:
            target = self.value(node.args[0], scope, context)
            return target if isinstance(target, (FunctionRef, Member)) else None
        if dotted in _ITERATORS and node.args:
            inner = self.value(node.args[0], scope, context)
            return inner if isinstance(inner, (Items, Elements)) else None
        if dotted == "builtins.next" and node.args:
            return self._item(self.value(node.args[0], scope, context))
        if dotted == "builtins.super":
            return self._super(scope)
        if dotted.startswith(_MOCKS):
            return STAND_IN
        if dotted.startswith("builtins."):
            return OPAQUE
        return self._wrapped(node, scope, context)

    def _made_on_demand(self, node: ast.Call, scope: Scope, context: Context) -> Value:
        """`defaultdict(make)`: its items are what `make` returns (pools and caches of clients built on first use)."""
        factory = self.value(node.args[0], scope, context) if node.args else None
        if isinstance(factory, FunctionRef):
            made = self._returns(factory.function, _NO_CONTEXT, factory.bound)
        elif isinstance(factory, ClassRef):
            made = Instance(factory.cls)
        else:
            return None
        return Items(made) if made is not None else None

    def _lazily_imported(self, cls: ClassInfo, call: ast.Call) -> str | None:
        """The module a lazy-import proxy stands for: `boto3 = LazyImport("boto3")` is boto3.

        A proxy is a class whose `__getattr__` hands attributes on from a module it imports by name;
        the module is the last string given positionally (`LazyLoader("tf", globals(), "tensorflow")`).
        """
        if id(cls) not in self._proxies:
            classes = self.mro(cls)
            self._proxies[id(cls)] = any("__getattr__" in c.methods for c in classes) and any(
                map(_imports_by_name, classes)
            )
        if not self._proxies[id(cls)]:
            return None
        names = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        return names[-1] if names and names[-1] else None

    def _imported_by_name(self, dotted: str, argument: ast.expr, scope: Scope, context: Context) -> Value:
        """`importlib.import_module("boto3")`, also inside a helper given the name (wandb's `get_module`)."""
        name = self.value(argument, scope, context)
        if not (isinstance(name, Const) and isinstance(name.value, str) and name.value):
            return None
        module = name.value.split(".")[0] if dotted == "builtins.__import__" else name.value
        return self.qualified(module)

    def _wrapped(self, node: ast.Call, scope: Scope, context: Context) -> Value:
        """`sync_wrapper(f)`, `retry(f)`: a call of something unknown on one function is taken to be that function.

        `check.inst_param(client, "client", storage.Client)`: a value checked against an SDK class
        by a library's helper is taken to be of that class (as `typing.cast` would say).
        """
        if len(node.args) >= 2:
            named = [self._sdk_class(argument, scope) for argument in node.args[1:]]
            declared = [self.ruleset.types[ext.dotted] for ext in named if ext is not None]
            return _less_sure(Sdk(declared[0])) if len(declared) == 1 else None
        if len(node.args) != 1 or node.keywords:
            return None
        target = self.value(node.args[0], scope, context)
        return target if isinstance(target, FunctionRef) else None

    def _super(self, scope: Scope) -> Value:
        owner = scope.method_owner
        if owner is None:
            return None
        bases = self.mro(owner)[1:]
        return Instance(bases[0]) if bases else None

    def _member_call(self, member: Member, node: ast.Call, scope: Scope, context: Context) -> Value:
        """`owner.name(...)`: a creation the rules declare; on a OneOf, the one option whose literal arguments fit."""
        if member.name in ("__enter__", "__aenter__"):
            return member.owner  # SDK clients are their own context managers
        results = []
        for owner in _options(member.owner):
            for creation in self.ruleset.creations_by_member.get((owner.object, member.name), ()):
                if creation.kind in ("method", "iterate"):
                    created = self._create(creation, node, scope, context, owner)
                    if created is not None:
                        results.append(Items(created) if creation.kind == "iterate" else created)
                        break
        merged = unify(results) if results else None
        if isinstance(merged, OneOf):  # options disagree: only a literal argument (a certain result) decides
            certain = [r for r in results if isinstance(r, Sdk) and r.certain]
            return certain[0] if len(certain) == 1 else None
        return merged

    def _create(
        self, creation: Creation, node: ast.Call, scope: Scope, context: Context, owner: Sdk | None
    ) -> Sdk | None:
        bound = bind_arguments(creation.signature, node)
        certain = self._identified(owner, creation.target)
        if creation.when:
            literals = [self._literal(bound, name, scope, context) for name in creation.when]
            if any(isinstance(given, Opaque) for given in literals):
                return None
            if any(
                isinstance(given, Const) and given.value not in allowed
                for given, allowed in zip(literals, creation.when.values(), strict=True)
            ):
                return None
            certain = all(isinstance(given, Const) for given in literals)  # a literal names the service
        return self._derived(owner, creation, certain=certain, made=(scope.module.path, node))

    def _type_test(self, test: ast.expr, scope: Scope, context: Context) -> bool | None:
        """The outcome of `isinstance(x, str)` (or `not ...`) when x is a literal here, else None (not known).

        Factories that take a service's name or its class (`_client_map[name] if isinstance(name, str)
        else name`) are called with the name: only that branch is ever taken.
        """
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            outcome = self._type_test(test.operand, scope, context)
            return None if outcome is None else not outcome
        tested = _isinstance_test(test)
        if tested is None:
            return None
        value = self.value(tested[0], scope, context)
        spelled = spelled_items(tested[1])
        names = [t.id for t in spelled if isinstance(t, ast.Name)]
        if not isinstance(value, Const) or len(names) != len(spelled) or not set(names) <= _LITERAL_TYPES.keys():
            return None
        return isinstance(value.value, tuple(_LITERAL_TYPES[name] for name in names))

    def _literal(self, bound: dict[str, ast.expr] | None, name: str, scope: Scope, context: Context) -> Value:
        """The literal passed for `name` (a string Const), OPAQUE when it is known not to be one, else None."""
        argument = bound.get(name) if bound is not None else None
        given = self.value(argument, scope, context) if argument is not None else None
        if isinstance(given, Const):
            return given if isinstance(given.value, str) else None
        return OPAQUE if isinstance(given, Opaque) else None

    def _identified(self, owner: Sdk | None, member: str) -> bool:
        """Whether what `owner.member` gives is known to be of the owner's service."""
        return owner is None or owner.certain or member in self._distinctive.get(owner.object, ())

    def _derived(self, owner: Sdk | None, creation: Creation, *, certain: bool, made: Made | None = None) -> Sdk:
        confident = owner.confident if owner is not None else True
        return Sdk(creation.result, certain=certain, confident=confident, made=made)

    def _context(self, callee: FunctionRef, node: ast.Call, scope: Scope, context: Context) -> Context:
        """The literal arguments of this call, keyed by the parameter bindings they go to.

        A parameter passed on as it is (`util.get_module(name)` inside `_get_module(self, name)`)
        carries the literal its own call gave it.
        """
        function = callee.function
        params = function.params
        offset = _unspelled(callee)
        names = [p.arg for p in params[offset:]]
        bound = bind_arguments(Signature(tuple(names), (), False), node, lenient=True) or {}
        given = dict(context)
        entries: list[tuple[int, Value]] = []
        for name, argument in bound.items():
            literal = self._literal_argument(argument, scope, given) or self._sdk_class(argument, scope)
            key = self._param_id(function, name)
            if literal is not None and key:
                entries.append((key, literal))
        return frozenset(entries)

    def _sdk_class(self, argument: ast.expr, scope: Scope) -> Ext | None:
        """An SDK class passed by name (`init_client(ObjectStorageClient)`): the callee may instantiate it."""
        dotted = _imported_dotted(argument, scope)
        return Ext(dotted) if dotted in self.ruleset.types else None

    @staticmethod
    def _literal_argument(argument: ast.expr, scope: Scope, given: dict[int, Value]) -> Const | None:
        """A string literal, or a parameter of the calling function that this call's context binds to one."""
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return Const(argument.value)
        if isinstance(argument, ast.Name) and given:
            for binding in scope.bindings.get(argument.id, ()):
                passed = given.get(id(binding))
                if binding.kind is Kind.PARAM and isinstance(passed, Const):
                    return passed
        return None

    def _returns(self, function: FunctionInfo, context: Context, bound: Value) -> Value:
        context = context | self._receiver_context(function, bound)
        if function.yields and not function.has_decorator("contextmanager", "asynccontextmanager"):
            return Items(unify(self.value(y, function.scope, context) for y in function.yields))
        if not function.returns:
            return NONE if not function.is_async else None
        found = unify(self.value(r, function.scope, context) for r in function.returns)
        declared = function.node.returns if not isinstance(function.node, ast.Lambda) else None
        if found is None and declared is not None:  # `-> storage.Client`: what the code says it returns
            return _less_sure(self.annotation(declared, function.scope.parent or function.scope))
        if found is None and context:
            return self._overload_return(function, context)
        return found

    def _overload_return(self, function: FunctionInfo, context: Context) -> Value:
        """What the `@overload` whose `Literal[...]` parameters match this call's literals declares it returns.

        Typed adaptors (`def client(service_name: Literal["s3"]) -> "mypy_boto3_s3.Client"`) say per
        service name what the one untyped implementation returns.
        """
        outer = function.scope.parent
        if outer is None or isinstance(function.node, ast.Lambda):
            return None
        passed = dict(context)
        given = ((p.arg, passed.get(self._param_id(function, p.arg))) for p in function.params)
        literal = {name: value.value for name, value in given if isinstance(value, Const)}
        for binding in outer.bindings.get(function.name, ()):
            overload = binding.function
            if overload is None or overload is function or not overload.has_decorator("overload"):
                continue
            literals = {p.arg: _literal_annotation(p.annotation) for p in overload.params if p.annotation is not None}
            wanted = {name: values for name, values in literals.items() if values is not None}
            returns = overload.node.returns if not isinstance(overload.node, ast.Lambda) else None
            if (
                wanted
                and returns is not None
                and all(name in literal and literal[name] in values for name, values in wanted.items())
            ):
                return self.annotation(returns, outer)
        return None

    @staticmethod
    def _param_id(function: FunctionInfo, name: str) -> int:
        binding = function.scope.bindings.get(name, [None])[0]
        return id(binding) if binding is not None and binding.kind is Kind.PARAM else 0

    def dispatch(self, function: FunctionInfo) -> tuple[int, Sdk] | None:
        """(position of the parameter that names an SDK method, the SDK object) for `f(self, method, ...)`.

        `getattr(client, method)(**kwargs)` with `method` a parameter makes every call of the
        function with a literal method name an SDK call (s3fs's `_call_s3("put_object", ...)`),
        also when it only hands `method` on to such a function.
        """
        key = id(function)
        if key not in self._dispatch:
            self._dispatch[key] = None  # recursion ends here
            self._dispatch[key] = self._find_dispatch(function)
        return self._dispatch[key]

    def _find_dispatch(self, function: FunctionInfo) -> tuple[int, Sdk] | None:
        params = {p.arg: index for index, p in enumerate(function.params)}
        for site in function.calls:
            call = site.node
            passed = [*call.args, *(k.value for k in call.keywords)]
            if not any(isinstance(arg, ast.Name) and arg.id in params for arg in passed):
                continue  # neither getattr(obj, param) nor a parameter handed on
            if callee_name(call.func) == "getattr" and len(call.args) >= 2:
                name = call.args[1]
                if isinstance(name, ast.Name) and name.id in params:
                    owner = self.sdk(call.args[0], site.scope)
                    if owner is not None:
                        return params[name.id], owner
                continue
            callee = self.value(call.func, site.scope)
            if not isinstance(callee, FunctionRef) or callee.function is function:
                continue
            inner = self.dispatch(callee.function)
            if inner is None:
                continue
            argument = _argument_for(callee, call, inner[0])
            if isinstance(argument, ast.Name) and argument.id in params:
                return params[argument.id], inner[1]
        return None

    def dispatched(self, site: CallSite) -> tuple[str, Sdk, str] | None:
        """(method name, SDK object, function name) when this call names an SDK method for a dispatcher."""
        callee = self.value(site.node.func, site.scope)
        if not isinstance(callee, FunctionRef):
            return None
        found = self.dispatch(callee.function)
        if found is None:
            return None
        argument = _argument_for(callee, site.node, found[0])
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            return argument.value, found[1], callee.function.name
        return None

    def _receiver_context(self, function: FunctionInfo, bound: Value) -> Context:
        """`self` as the instance the method was called on, when that is a subclass of the method's class.

        A mixin's `self.aws_hook_class(...)` means the subclass's hook class; evaluated with `self`
        as the mixin alone it would mean every subclass's at once.
        """
        if not isinstance(bound, Instance) or bound.cls is function.owner or function.self_name is None:
            return _NO_CONTEXT
        binding = function.scope.bindings.get(function.self_name, [None])[0]
        if binding is None or binding.kind is not Kind.PARAM:
            return _NO_CONTEXT
        return frozenset({(id(binding), bound)})

    # parameters
    def _parameter(self, binding: Binding) -> Value:
        function = binding.function
        assert function is not None
        param = function.params[binding.index]
        if binding.index == 0 and function.self_name is not None:
            owner = function.owner
            assert owner is not None
            if function.is_classmethod:
                return ClassRef(owner)
            return Instance(owner)
        if param.annotation is not None:
            declared = self.annotation(param.annotation, function.scope.parent or function.scope)
            if declared is not None:
                return declared
        setter_of = next(
            (n for n, f in (function.owner.setters if function.owner else {}).items() if f is function), None
        )
        if setter_of is not None and function.owner is not None:
            return self._setter_value(function.owner, setter_of, function)
        if function.name.startswith("test") or function.has_decorator("fixture"):
            injected = self._fixture(function, param.arg)
            if injected is not None:
                return injected
        values = [self._default(function, param)]
        checked = self._checked_type(function, param.arg)
        if checked is not None:
            values.append(checked)
        if self._parameter_depth < _MAX_PARAMETER_DEPTH:
            self._parameter_depth += 1
            self._deepest = max(self._deepest, self._parameter_depth)
            try:
                sites = self.call_sites(function)
                values.extend(self._argument(site, function, skip, param) for site, skip in sites)
            finally:
                self._parameter_depth -= 1
        else:  # cut short: what is found is the answer at this depth (see `value`)
            self._cut = True
        return _less_sure(unify(values)) if len(values) > 1 else values[0]

    def _checked_type(self, function: FunctionInfo, name: str) -> Value:
        """`isinstance(blob, storage.Blob)` in the function's body: the SDK class the code checks its
        parameter against is what the parameter is meant to hold, at least on some path."""
        checked: list[Value] = []
        for site in function.calls:
            tested = _isinstance_test(site.node)
            if tested is not None and isinstance(tested[0], ast.Name) and tested[0].id == name:
                checked.extend(self.annotation(t, site.scope) for t in spelled_items(tested[1]))
        found = [v for v in checked if isinstance(v, Sdk)]
        return unify(found) if found else None

    def _fixture(self, function: FunctionInfo, name: str) -> Value:
        """What pytest injects for a test's (or fixture's) parameter: the fixture of that name's value.

        Fixtures are looked for in the test's module, then in the `conftest.py` of its package
        and of each package above it, as pytest does.
        """
        module = function.scope.module
        places = [module, *self._conftests(module)]
        for summary in places:
            for candidate in summary.functions:
                if candidate is not function and _fixture_name(candidate) == name:
                    produced = candidate.yields or candidate.returns
                    return _less_sure(unify(self.value(v, candidate.scope) for v in produced))
        return None

    def _conftests(self, module: ModuleSummary) -> Iterator[ModuleSummary]:
        parts = module.package.split(".") if module.package else []
        for end in range(len(parts), -1, -1):
            name = ".".join([*parts[:end], "conftest"])
            found = self.modules.summary(name) if name in self.modules.names and name != module.name else None
            if found is not None:
                yield found

    def _default(self, function: FunctionInfo, param: ast.arg) -> Value:
        args = function.node.args
        positional = [*args.posonlyargs, *args.args]
        if param in positional:
            offset = len(positional) - len(args.defaults)
            index = positional.index(param)
            default = args.defaults[index - offset] if index >= offset else None
        else:
            default = args.kw_defaults[args.kwonlyargs.index(param)]
        if default is None:
            return None  # no default: only what callers pass counts
        return self.value(default, function.scope.parent or function.scope)

    def _argument(self, site: CallSite, function: FunctionInfo, skip: int, param: ast.arg) -> Value:
        """What `site` passes for `param` (the function's first `skip` parameters are not spelled: `self`)."""
        names = [p.arg for p in function.params[skip:]]
        bound = bind_arguments(Signature(tuple(names), (), False), site.node, lenient=True)
        if bound is None:
            return None
        argument = bound.get(param.arg)
        return self.value(argument, site.scope) if argument is not None else NONE

    def call_sites(self, function: FunctionInfo) -> list[tuple[CallSite, int]]:
        """Calls of `function` in the population, each with how many leading parameters it does not spell
        (1 for a bound method's `self`). Constructors are found through their class's name."""
        key = (id(function), self.modules.generation)
        if key not in self._sites:
            self._sites[key] = self._find_call_sites(function)
        return self._sites[key]

    def _find_call_sites(self, function: FunctionInfo) -> list[tuple[CallSite, int]]:
        if isinstance(function.node, ast.Lambda):
            return []
        names = [function.name]
        if function.name == "__init__" and function.owner is not None:
            names.append(function.owner.name)
            if not self.modules.too_common(function.owner.name):  # as `_calls_named`
                names += [sub.name for sub in self.subclasses(function.owner)]
        sites = []
        for name in names:
            for site in self._calls_named(name):
                spelled = self.value(site.node.func, site.scope)
                for callee in spelled.options if isinstance(spelled, Alternatives) else (spelled,):
                    if isinstance(callee, FunctionRef) and callee.function is function:
                        sites.append((site, _unspelled(callee)))
                    elif isinstance(callee, ClassRef) and self._constructor(callee.cls) is function:
                        sites.append((site, 1))
        return sites + self._run_elsewhere(function) + self._called_back(function)

    def _called_back(self, function: FunctionInfo) -> list[tuple[CallSite, int]]:
        """`self._one_op(_download, url)`, where `_one_op(self, op, url)` calls `op(client, tmp)`: the calls a
        function of the project makes of its parameter are calls of the function handed to it. A class handed
        over (`pool.add(DeleteTask)`, then `task_class(client, ...)`) is its constructor handed over."""
        owner = function.owner if function.name == "__init__" else None
        name = owner.name if owner is not None else function.name  # a constructor is handed over as its class
        if self.modules.too_common(name):
            return []
        sites: list[tuple[CallSite, int]] = []
        for summary in self.modules.mentioning(name):
            for site in self._handing_over(summary).get(name, ()):
                sites += self._called_as_handed(function, name, site)
        return sites

    def _called_as_handed(self, function: FunctionInfo, name: str, site: CallSite) -> list[tuple[CallSite, int]]:
        """The calls of `function` that follow from `site` handing it over by `name` to a project function."""
        receiver = self.value(site.node.func, site.scope)
        if not isinstance(receiver, FunctionRef):
            return []
        sites: list[tuple[CallSite, int]] = []
        for position, argument in enumerate(site.node.args):
            handed = self.value(argument, site.scope) if callee_name(argument) == name else None
            if isinstance(handed, FunctionRef) and handed.function is function:
                skipped = _unspelled(handed)
            elif isinstance(handed, ClassRef) and self._constructor(handed.cls) is function:
                skipped = 1
            else:
                continue
            sites.extend((call, skipped) for call in self._calls_of_parameter(receiver, position, _MAX_HANDOVERS))
        return sites

    def _calls_of_parameter(self, callee: FunctionRef, position: int, handovers: int) -> list[CallSite]:
        """The calls `callee` makes of the parameter its call passes at `position` (`op(...)` for `op`), also
        after handing it on to another project function (`pool.run(cb, op)`), at most `handovers` times."""
        name = _handed_parameter(callee, position)
        if name is None:
            return []
        function = callee.function
        calls = [site for site in function.calls if isinstance(site.node.func, ast.Name) and site.node.func.id == name]
        for site in function.calls if handovers else ():
            passed = [i for i, a in enumerate(site.node.args) if isinstance(a, ast.Name) and a.id == name]
            onward = self.value(site.node.func, site.scope) if passed else None
            if isinstance(onward, FunctionRef):
                for index in passed:
                    calls += self._calls_of_parameter(onward, index, handovers - 1)
        return calls

    def _handing_over(self, summary: ModuleSummary) -> dict[str, list[CallSite]]:
        """The module's calls by the names of the functions or methods they pass as positional arguments."""
        if id(summary) not in self._handed:
            handed: dict[str, list[CallSite]] = {}
            for site in summary.calls:
                for name in {callee_name(a) for a in site.node.args if isinstance(a, (ast.Name, ast.Attribute))}:
                    handed.setdefault(name or "", []).append(site)
            self._handed[id(summary)] = handed
        return self._handed[id(summary)]

    def _run_elsewhere(self, function: FunctionInfo) -> list[tuple[CallSite, int]]:
        """`pool.submit(self._download, client, key)`: a call of `function` made by an executor or a
        worker thread, with the arguments that follow it (seen as the call `self._download(client, key)`)."""
        sites = []
        for runner, (position, passes_keywords) in _RUNNERS.items():
            for summary in self.modules.mentioning_all(function.name, runner):
                for site in summary.calls_by_name.get(runner, ()):
                    call = site.node
                    if len(call.args) <= position or any(isinstance(a, ast.Starred) for a in call.args):
                        continue
                    callee = self.value(call.args[position], site.scope)
                    if isinstance(callee, FunctionRef) and callee.function is function:
                        keywords = call.keywords if passes_keywords else []
                        forwarded = ast.Call(call.args[position], call.args[position + 1 :], keywords)
                        sites.append((CallSite(forwarded, site.scope), _unspelled(callee)))
        return sites

    def _constructor(self, cls: ClassInfo) -> FunctionInfo | None:
        return next((klass.methods["__init__"] for klass in self.mro(cls) if "__init__" in klass.methods), None)

    def _spelled_annotation(self, node: ast.Constant, text: str) -> ast.expr | None:
        """The expression a string annotation spells, parsed once and kept.

        Answers are remembered by the identity of the node asked about; a tree parsed anew for each
        question and then dropped lets a later one reuse its identity and get its answer (skypilot's
        `-> "mypy_boto3_s3.Client"` was answered as whatever annotation had been read before it).
        """
        if id(node) not in self._annotations:
            try:
                self._annotations[id(node)] = ast.parse(text, mode="eval").body
            except SyntaxError:
                self._annotations[id(node)] = None
        return self._annotations[id(node)]

    def annotation(self, node: ast.expr, scope: Scope) -> Value:
        """An SDK object or project class declared by annotation (strings, Optional, unions included)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            parsed = self._spelled_annotation(node, node.value)
            return self.annotation(parsed, scope) if parsed is not None else None
        if isinstance(node, ast.BinOp):
            return self.annotation(node.left, scope) or self.annotation(node.right, scope)
        if isinstance(node, ast.Subscript):
            inner = spelled_items(node.slice)
            generic = callee_name(node.value) or ""
            if generic in _ANNOTATED_ITEMS:
                item = self.annotation(inner[0], scope)
                return Items(item) if item is not None else None
            if generic not in ANNOTATED_ONE_OF:
                wrapper = self.annotation(node.value, scope)  # a generic class of the project: `Hook[Client]`
                if wrapper is not None or len(inner) != 1:
                    return wrapper
                # a generic from outside the project that stands for its parameter (`ResourceDependency[S3Resource]`)
                return _less_sure(self.annotation(inner[0], scope))
            return next((v for v in (self.annotation(i, scope) for i in inner) if v is not None), None)
        value = self.value(node, scope)
        if isinstance(value, Ext) and value.dotted in self.ruleset.types:
            return Sdk(self.ruleset.types[value.dotted])
        if isinstance(value, Ext) and value.dotted in self.ruleset.generic_types:
            return Sdk(self.ruleset.generic_types[value.dotted], certain=False)
        if isinstance(value, Ext) and value.dotted in self.ruleset.creations_by_call:  # `client: boto3.client`
            made = {creation.result for creation in self.ruleset.creations_by_call[value.dotted]}
            return Sdk(made.pop(), certain=False) if len(made) == 1 else None
        if isinstance(value, ClassRef):
            return Instance(value.cls)
        return None


def _imported_dotted(node: ast.expr, scope: Scope) -> str:
    """`storage.client.Client` after `from google.cloud import storage`: the full dotted name, read
    from the import alone ("" for anything else). Type-argument checks use it instead of evaluating
    every argument of every call, which would summarise the modules they name."""
    path: list[str] = []
    while isinstance(node, ast.Attribute):
        path.insert(0, node.attr)
        node = node.value
    bindings = scope.lookup(node.id) if isinstance(node, ast.Name) else None
    if not bindings or len(bindings) != 1 or bindings[0].kind is not Kind.IMPORT:
        return ""
    return ".".join([bindings[0].dotted, *path])


def _imports_by_name(cls: ClassInfo) -> bool:
    """Whether a method of the class calls `importlib.import_module` (or `__import__`)."""
    calls = (n for m in cls.methods.values() for n in ast.walk(m.node) if isinstance(n, ast.Call))
    return any(callee_name(call.func) in ("import_module", "__import__") for call in calls)


def _literal_annotation(annotation: ast.expr | None) -> tuple[object, ...] | None:
    """The values a `Literal["s3", "s3control"]` annotation allows (None for any other annotation)."""
    if not (isinstance(annotation, ast.Subscript) and callee_name(annotation.value) == "Literal"):
        return None
    inner = spelled_items(annotation.slice)
    values = tuple(item.value for item in inner if isinstance(item, ast.Constant))
    return values if len(values) == len(inner) else None


def _forwarded_argument(callee: FunctionRef, call: ast.Call) -> ast.expr | None:
    """The argument of `call` that `callee` hands back wrapped: `f(func)` returns a closure calling `func(*a, **k)`.

    Wrappers that run a function in an executor, retry it or time it return a function that
    forwards every argument to the one they were given; calling that result is calling it.
    """
    function = callee.function
    parameter = _forwarding_parameter(function)
    if parameter is None or function.self_name is not None:
        return None
    return _argument_for(callee, call, parameter)


def _forwarding_parameter(function: FunctionInfo) -> int | None:
    """The position of the parameter a wrapper factory's returned closure calls with all of its own arguments."""
    node = function.node
    if isinstance(node, ast.Lambda) or len(function.returns) != 1 or not isinstance(function.returns[0], ast.Name):
        return None
    returned = function.returns[0].id
    closures = [s for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and s.name == returned]
    if len(closures) != 1 or closures[0].args.vararg is None or closures[0].args.kwarg is None:
        return None
    star, double_star = closures[0].args.vararg.arg, closures[0].args.kwarg.arg
    names = [p.arg for p in function.params]
    for inner in ast.walk(closures[0]):
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and _spreads(inner, star, double_star):
            return names.index(inner.func.id) if inner.func.id in names else None
    return None


def _spreads(call: ast.Call, star: str, double_star: str) -> bool:
    """Whether `call` passes on `*star` and `**double_star`."""
    spread = [a.value for a in call.args if isinstance(a, ast.Starred)]
    spread_keywords = [k.value for k in call.keywords if k.arg is None]
    positional = any(isinstance(value, ast.Name) and value.id == star for value in spread)
    return positional and any(isinstance(value, ast.Name) and value.id == double_star for value in spread_keywords)


def bind_arguments(signature: Signature, call: ast.Call, *, lenient: bool = False) -> dict[str, ast.expr] | None:
    """Map a call's arguments to parameter names; None when they cannot be bound statically.

    `lenient` binds what it can around `*args`/`**kwargs` (for following values into project
    functions); rules need the strict form.
    """
    bound: dict[str, ast.expr] = {}
    for position, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            if lenient:
                break
            return None
        if position < len(signature.positional):
            bound[signature.positional[position]] = arg
        elif signature.any_positional:
            bound[f"#{position}"] = arg
        elif not lenient:
            return None
    for keyword in call.keywords:
        if keyword.arg is None:
            if lenient:
                continue
            return None
        if keyword.arg in bound or not signature.accepts_keyword(keyword.arg):
            if lenient:
                continue
            return None
        bound[keyword.arg] = keyword.value
    return bound


def reaching(bindings: list[Binding], use: ast.Name, scope: Scope) -> list[Binding]:
    """The bindings of a name in the use's own scope that can reach the use, without a control-flow graph.

    A binding in another branch of the same `if` (or `match`) never reaches; one after the use
    reaches only through a loop around both; and the last binding before the use on its own
    path (not inside a branch the use is not in) hides every binding before it.
    """
    flow = scope.module.flow
    where = flow.get(id(use))
    if where is None:
        return bindings
    position, branches = where
    local = [b for b in bindings if b.scope is scope and id(b) in flow]
    if len(local) < 2:
        return bindings
    kept = [b for b in local if _may_reach(flow[id(b)], position, branches)]
    dominating = [b for b in kept if flow[id(b)][0] < position and _is_prefix(flow[id(b)][1], branches)]
    if dominating:
        last = max(flow[id(b)][0] for b in dominating)
        kept = [b for b in kept if flow[id(b)][0] >= last or not flow[id(b)][0] < position]
    return [b for b in bindings if b.scope is not scope or id(b) not in flow] + kept


def _may_reach(binding: tuple[Position, Branches], position: Position, branches: Branches) -> bool:
    bound_at, bound_in = binding
    for (statement, label), (other, other_label) in zip(bound_in, branches, strict=False):
        if statement != other:
            break
        if label != other_label:
            return False  # the other branch of the same if / match
    if bound_at < position:
        return True
    return any(label == LOOP and (statement, label) in branches for statement, label in bound_in)


def _is_prefix(inner: Branches, outer: Branches) -> bool:
    return outer[: len(inner)] == inner


def _fixture_name(function: FunctionInfo) -> str | None:
    """The name a pytest fixture is requested by (`@pytest.fixture(name="s3")` or the function's name)."""
    if isinstance(function.node, ast.Lambda) or not function.has_decorator("fixture"):
        return None
    for decorator in function.node.decorator_list:
        if isinstance(decorator, ast.Call) and callee_name(decorator.func) == "fixture":
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return function.name


def _unspelled(callee: FunctionRef) -> int:
    """How many leading parameters a call of `callee` does not spell: 1 (`self`) for a bound method."""
    return 1 if callee.bound is not None and callee.function.self_name is not None else 0


def _isinstance_test(node: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    """The object and the class (or tuple of classes) of an `isinstance(obj, cls)` call, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "isinstance"
        and len(node.args) == 2
        and not node.keywords
    ):
        return node.args[0], node.args[1]
    return None


def _keyword_names(keyword: ast.keyword, scope: Scope) -> list[str | None]:
    """The names a keyword argument spells: its own, or for `**params` the string keys of the dict literal
    `params` is bound to, once, in the call's scope (`params = {"Bucket": b, "Key": k}`); None: unknown."""
    if keyword.arg is not None or not isinstance(keyword.value, ast.Name):
        return [keyword.arg]
    bindings = scope.bindings.get(keyword.value.id, [])
    value = bindings[0].node if len(bindings) == 1 and bindings[0].kind is Kind.VALUE else None
    if not isinstance(value, ast.Dict) or bindings[0].path:
        return [None]
    return [key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None for key in value.keys]


def _handed_parameter(callee: FunctionRef, position: int) -> str | None:
    """The parameter a call of `callee` fills at `position`, unless the body binds it again."""
    function = callee.function
    offset = _unspelled(callee)
    if position + offset >= len(function.params):
        return None
    name = function.params[position + offset].arg
    return name if len(function.scope.bindings.get(name, ())) == 1 else None  # else not only what was handed


def _argument_for(callee: FunctionRef, call: ast.Call, index: int) -> ast.expr | None:
    """The argument a call passes for the function's parameter at `index`."""
    function = callee.function
    offset = _unspelled(callee)
    if index < offset:
        return None
    names = [p.arg for p in function.params[offset:]]
    bound = bind_arguments(Signature(tuple(names), (), False), call, lenient=True) or {}
    return bound.get(function.params[index].arg)


def _super_init_calls(init: FunctionInfo) -> Iterator[CallSite]:
    """The `super().__init__(...)` calls a constructor makes."""
    for site in init.calls:
        func = site.node.func
        owner = func.value if isinstance(func, ast.Attribute) and func.attr == "__init__" else None
        if isinstance(owner, ast.Call) and callee_name(owner.func) == "super":
            yield site


def _bases(cls: ClassInfo) -> list[ast.expr]:
    """The class's base expressions, with generic parameters dropped (`Base[T]` is `Base`)."""
    return [base.value if isinstance(base, ast.Subscript) else base for base in cls.node.bases]


def _same_path(stored: tuple[str, ...], read: tuple[str, ...]) -> bool:
    """Parts equal, a subscript with a non-literal key on either side matching any subscript."""
    return len(stored) == len(read) and all(
        a == b or (a.startswith("[") and b.startswith("[") and "[*]" in (a, b))
        for a, b in zip(stored, read, strict=True)
    )


def sdk_calls(program: Program, summary: ModuleSummary) -> Iterator[tuple[CallSite, Sdk, str]]:
    """Every `receiver.method(...)` call in the module whose receiver is an SDK object."""
    for site in summary.calls:
        func = site.node.func
        if isinstance(func, ast.Attribute):
            owner = program.sdk(func.value, site.scope)
            if owner is not None:
                yield site, owner, func.attr


@dataclass(frozen=True)
class SdkUse:
    """A call of an SDK object's method (or a method passed as a value) that a rule matches."""

    node: ast.Call | ast.Attribute
    scope: Scope
    owner: Sdk | None  # None for module-level SDK functions
    rule: str
    manual: str = ""  # why the call is found but cannot be fixed where it is (called by name, unbound)


def sdk_uses(program: Program, summary: ModuleSummary) -> list[SdkUse]:
    """The rule matches in one module, as the LibCST detector will find them (used to decide which files it parses)."""
    ruleset = program.ruleset
    names = ruleset.method_names
    uses: list[SdkUse] = []
    for site in summary.calls:
        spelled = site.node.func.attr if isinstance(site.node.func, ast.Attribute) else None
        if names is not None and spelled is not None and spelled not in names:
            use = _dispatched_use(program, site) if _names_a_method(site.node, names) else None
        else:
            use = _call_use(program, site) or _dispatched_use(program, site) or _unbound_use(program, site)
        if use is not None:
            uses.append(use)
    for node, scope in summary.value_reads:
        if names is not None and node.attr not in names:
            continue
        owner = program.receiver(node.value, scope, node.attr)
        if owner is None or not program.is_distinctive(owner, node.attr):
            continue
        rules = ruleset.rules_by_member.get((owner.object, node.attr), [])
        if not rules and (owner.object, node.attr) not in ruleset.creations_by_member:
            rules = [rule for rule in [ruleset.method_passed_along(owner.object, node.attr)] if rule]
        if rules:
            uses.append(SdkUse(node, scope, owner, rules[0].id))
    return uses


def _names_a_method(call: ast.Call, names: frozenset[str]) -> bool:
    """Whether a literal argument of the call spells an SDK method name (a dispatcher's `_call("put_object")`)."""
    arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
    return any(isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value in names for a in arguments)


def _call_use(program: Program, site: CallSite) -> SdkUse | None:
    ruleset = program.ruleset
    func = site.node.func
    if isinstance(func, ast.Attribute):
        owner = program.receiver(func.value, site.scope, func.attr) or program.shaped_receiver(site)
        if owner is not None:
            method = func.attr
            if not program.is_distinctive(owner, method):
                return None
            for rule in ruleset.rules_by_member.get((owner.object, method), ()):
                if _when_holds(program, rule.when, rule.signature, site):
                    return SdkUse(site.node, site.scope, owner, rule.id)
            if (owner.object, method) in ruleset.creations_by_member:
                return None
            catch_all = ruleset.catch_all(owner.object, method)
            return SdkUse(site.node, site.scope, owner, catch_all.id) if catch_all is not None else None
    callee = program.value(func, site.scope)
    if isinstance(callee, Ext):
        for rule in ruleset.rules_by_call.get(callee.dotted, ()):
            if _when_holds(program, rule.when, rule.signature, site):
                return SdkUse(site.node, site.scope, None, rule.id)
    return None


def _dispatched_use(program: Program, site: CallSite) -> SdkUse | None:
    found = program.dispatched(site)
    if found is None:
        return None
    method, owner, via = found
    if not program.is_distinctive(owner, method):
        return None
    rule = _method_rule(program, owner, method)
    if rule is None:
        return None
    reason = f"the SDK method is called by the name this call passes to {via}(); rewrite {via} (or this call) by hand"
    program.record_indirect(site, rule, owner, reason)
    return SdkUse(site.node, site.scope, owner, rule, reason)


def _unbound_use(program: Program, site: CallSite) -> SdkUse | None:
    """`ObjectStorageClient.get_object(self, ...)`: an SDK class's method called on a subclass instance."""
    func = site.node.func
    if not isinstance(func, ast.Attribute) or not site.node.args:
        return None
    cls = program.value(func.value, site.scope)
    if not isinstance(cls, Ext) or cls.dotted not in program.ruleset.types:
        return None
    owner = Sdk(program.ruleset.types[cls.dotted])
    instance = program.value(site.node.args[0], site.scope)
    if not (isinstance(instance, Instance) and program.sdk_base(instance.cls) == owner.object):
        return None  # `ContainerClient.from_connection_string(...)`: a class method, not a call on a subclass
    rule = _method_rule(program, owner, func.attr)
    if rule is None:
        return None
    reason = "an SDK class's own method called on an instance of a subclass; rewrite the subclass by hand"
    program.record_indirect(site, rule, owner, reason)
    return SdkUse(site.node, site.scope, owner, rule, reason)


def _method_rule(program: Program, owner: Sdk, method: str) -> str | None:
    """The rule for calling `method` on `owner` when its arguments are not looked at (explicit, else catch-all)."""
    ruleset = program.ruleset
    rules = ruleset.rules_by_member.get((owner.object, method))
    if rules:
        return rules[0].id
    if (owner.object, method) in ruleset.creations_by_member:
        return None
    catch_all = ruleset.catch_all(owner.object, method)
    return catch_all.id if catch_all is not None else None


def _when_holds(program: Program, when: dict[str, tuple[str, ...]], signature: Signature, site: CallSite) -> bool:
    if not when:
        return True
    bound = bind_arguments(signature, site.node)
    if bound is None:
        return False
    for name, allowed in when.items():
        given = program.value(bound[name], site.scope) if name in bound else None
        if not (isinstance(given, Const) and given.value in allowed):
            return False
    return True
