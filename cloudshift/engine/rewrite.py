"""Apply a plan: replace matched calls by their templates, then tidy imports and dead SDK objects.

The output is parsed and compiled again before anyone may write it; a rewrite that does not
produce valid Python raises `RewriteError` and the caller keeps the original text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from cloudshift.engine.detect import Match
from cloudshift.engine.parse import NoFieldHooks
from cloudshift.engine.plan import CreationFix, Decision, Plan, Planner, dict_entries
from cloudshift.engine.resolve import Resolver, bind_arguments
from cloudshift.model import Shim
from cloudshift.rules.pattern import block_placeholder, normalized_code, replacement
from cloudshift.rules.ruleset import RuleSet
from cloudshift.rules.template import Template

PROFILE_KEYWORD = "storage_profile"  # the factory's keyword naming the storage profile a fix records
ATOMIC = (
    cst.Name,
    cst.Attribute,
    cst.Call,
    cst.Subscript,
    cst.SimpleString,
    cst.ConcatenatedString,
    cst.FormattedString,
    cst.Integer,
    cst.Float,
    cst.List,
    cst.Dict,
    cst.Tuple,
    cst.Set,
)


class RewriteError(Exception):
    """The rewritten module is not valid Python: a bug in a rule or in cloudshift, never written."""


def apply_plan(planner: Planner, plan: Plan, shim: Shim) -> str:
    """The planner's module's new text with `plan` (one of its plans) applied, imports and dead objects tidied."""
    module, ruleset = planner.module, planner.ruleset
    rewritten = module.visit(_Rewriter(plan, shim, planner.parents))
    if rewritten.deep_equals(module):
        return module.code
    if _may_leave_unused(plan, planner.resolver):
        rewritten = _remove_dead_objects(planner.resolver, module, rewritten, ruleset)
    # LibCST's import visitors resolve scopes over the whole module: run them only when needed.
    lazy = _LazyShimImport(shim, tuple(ruleset.modules)) if _imports_sdk_only_in_functions(module, ruleset) else None
    if lazy is not None:
        rewritten = rewritten.visit(lazy)
    if (lazy is None or lazy.elsewhere) and not _imports_factory(rewritten, shim):
        rewritten = _add_shim_import(rewritten, shim)
    imports = _sdk_imports(rewritten, ruleset)
    names = _names_in_code(rewritten, {name for statement in imports for name in _bound_names(statement)})
    maybe_unused = [s for s in imports if not names.issuperset(_bound_names(s))]
    if maybe_unused:
        context = CodemodContext()
        for statement in maybe_unused:
            RemoveImportsVisitor.remove_unused_import_by_node(context, statement)
        rewritten = _RemoveImports(context).transform_module(rewritten)
    return rewritten.code


def _imports_factory(module: cst.Module, shim: Shim) -> bool:
    """Whether the module already has `from <shim module> import <factory>` at its top level."""
    for line in module.body:
        for statement in getattr(line, "body", ()) if isinstance(line, cst.SimpleStatementLine) else ():
            if (
                isinstance(statement, cst.ImportFrom)
                and statement.module is not None
                and not statement.relative
                and _dotted_code(statement.module) == shim.module
                and not isinstance(statement.names, cst.ImportStar)
                and any(_dotted_code(a.name) == shim.factory and a.asname is None for a in statement.names)
            ):
                return True
    return False


def _add_shim_import(module: cst.Module, shim: Shim) -> cst.Module:
    """The module with `from <shim module> import <factory>` added by LibCST's AddImportsVisitor, run on
    the module's head only: the visitor reads and changes nothing but the first statement, the import
    lines after it and the statement after those, and on every node of a large file it takes seconds."""
    head = 1  # the docstring, or whatever comes first
    while head < len(module.body) and _is_import_line(module.body[head]):
        head += 1
    head += 1  # the statement after the imports gets a blank line before it
    context = CodemodContext()
    AddImportsVisitor.add_needed_import(context, shim.module, shim.factory)
    added = AddImportsVisitor(context).transform_module(module.with_changes(body=module.body[:head]))
    return added.with_changes(body=[*added.body, *module.body[head:]])


def _is_import_line(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(
        isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body
    )


def _bound_names(statement: cst.Import | cst.ImportFrom) -> set[str]:
    """The names an import binds; one the code never mentions leaves the import for LibCST's scope analysis."""
    aliases = [] if isinstance(statement.names, cst.ImportStar) else statement.names
    bound = (alias.asname.name if alias.asname is not None else alias.name for alias in aliases)
    return {_dotted_code(name).split(".")[0] for name in bound}


