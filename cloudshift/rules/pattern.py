"""Code patterns around a call: fixes that replace more than the call itself.

Some SDK idioms only have a shim equivalent as a whole: `try: head_object(...) except
ClientError: ...` is `exists(key)`, and a loop over paginator pages and `page["Contents"]` is
one loop over `list(prefix)`. A fix variant's `pattern` spells such an idiom as Python code:

- `{call}` is the matched call itself;
- `$name` matches any expression (the same code wherever it appears), and `$name` alone as
  the body of a block matches that whole block;
- dotted names (`botocore.exceptions.ClientError`) match the code's names by what its imports
  make them, so `ClientError` imported from `botocore.exceptions` matches too.

A pattern is an expression or a run of statements. Code matches when its syntax tree is the
same, whitespace, commas and parentheses aside. A comment inside the matched code (outside a
captured block) prevents the match, so a rewrite never drops one. The template then spells
the replacement with the same `$name`s.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import libcst as cst

from cloudshift.rules.template import Template, keep

CALL = "__cloudshift_call__"
_PREFIX = "__cloudshift_var_"
_FORMATTING = (
    cst.BaseParenthesizableWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.Comma,
    cst.LeftParen,
    cst.RightParen,
    cst.Semicolon,
)
_LEAVES = (cst.Name, cst.Integer, cst.Float, cst.Imaginary, cst.FormattedStringText)
_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LOOPS = (cst.For, cst.While)

Qualifier = Callable[[cst.BaseExpression], "str | None"]


class PatternError(ValueError):
    """A pattern or its template is not valid: the message says why."""


@dataclass(frozen=True)
class Pattern:
    """One parsed pattern: an expression, or statements with the index of the one holding the call."""

    nodes: tuple[cst.CSTNode, ...]
    anchor: int
    is_expression: bool
    blocks: Mapping[str, int]  # block variable -> how many loops enclose it in the pattern

    @property
    def variables(self) -> set[str]:
        found: set[str] = set()
        for node in self.nodes:
            found |= {_variable(name.value) or "" for name in _descendants(node, cst.Name)} - {""}
        return found


@dataclass(frozen=True)
class PatternMatch:
    """Code matched by a pattern: the nodes it replaces and what each `$name` captured."""

    pattern: Pattern
    nodes: tuple[cst.CSTNode, ...]  # an expression, or consecutive statements of one block
    captures: Mapping[str, cst.CSTNode]  # $name -> the code it matched (an expression or a block)


@cache
def parse_pattern(text: str) -> Pattern:
    """Parse a pattern; PatternError if it is not Python or does not hold `{call}` once."""
    source = _placeholders(Template(text)).replace("{call}", CALL)
    try:
        return _expression_pattern(cst.parse_expression(source.strip()))
    except cst.ParserSyntaxError:
        pass
    try:
        module = cst.parse_module(_dedent(source))
    except cst.ParserSyntaxError as error:
        raise PatternError(f"pattern is neither an expression nor statements: {error.message}") from error
    holders = [index for index, statement in enumerate(module.body) if _holds_call(statement)]
    if len(holders) != 1 or sum(1 for _ in _calls(module)) != 1:
        raise PatternError("a pattern must hold {call} exactly once")
    return Pattern(tuple(module.body), holders[0], False, _block_depths(module))


def check_template(pattern_text: str, template: Template) -> None:
    """Raise PatternError unless `template` can replace what `pattern_text` matches."""
    pattern = parse_pattern(pattern_text)
    used = template.variables
    unknown = sorted(used - pattern.variables)
    if unknown:
        raise PatternError(f"template uses ${', $'.join(unknown)}, which the pattern does not capture")
    dropped = sorted(set(pattern.blocks) - used)
    if dropped:
        raise PatternError(f"template drops block ${', $'.join(dropped)}; every captured block must be kept")
    source = _placeholders(template)
    try:
        if pattern.is_expression:
            cst.parse_expression(source.strip())
        else:
            cst.parse_module(_dedent(source))
    except cst.ParserSyntaxError as error:
        raise PatternError(f"template is not valid Python of the pattern's kind: {error.message}") from error


def find_match(
    pattern: Pattern,
    template: Template,
    call: cst.Call,
    parents: Mapping[cst.CSTNode, cst.CSTNode],
    qualified: Qualifier,
) -> PatternMatch | None:
    """The code around `call` that `pattern` matches, searching outwards up to the enclosing function."""
    node: cst.CSTNode = call
    while not isinstance(node, _SCOPES) and node in parents:
        parent = parents[node]
        if pattern.is_expression:
            if isinstance(node, (cst.BaseStatement, cst.BaseSmallStatement)):
                return None
            found = _try(pattern, [node], call, qualified)
        elif isinstance(parent, (cst.IndentedBlock, cst.Module)):
            found = _try_statements(pattern, parent.body, node, call, qualified)
        else:
            found = None
        if found is not None and _keeps_loop_exits(pattern, template, found):
            return found
        node = parent
    return None


def block_placeholder(pattern: Pattern, name: str) -> str | None:
    """What a template's `$name` is spelled as before `replacement()`, when it names a block."""
    return _PREFIX + name if name in pattern.blocks else None


