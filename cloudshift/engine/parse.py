"""Parse source text with LibCST; a syntax error becomes a value naming line and column."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider


@dataclass(frozen=True)
class SyntaxProblem(Exception):
    """The source does not parse; line and column are 1-based."""

    message: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


class ParsedModule:
    """A parsed module; node positions are computed on first use (files without findings never need them)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._positions: Mapping[cst.CSTNode, CodeRange] | None = None

    @property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        if self._positions is None:
            # The module is freshly parsed and never mutated, so skipping the defensive deep copy is safe.
            wrapper = MetadataWrapper(self.module, unsafe_skip_copy=True)
            self._positions = wrapper.resolve(PositionProvider)
        return self._positions


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
    return ParsedModule(module)