def _names_in_code(module: cst.Module, wanted: set[str]) -> set[str]:
    """The names the code outside import statements mentions (attribute names after a dot excluded),
    read statement by statement until every `wanted` one is seen: usually near the top of a large module."""
    names: set[str] = set()

    class Visitor(NoFieldHooks, cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> bool:
            return False

        def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
            return False

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            node.value.visit(self)
            return False

        def visit_Name(self, node: cst.Name) -> None:
            names.add(node.value)

    visitor = Visitor()
    for statement in module.body:
        if wanted <= names:
            break
        statement.visit(visitor)
    return names


def verify(code: str, path: str) -> cst.Module:
    """`code` parsed, for the next fix pass; RewriteError unless it parses with LibCST and compiles (it is
    never executed)."""
    try:
        module = cst.parse_module(code)
        compile(code, path, "exec", dont_inherit=True)
    except (cst.ParserSyntaxError, SyntaxError, ValueError) as error:
        raise RewriteError(f"the rewritten file does not parse: {error}") from error
    return module


class _Rewriter(NoFieldHooks, cst.CSTTransformer):
    """Replaces planned nodes bottom-up, so templates see already-rewritten receivers and arguments.

    It enters only the nodes on the way to a planned one: the rest of a large module stays as it is,
    unvisited (a quick fix changes one call in thousands of lines).
    """

    def __init__(self, plan: Plan, shim: Shim, parents: Mapping[cst.CSTNode, cst.CSTNode]) -> None:
        self.plan = plan
        self.shim = shim
        self.entered = _with_ancestors(_planned_nodes(plan), parents)
        self.updated_calls: dict[int, cst.Call] = {}
        found = [d.found for _, d in plan.targets.values() if d.found is not None]
        self.removed = {id(node) for match in found for node in match.nodes[:-1]}  # statements before a pattern's last
        self.removed_lines: dict[int, Sequence[cst.EmptyLine]] = {}  # their comments and blank lines above
        self.captured = {id(node) for match in found for node in match.captures.values()}
        self.updated_captures: dict[int, cst.CSTNode] = {}
        self.quotes: list[str] = []  # the quote of each f-string the visit is inside

    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node) and id(node) in self.entered

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        self.quotes.append(node.quote)

    # LibCST types on_leave as returning the node's own type; a rewrite replaces a call with any expression.
    def on_leave(  # type: ignore[override]
        self, original_node: cst.CSTNode, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNode]:
        key = id(original_node)
        if isinstance(original_node, cst.FormattedString):
            self.quotes.pop()
        if key in self.plan.decisions and isinstance(updated_node, cst.Call):
            self.updated_calls[key] = updated_node
        if key in self.removed:
            self.removed_lines[key] = getattr(updated_node, "leading_lines", ())
            return cst.RemoveFromParent()
        new = self._replacement(key, updated_node)
        if key in self.captured:
            assert isinstance(new, cst.CSTNode)
            self.updated_captures[key] = new
        return new

    def _replacement(self, key: int, updated_node: cst.CSTNode) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        new = self._rewritten(key, updated_node)
        profile = self.plan.profiles.get(key)
        if profile is None or new is updated_node:
            return new
        named = _NameProfile(self.shim.factory, profile.name, "'" if '"' in "".join(self.quotes) else '"')
        if isinstance(new, cst.FlattenSentinel):
            return cst.FlattenSentinel([node.visit(named) for node in new.nodes])  # type: ignore[misc]
        return new.visit(named)  # type: ignore[return-value]

    def _rewritten(self, key: int, updated_node: cst.CSTNode) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        if key in self.plan.targets:
            match, decision = self.plan.targets[key]
            if decision.found is not None:
                return self._render_pattern(match, decision, updated_node)
            return self._replace(updated_node, self._render_fix(match, decision))
        if key in self.plan.creations:
            return self._replace(updated_node, self._render_creation(self.plan.creations[key], updated_node))
        if key in self.plan.fields and isinstance(updated_node, cst.Attribute):
            return updated_node.with_changes(attr=cst.Name(self.plan.fields[key].name))
        if key in self.plan.fields and isinstance(updated_node, cst.Subscript):  # obj["Key"] -> obj.key
            return cst.Attribute(
                updated_node.value, cst.Name(self.plan.fields[key].name), lpar=updated_node.lpar, rpar=updated_node.rpar
            )
        return updated_node

    def _render_pattern(
        self, match: Match, decision: Decision, updated_node: cst.CSTNode
    ) -> cst.CSTNode | cst.FlattenSentinel[cst.CSTNode]:
        """The code a pattern matched, replaced by its template with the captured code put back."""
        assert decision.variant is not None and decision.found is not None
        pattern = decision.found.pattern
        captures = {name: self.updated_captures.get(id(node), node) for name, node in decision.found.captures.items()}
        args, receiver = self._bound_call(match)

        def variable(name: str, follows: str) -> str:
            block = block_placeholder(pattern, name)
            if block is not None:
                return block
            captured = captures[name]
            assert isinstance(captured, cst.BaseExpression)
            return _code(captured, parenthesize=follows in ".[(")

        nodes = replacement(pattern, self._fill(decision.variant.template, args, receiver, variable), captures)
        if pattern.is_expression:
            assert isinstance(nodes[0], cst.BaseExpression)
            return self._replace(updated_node, nodes[0])
        first = decision.found.nodes[0]
        lines = self.removed_lines.get(id(first), getattr(updated_node, "leading_lines", ()))
        nodes[0] = nodes[0].with_changes(leading_lines=lines)
        return cst.FlattenSentinel(nodes) if len(nodes) > 1 else nodes[0]

    def _bound_call(self, match: Match) -> tuple[dict[str, cst.Arg], cst.BaseExpression | None]:
        """The rewritten call's arguments bound to the rule's parameters, and its receiver."""
        call = self.updated_calls[id(match.node)]
        args = bind_arguments(match.rule.signature, call.args) or {}
        receiver = call.func.value if isinstance(call.func, cst.Attribute) else None
        return args, receiver

    def _render_fix(self, match: Match, decision: Decision) -> cst.BaseExpression:
        assert decision.variant is not None
        args, receiver = self._bound_call(match)
        keywords: list[tuple[str, cst.BaseExpression]] = []
        for param, keyword in decision.variant.keywords.items():
            if param in args:
                keywords.append((keyword, args[param].value))
        for param, mapping in decision.variant.dict_keywords.items():
            entries = dict_entries(args[param].value) if param in args else None
            for key, keyword in mapping.items():
                if entries and key in entries:
                    keywords.append((keyword, entries[key]))
        rendered = self._render(decision.variant.template, args, receiver, keywords)
        return _keep_layout(self.updated_calls[id(match.node)], rendered)

    def _render_creation(self, fix: CreationFix, updated: cst.CSTNode) -> cst.BaseExpression:
        assert fix.creation.template is not None
        if isinstance(updated, cst.Call):
            args = bind_arguments(fix.creation.signature, updated.args) or {}
            receiver = updated.func.value if isinstance(updated.func, cst.Attribute) else None
        else:
            assert isinstance(updated, cst.Attribute)
            args, receiver = {}, updated.value
        return self._render(fix.creation.template, args, receiver, [])

    def _render(
        self,
        template: Template,
        args: dict[str, cst.Arg],
        receiver: cst.BaseExpression | None,
        keywords: list[tuple[str, cst.BaseExpression]],
    ) -> cst.BaseExpression:
        expression = cst.parse_expression(self._fill(template, args, receiver, None))
        if keywords:
            expression = _add_keywords(expression, keywords)
        return expression

    def _fill(
        self,
        template: Template,
        args: dict[str, cst.Arg],
        receiver: cst.BaseExpression | None,
        variable: Callable[[str, str], str] | None,
    ) -> str:
        """The template's text with `{...}` placeholders (and, for patterns, `$name`s) spelled out, in one pass."""

        def substitute(name: str, follows: str) -> str:
            if name == "shim":
                return self.shim.factory
            if name == "self":
                assert receiver is not None
                return _code(receiver, parenthesize=follows in ".[(")
            param, _, key = name.partition(".")
            value = args[param].value
            if key:
                entries = dict_entries(value)
                assert entries is not None
                value = entries[key]
            return _code(value, parenthesize=follows in ".[(")

        return template.fill(substitute, variable)

    @staticmethod
    def _replace(original: cst.CSTNode, new: cst.BaseExpression) -> cst.BaseExpression:
        lpar = getattr(original, "lpar", ())
        rpar = getattr(original, "rpar", ())
        if lpar and hasattr(new, "lpar"):
            return new.with_changes(lpar=lpar, rpar=rpar)
        return new