def replacement(pattern: Pattern, source: str, captures: Mapping[str, cst.CSTNode]) -> list[cst.CSTNode]:
    """The nodes that replace a match: the filled-in template, with captured blocks put back in."""
    if pattern.is_expression:
        return [cst.parse_expression(source.strip())]
    module = cst.parse_module(_dedent(source)).visit(_InsertBlocks(captures))
    return list(module.body)


def _try_statements(
    pattern: Pattern, body: Sequence[cst.BaseStatement], statement: cst.CSTNode, call: cst.Call, qualified: Qualifier
) -> PatternMatch | None:
    index = next(i for i, candidate in enumerate(body) if candidate is statement)
    start = index - pattern.anchor
    if start < 0 or start + len(pattern.nodes) > len(body):
        return None
    return _try(pattern, list(body[start : start + len(pattern.nodes)]), call, qualified)


def _try(pattern: Pattern, nodes: list[cst.CSTNode], call: cst.Call, qualified: Qualifier) -> PatternMatch | None:
    matcher = _Matcher(call, qualified)
    first = nodes[0]
    compared = [first.with_changes(leading_lines=()) if hasattr(first, "leading_lines") else first, *nodes[1:]]
    if all(matcher.same(p, c) for p, c in zip(pattern.nodes, compared, strict=False)):
        return PatternMatch(pattern, tuple(nodes), dict(matcher.captures))
    return None


def matches_expression(pattern_text: str, code: cst.BaseExpression, qualified: Qualifier) -> bool:
    """Whether `code` is the expression `pattern_text`, dotted names compared by what imports make them."""
    pattern = cst.parse_expression(pattern_text)
    return _Matcher(cst.Call(func=cst.Name(CALL)), qualified).same(pattern, code)


class _Matcher:
    """Compares a pattern tree with a code tree, recording what each `$name` captures."""

    def __init__(self, call: cst.Call, qualified: Qualifier) -> None:
        self.call = call
        self.qualified = qualified
        self.captures: dict[str, cst.CSTNode] = {}

    def same(self, pattern: cst.CSTNode, code: cst.CSTNode) -> bool:
        block = _block_variable(pattern)
        if block is not None:
            return isinstance(code, cst.BaseSuite) and self._capture(block, code)
        if isinstance(pattern, cst.Name):
            if pattern.value == CALL:
                return code is self.call
            variable = _variable(pattern.value)
            if variable is not None:
                return isinstance(code, cst.BaseExpression) and self._capture(variable, code)
        dotted = _dotted(pattern)
        if dotted is not None and isinstance(code, (cst.Name, cst.Attribute)):
            resolved = self.qualified(code)
            if resolved is not None:
                return resolved == dotted
        if type(pattern) is not type(code) or not _same_leaf(pattern, code):
            return False
        wanted, found = _meaningful(pattern.children), _meaningful(code.children)
        if any(_has_comment(child) for child in code.children if isinstance(child, _FORMATTING)):
            return False
        return len(wanted) == len(found) and all(self.same(p, c) for p, c in zip(wanted, found, strict=True))

    def _capture(self, name: str, code: cst.CSTNode) -> bool:
        if name not in self.captures:
            self.captures[name] = code
            return True
        return normalized_code(self.captures[name]) == normalized_code(code)


