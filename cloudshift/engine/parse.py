"""Parse source text with LibCST; a syntax error becomes a value naming line and column."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

import libcst as cst
from libcst._nodes.internal import CodegenState
from libcst.metadata import CodePosition, CodeRange


@dataclass(frozen=True)
class SyntaxProblem(Exception):
    """The source does not parse; line and column are 1-based."""

    message: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


class ParsedModule:
    """A parsed module; node positions and parents are computed on first use (files without findings
    never need them), both in one pass."""

    def __init__(self, module: cst.Module, text: str) -> None:
        self.module = module
        self.text = text  # what it was parsed from: the module's code, without generating it again
        self._layout: _Layout | None = None

    @property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        """Each node's range, as LibCST's PositionProvider gives it."""
        return self._laid_out().ranges

    @property
    def parents(self) -> Mapping[cst.CSTNode, cst.CSTNode]:
        """Each node's parent (the module has none)."""
        return self._laid_out().parents

    def _laid_out(self) -> _Layout:
        if self._layout is None:
            self._layout = _Layout(self.module)
            self.module._codegen(self._layout)
        return self._layout


_LINE_BREAK = re.compile(r"\r\n?|\n")


class _Layout(CodegenState):
    """Generates a module's code recording where each node is and what it is inside.

    It records the ranges LibCST's PositionProvider does (the whitespace-inclusive range of a node
    unless the node records its syntactic one), and the parents; LibCST's own provider plus a
    parent-map visit take about twice as long on a large module.
    """

    def __init__(self, module: cst.Module) -> None:
        super().__init__(module.default_indent, module.default_newline)
        self.line = 1
        self.column = 0
        self.ranges: dict[cst.CSTNode, CodeRange] = {}
        self.parents: dict[cst.CSTNode, cst.CSTNode] = {}
        self._open: list[tuple[cst.CSTNode, CodePosition]] = []  # the nodes being generated, and where each began

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        if "\n" in value or "\r" in value:
            lines = _LINE_BREAK.split(value)
            self.line += len(lines) - 1
            self.column = len(lines[-1])
        else:
            self.column += len(value)

    def here(self) -> CodePosition:
        return CodePosition(self.line, self.column)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if self._open:
            self.parents[node] = self._open[-1][0]
        self._open.append((node, self.here()))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._open.pop()[1]
        if node not in self.ranges:  # a syntactic range, recorded inside, wins
            self.ranges[node] = CodeRange(start, self.here())

    def record_syntactic_position(  # type: ignore[override]
        self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
    ) -> _SyntacticRange:
        return _SyntacticRange(self, node, start_node, end_node)


class _SyntacticRange:
    """Records a node's range without its surrounding whitespace, or from one child's start to another's end.

    A class rather than a generator context manager: LibCST asks for one per expression.
    """

    def __init__(
        self, layout: _Layout, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ):
        self.layout = layout
        self.node = node
        self.start_node = start_node
        self.end_node = end_node
        self.start = layout.here()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        ranges = self.layout.ranges
        start = self.start if self.start_node is None else ranges[self.start_node].start
        end = self.layout.here() if self.end_node is None else ranges[self.end_node].end
        ranges[self.node] = CodeRange(start, end)


class NoFieldHooks:
    """For a LibCST visitor or transformer with no `visit_<Node>_<field>` methods: LibCST looks one up (and
    its `leave_` twin) for every field of every node it enters, a large part of visiting a whole module."""

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


class TooDeep(RecursionError):
    """The syntax tree is nested deeper than LibCST can safely handle; the file is reported, never parsed.

    A RecursionError, so every caller that already reports "nesting too deep" reports this too.
    """


MAX_NESTING = 200  # CPython refuses deeper bracket nesting; LibCST's native parser crashes far beyond it
# LibCST's Python visitors exceed the default recursion limit near 400 levels, its native parser takes
# quadratic time (6,000 terms: 11 s) and crashes the process near 7,000 (`a + a + ...`, `x.a.a...`, `- - x`).
MAX_DEPTH = 250
_BRACKETS = re.compile(r"[()\[\]{}]")


def check_nesting(source: str) -> None:
    """Refuse what LibCST's native parser must never see: bracket nesting CPython refuses, or a tree too deep.

    Raises SyntaxProblem for the former and TooDeep for the latter.
    """
    _check_brackets(source)
    depth = tree_depth(source)
    if depth > MAX_DEPTH:
        raise TooDeep(f"syntax tree nested {depth} levels deep (cloudshift handles up to {MAX_DEPTH})")


def tree_depth(source: str) -> int:
    """How deep CPython's syntax tree of `source` is (0 when it does not parse: LibCST then reports why).

    CPython's parser guards its own recursion, so it measures safely, in time linear in the file's
    size; what it refuses as too deep is too deep for LibCST as well.
    """
    try:
        tree = ast.parse(source)
    except (RecursionError, MemoryError) as error:
        raise TooDeep(f"too deeply nested for Python's own parser ({error})") from error
    except (SyntaxError, ValueError):
        return 0
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _check_brackets(source: str) -> None:
    """Raise SyntaxProblem for bracket nesting CPython would refuse."""
    if source.count("(") + source.count("[") + source.count("{") <= MAX_NESTING:
        return
    depth = 0
    for bracket in _BRACKETS.finditer(source):
        depth = depth + 1 if bracket.group() in "([{" else max(depth - 1, 0)
        if depth > MAX_NESTING:
            break
    else:
        return
    try:  # brackets inside strings may have been counted: CPython's own parser decides, safely
        compile(source, "<cloudshift>", "exec", dont_inherit=True)
    except SyntaxError as error:
        raise SyntaxProblem(f"syntax error: {error.msg}", error.lineno or 1, error.offset or 1) from error
    except (ValueError, MemoryError, RecursionError) as error:
        raise SyntaxProblem(f"syntax error: {error}", 1, 1) from error


def parse_source(source: str) -> ParsedModule:
    """Parse `source`; positions are the only metadata the pipeline needs, and only where it finds something."""
    check_nesting(source)
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        first_line = error.message.strip().splitlines()[0] if error.message.strip() else "invalid syntax"
        raise SyntaxProblem(f"syntax error: {first_line}", error.raw_line, error.raw_column + 1) from error
    return ParsedModule(module, source)