class _NameProfile(cst.CSTTransformer):
    """Adds `storage_profile="name"` to the shim factory's calls, so the rewritten code uses the storage profile
    the fix records instead of whatever provider the environment would pick."""

    def __init__(self, factory: str, name: str, quote: str) -> None:
        self.factory = factory
        self.value = cst.SimpleString(f"{quote}{name}{quote}")

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        named = any(arg.keyword is not None and arg.keyword.value == PROFILE_KEYWORD for arg in updated_node.args)
        if named or not (isinstance(updated_node.func, cst.Name) and updated_node.func.value == self.factory):
            return updated_node
        result = _add_keywords(updated_node, [(PROFILE_KEYWORD, self.value)])
        assert isinstance(result, cst.Call)
        return result


def _keep_layout(original: cst.Call, rendered: cst.BaseExpression) -> cst.BaseExpression:
    """A call written one argument per line stays so: the first call of the rewritten chain that
    takes several arguments gets the original's line breaks, indentation and trailing comma."""
    opening = original.whitespace_before_args
    if not isinstance(opening, cst.ParenthesizedWhitespace) or "#" in cst.Module([]).code_for_node(original):
        return rendered  # on one line already, or a comment could be duplicated
    call: cst.BaseExpression = rendered
    while isinstance(call, cst.Call) and len(call.args) < 2:
        call = call.func.value if isinstance(call.func, cst.Attribute) else cst.Name("_")
    if not isinstance(call, cst.Call):
        return rendered
    last = original.args[-1]
    trailing = isinstance(last.comma, cst.Comma)
    closing = last.comma.whitespace_after if isinstance(last.comma, cst.Comma) else last.whitespace_after_arg
    first_comma = original.args[0].comma
    between = first_comma.whitespace_after if len(original.args) > 1 and isinstance(first_comma, cst.Comma) else opening
    args = [arg.with_changes(comma=cst.Comma(whitespace_after=between)) for arg in call.args[:-1]]
    final = call.args[-1].with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
    if trailing:
        args.append(final.with_changes(comma=cst.Comma(whitespace_after=closing)))
    else:
        args.append(final.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=closing))
    laid_out = call.with_changes(whitespace_before_args=opening, args=args)
    return rendered.deep_replace(call, laid_out) if call is not rendered else laid_out