class _InsertBlocks(cst.CSTTransformer):
    """Puts captured blocks where the template names them."""

    def __init__(self, captures: Mapping[str, cst.CSTNode]) -> None:
        self.captures = captures

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.BaseSuite:
        name = _block_variable(original_node)
        if name is None:
            return updated_node
        block = self.captures[name]
        assert isinstance(block, cst.BaseSuite)
        return block


def _keeps_loop_exits(pattern: Pattern, template: Template, found: PatternMatch) -> bool:
    """A block moved under other loops keeps its meaning only if no `break` (or `continue`) leaves it.

    `break` in a block moved out of an inner loop would end the outer loop too; `continue`
    still means "next item" when the block stays inside some loop.
    """
    moved = _template_depths(template) if pattern.blocks else {}
    for name, depth in pattern.blocks.items():
        if moved.get(name) == depth:
            continue
        exits = (cst.Break,) if depth and moved.get(name) else (cst.Break, cst.Continue)
        if _leaves_loop(found.captures[name], exits):
            return False
    return True


@cache
def _template_depths(template: Template) -> dict[str, int]:
    return _block_depths(cst.parse_module(_dedent(_placeholders(template))))


def _leaves_loop(node: cst.CSTNode, exits: tuple[type, ...]) -> bool:
    """Whether `node` holds one of `exits` that belongs to a loop around it."""
    if isinstance(node, exits):
        return True
    if isinstance(node, _SCOPES):
        return False
    if isinstance(node, _LOOPS):
        return node.orelse is not None and _leaves_loop(node.orelse, exits)
    return any(_leaves_loop(child, exits) for child in node.children)


def _block_depths(module: cst.Module) -> dict[str, int]:
    depths: dict[str, int] = {}

    def walk(node: cst.CSTNode, loops: int) -> None:
        name = _block_variable(node)
        if name is not None:
            depths[name] = loops
            return
        for child in node.children:
            inner = loops + 1 if isinstance(node, _LOOPS) and child is node.body else loops
            walk(child, inner)

    walk(module, 0)
    return depths


def _expression_pattern(expression: cst.BaseExpression) -> Pattern:
    if sum(1 for _ in _calls(expression)) != 1:
        raise PatternError("a pattern must hold {call} exactly once")
    return Pattern((expression,), 0, True, {})


def _placeholders(template: Template) -> str:
    """The text with `$name`s made parsable Python names (placeholders kept)."""
    return template.fill(keep, lambda name, _: _PREFIX + name)


def _dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


def _variable(name: str) -> str | None:
    if name.startswith(_PREFIX):
        return name[len(_PREFIX) :]
    return None


def _block_variable(node: cst.CSTNode) -> str | None:
    """For a pattern block whose only statement is `$name`: that name."""
    if not isinstance(node, cst.IndentedBlock) or len(node.body) != 1:
        return None
    line = node.body[0]
    if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
        return None
    statement = line.body[0]
    if isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Name):
        return _variable(statement.value.value)
    return None


def _calls(node: cst.CSTNode) -> Iterator[cst.Name]:
    return (name for name in _descendants(node, cst.Name) if name.value == CALL)


def _holds_call(node: cst.CSTNode) -> bool:
    return any(True for _ in _calls(node))


def _descendants(node: cst.CSTNode, kind: type) -> list:  # type: ignore[type-arg]
    found = [node] if isinstance(node, kind) else []
    for child in node.children:
        found.extend(_descendants(child, kind))
    return found


def _dotted(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a plain dotted name of the pattern (no variables, not the call), else None."""
    if isinstance(node, cst.Name):
        return None if node.value == CALL or _variable(node.value) else node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _same_leaf(pattern: cst.CSTNode, code: cst.CSTNode) -> bool:
    if isinstance(pattern, cst.SimpleString):
        return isinstance(code, cst.SimpleString) and pattern.evaluated_value == code.evaluated_value
    if isinstance(pattern, _LEAVES):
        return bool(pattern.value == getattr(code, "value", None))
    return True


def _meaningful(children: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    return [child for child in children if not isinstance(child, _FORMATTING)]


def _has_comment(node: cst.CSTNode) -> bool:
    return isinstance(node, cst.Comment) or any(_has_comment(child) for child in node.children)


def normalized_code(node: cst.CSTNode) -> str:
    """A node's code without any whitespace, to compare code regardless of layout."""
    return re.sub(r"\s+", "", cst.Module([]).code_for_node(node))