def _code(node: cst.BaseExpression, parenthesize: bool) -> str:
    code = cst.Module([]).code_for_node(node)
    if parenthesize and not isinstance(node, ATOMIC) and not getattr(node, "lpar", ()):
        return f"({code})"
    return code


def _add_keywords(expression: cst.BaseExpression, keywords: list[tuple[str, cst.BaseExpression]]) -> cst.BaseExpression:
    """Append keyword arguments to the outermost call of a rendered template."""
    if isinstance(expression, cst.Call):
        extra = [
            cst.Arg(
                value=value,
                keyword=cst.Name(name),
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
            )
            for name, value in keywords
        ]
        args = list(expression.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        for index, arg in enumerate(extra[:-1]):
            extra[index] = arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return expression.with_changes(args=[*args, *extra])
    if isinstance(expression, cst.Attribute):
        return expression.with_changes(value=_add_keywords(expression.value, keywords))
    raise ValueError("a template with keywords must end in a call or an attribute of one")


def _planned_nodes(plan: Plan) -> Iterator[cst.CSTNode]:
    """Every node the rewriter replaces, removes or reads back once rewritten."""
    for match, decision in plan.targets.values():
        yield match.node
        yield from _replaced_by(decision)
        if decision.found is not None:
            yield from decision.found.captures.values()
    for fix in plan.creations.values():
        yield fix.node
    for field in plan.fields.values():
        yield field.read


def _replaced_by(decision: Decision) -> Iterator[cst.CSTNode]:
    """The code a decision's fix replaces: its target, and the statements a pattern matched."""
    if decision.target is not None:
        yield decision.target
    if decision.found is not None:
        yield from decision.found.nodes


def _with_ancestors(nodes: Iterable[cst.CSTNode], parents: Mapping[cst.CSTNode, cst.CSTNode]) -> set[int]:
    """The ids of `nodes` and of every node above them, up to the module."""
    reached: set[int] = set()
    for node in nodes:
        current: cst.CSTNode | None = node
        while current is not None and id(current) not in reached:
            reached.add(id(current))
            current = parents.get(current)
    return reached


def _may_leave_unused(plan: Plan, resolver: Resolver) -> bool:
    """Whether the plan drops every read of some binding; only then can an SDK object become unused.

    A binding still read in code the fixes keep stays used, so the rewritten module need not be
    resolved again to look for dead objects (most of a large module's quick fix, for nothing).
    """
    dropped: set[int] = set()
    for match, decision in plan.targets.values():
        for replaced in _replaced_by(decision):
            dropped |= _ids_within(replaced, _copied(match, decision))
    for fix in plan.creations.values():
        dropped |= _ids_within(fix.node, _creation_copied(fix))
    return _reads_only_within(resolver, dropped)


def _reads_only_within(resolver: Resolver, dropped: set[int]) -> bool:
    """Whether some binding is read only inside the `dropped` nodes (given by id)."""
    read_dropped: set[int] = set()
    read_kept: set[int] = set()
    for bindings, node, _ in resolver.loads():
        if bindings is not None:
            (read_dropped if id(node) in dropped else read_kept).add(id(bindings))
    return bool(read_dropped - read_kept)


def _copied(match: Match, decision: Decision) -> list[cst.CSTNode]:
    """The code a fix copies into its replacement: the arguments its template (and, for a call, its
    keywords) take, the receiver for `{self}`, and the code a pattern's `$name`s captured."""
    if decision.variant is None:
        return []
    template = decision.variant.template
    copied: list[cst.CSTNode] = [value for name, value in decision.values.items() if name in template.placeholders]
    if decision.found is None:
        copied += [value for name, value in decision.values.items() if name.startswith("keyword:")]
    else:
        copied += [node for name, node in decision.found.captures.items() if name in template.variables]
    if template.uses_receiver and isinstance(match.node, cst.Call) and isinstance(match.node.func, cst.Attribute):
        copied.append(match.node.func.value)
    return copied


def _creation_copied(fix: CreationFix) -> list[cst.CSTNode]:
    """The code a creation's rewrite copies: its template's arguments, and the receiver for `{self}`."""
    template = fix.creation.template
    copied: list[cst.CSTNode] = list(fix.values.values())
    if template is not None and template.uses_receiver:
        copied.append(fix.node.func.value if isinstance(fix.node, cst.Call) else fix.node.value)  # type: ignore[attr-defined]
    return copied


def _ids_within_all(roots: Iterable[cst.CSTNode]) -> set[int]:
    """The ids of these nodes and of every node inside them."""
    return set().union(*(_ids_within(root, ()) for root in roots))


def _ids_within(root: cst.CSTNode, kept: Iterable[cst.CSTNode]) -> set[int]:
    """The ids of `root` and every node inside it, except inside the `kept` nodes."""
    skipped = {id(node) for node in kept}
    found: set[int] = set()

    class Visitor(NoFieldHooks, cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if id(node) in skipped:
                return False
            found.add(id(node))
            return True

    root.visit(Visitor())
    return found


def _remove_dead_objects(
    resolver: Resolver, original: cst.Module, rewritten: cst.Module, ruleset: RuleSet
) -> cst.Module:
    """Drop `x = <SDK object>` statements the rewrite left unused (the client, the namespace lookup).

    Only bindings that were used before the rewrite (as `resolver`, the original's, sees them) are
    removed: an SDK object the author never used is theirs to keep. Dropping a statement can leave
    another object unused only when it held that object's last read; only then is the module
    resolved once more.
    """
    used_before = {key for key, used in _sdk_assignments(original, resolver).items() if used}
    if not used_before:
        return rewritten  # nothing can have become unused: spare resolving the rewritten module
    for _ in range(5):
        resolver = Resolver(rewritten, ruleset)
        dead = {key for key, used in _sdk_assignments(rewritten, resolver).items() if not used and key in used_before}
        if not dead:
            break
        dropping = _DropAssignments(rewritten, dead)
        rewritten = rewritten.visit(dropping)
        if not _reads_only_within(resolver, _ids_within_all(dropping.dropped)):
            break
    return rewritten


AssignmentKey = tuple[tuple[str, ...], str]  # the enclosing class and function names, the statement's text


def _sdk_assignments(module: cst.Module, resolver: Resolver) -> dict[AssignmentKey, bool]:
    """`target = value` statements whose value is an SDK object, keyed by where they are and their text, and
    whether they are used (as `resolver`, the module's, sees them). The place tells apart equal lines in
    different functions."""
    loaded = {id(bindings) for bindings, uses in resolver.sdk_groups() if uses}
    places = {id(statement): _place(around) for statement, around in _small_statements(module.body, ())}
    found: dict[AssignmentKey, bool] = {}
    for bindings, statement in resolver.sdk_assignments():
        key = (places[id(statement)], normalized_code(statement))
        found[key] = found.get(key, False) or id(bindings) in loaded
    return found


Around = tuple[cst.CSTNode, ...]  # the statements, clauses and blocks a statement is inside, outermost first


def _small_statements(
    statements: Iterable[cst.CSTNode], around: Around
) -> Iterator[tuple[cst.BaseSmallStatement, Around]]:
    """Every small statement (an assignment, an import) under `statements`, in order, with what it is inside.

    It walks statements, clauses and blocks only: no statement is inside an expression, and a LibCST
    visit, even one that skips expressions, costs a large module's every other node.
    """
    for node in statements:
        if isinstance(node, cst.BaseSmallStatement):
            yield node, around
        elif isinstance(node, _BLOCKS):  # what they hold is their body (`children` would build them again)
            yield from _small_statements(node.body, (*around, node))
        elif isinstance(node, (cst.BaseStatement, *_CLAUSES)):
            yield from _small_statements(node.children, (*around, node))


_BLOCKS = (cst.SimpleStatementLine, cst.SimpleStatementSuite, cst.IndentedBlock)
_CLAUSES = (cst.Else, cst.Finally, cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase)  # hold a block


def _place(around: Around) -> tuple[str, ...]:
    """The names of the classes and functions a statement is inside."""
    return tuple(node.name.value for node in around if isinstance(node, (cst.ClassDef, cst.FunctionDef)))


class _KeepComments:
    """Moves the comment lines above a removed statement line onto the next statement of its block
    (or to the block's end), so that removing a client or an import never drops a comment.

    A subclass calls `removed(original_node)` for a statement line it removes; a line left with
    no statements (an import the import remover emptied) counts as removed too.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._removed: dict[int, Sequence[cst.EmptyLine]] = {}

    def removed(self, original_node: cst.SimpleStatementLine) -> cst.RemovalSentinel:
        self._removed[id(original_node)] = original_node.leading_lines
        return cst.RemoveFromParent()

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        return updated_node if updated_node.body else self.removed(original_node)

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        body, footer = self._carried(original_node.body, updated_node.body, updated_node.footer)
        return updated_node.with_changes(body=body, footer=footer)

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        body, footer = self._carried(original_node.body, updated_node.body, updated_node.footer)
        if body and original_node.body and id(original_node.body[0]) in self._removed and not updated_node.header:
            body[0] = _without_blank_lines_above(body[0])  # the file does not start with a blank line
        return updated_node.with_changes(body=body, footer=footer)

    def _carried(
        self,
        original: Sequence[cst.BaseStatement],
        updated: Sequence[cst.BaseStatement],
        footer: Sequence[cst.EmptyLine],
    ) -> tuple[list[cst.BaseStatement], list[cst.EmptyLine]]:
        """The block's statements and footer with the removed lines' comments moved to what follows them."""
        removed = [self._removed.get(id(statement)) for statement in original]
        body = list(updated)
        if all(lines is None for lines in removed) or len(body) != removed.count(None):
            return body, list(footer)
        carried: list[cst.EmptyLine] = []
        index = 0
        for lines in removed:
            if lines is not None:
                carried.extend(lines)
                continue
            statement = body[index]
            if isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                body[index] = statement.with_changes(leading_lines=_with_comments(carried, statement.leading_lines))
            carried, index = [], index + 1
        return body, [*_comment_lines(carried), *footer]


def _without_blank_lines_above(statement: cst.BaseStatement) -> cst.BaseStatement:
    if not isinstance(statement, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        return statement
    lines = list(statement.leading_lines)
    while lines and lines[0].comment is None:
        lines.pop(0)
    return statement.with_changes(leading_lines=lines)


def _comment_lines(lines: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """The lines up to the last comment: blank lines after it belonged to the removed statement."""
    last = max((i for i, line in enumerate(lines) if line.comment is not None), default=-1)
    return list(lines[: last + 1])


def _with_comments(carried: Sequence[cst.EmptyLine], own: Sequence[cst.EmptyLine]) -> list[cst.EmptyLine]:
    """A statement's leading lines after the carried comments (and their blank line if it had none)."""
    comments = _comment_lines(carried)
    if not comments:
        return list(own)
    return [*comments, *(own or carried[len(comments) :])]


class _RemoveImports(_KeepComments, RemoveImportsVisitor):
    """LibCST's unused-import remover, keeping the comments above the imports it removes."""


class _DropAssignments(_KeepComments, NoFieldHooks, cst.CSTTransformer):
    """Removes the dead assignments from statement lines, entering only the blocks that hold one; `dropped`
    lists them as they were in `module`, the module visited."""

    def __init__(self, module: cst.Module, dead: set[AssignmentKey]) -> None:
        super().__init__()
        places = {place for place, _ in dead}
        self.dropped: list[cst.BaseSmallStatement] = []
        self.entered = {id(module)}
        for statement, around in _small_statements(module.body, ()):
            place = _place(around)
            if (
                isinstance(statement, cst.Assign)
                and isinstance(around[-1], cst.SimpleStatementLine)
                and place in places
                and (place, normalized_code(statement)) in dead
            ):
                self.dropped.append(statement)
                self.entered.update(id(node) for node in around)
        self._dropped = {id(statement) for statement in self.dropped}

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self.entered and super().on_visit(node)

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        kept = [statement for statement in updated_node.body if id(statement) not in self._dropped]
        if len(kept) == len(updated_node.body):
            return updated_node
        if not kept:
            return self.removed(original_node)
        return updated_node.with_changes(body=kept)


def _sdk_imports(module: cst.Module, ruleset: RuleSet) -> list[cst.Import | cst.ImportFrom]:
    """Every import statement, at any depth, that imports from an SDK module of the rule files."""
    return [node for node, _ in _sdk_imports_by_depth(module, ruleset)]


def _imports_sdk_only_in_functions(module: cst.Module, ruleset: RuleSet) -> bool:
    """Whether the module imports the SDK lazily: inside functions, never at import time."""
    found = _sdk_imports_by_depth(module, ruleset)
    return bool(found) and all(in_function for _, in_function in found)


def _is_sdk_import(node: cst.CSTNode, roots: tuple[str, ...]) -> bool:
    if isinstance(node, cst.Import):
        return any(_under(_dotted_code(alias.name), roots) for alias in node.names)
    if not isinstance(node, cst.ImportFrom) or node.module is None or node.relative:
        return False
    name = _dotted_code(node.module)
    aliases = [] if isinstance(node.names, cst.ImportStar) else node.names
    return _under(name, roots) or any(_under(f"{name}.{_dotted_code(a.name)}", roots) for a in aliases)


def _has_docstring(statements: Sequence[cst.BaseStatement]) -> bool:
    first = statements[0] if statements else None
    if not isinstance(first, cst.SimpleStatementLine) or not isinstance(first.body[0], cst.Expr):
        return False
    return isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _sdk_imports_by_depth(module: cst.Module, ruleset: RuleSet) -> list[tuple[cst.Import | cst.ImportFrom, bool]]:
    """SDK import statements, each with whether it sits inside a function."""
    roots = tuple(ruleset.modules)
    return [
        (statement, any(isinstance(node, cst.FunctionDef) for node in around))
        for statement, around in _small_statements(module.body, ())
        if isinstance(statement, (cst.Import, cst.ImportFrom)) and _is_sdk_import(statement, roots)
    ]


class _LazyShimImport(NoFieldHooks, cst.CSTTransformer):
    """Imports the shim at the top of each function that calls it, as the module imported the SDK:
    a module that loads its cloud SDK only when needed keeps importing cheaply.

    `elsewhere` says a call sits outside such a function body (then the module imports it at the top).
    """

    def __init__(self, shim: Shim, roots: tuple[str, ...]) -> None:
        self.shim = shim
        self.roots = roots
        self.calls: list[bool] = []  # per enclosing function: whether it calls the shim factory
        self.elsewhere = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.append(False)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == self.shim.factory:
            if self.calls:
                self.calls[-1] = True
            else:
                self.elsewhere = True

    def _position(self, statements: list[cst.BaseStatement]) -> int:
        """Where the function imported the SDK (that import goes later), else after its docstring."""
        for index, statement in enumerate(statements):
            if isinstance(statement, cst.SimpleStatementLine) and any(
                _is_sdk_import(small, self.roots) for small in statement.body
            ):
                return index
        return 1 if _has_docstring(statements) else 0

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        if not self.calls.pop():
            return updated_node
        body = updated_node.body
        if not isinstance(body, cst.IndentedBlock):
            self.elsewhere = True  # `def f(): ...` on one line has no room for an import
            return updated_node
        statements = list(body.body)
        statement = cst.parse_statement(f"from {self.shim.module} import {self.shim.factory}\n")
        if not any(existing.deep_equals(statement) for existing in statements):
            statements.insert(self._position(statements), statement)
        return updated_node.with_changes(body=body.with_changes(body=statements))


def _dotted_code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _under(name: str, roots: tuple[str, ...]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)
