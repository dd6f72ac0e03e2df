"""Error-tolerant fallback: find SDK calls in a file LibCST cannot parse (half-typed code, a typo).

tree-sitter-python parses anything and marks what it could not make sense of (ERROR and
MISSING nodes). Those lines are replaced, one for one, by `pass` (or `if True:` where an
indented block follows), so the rest of the file parses with LibCST and goes through the same
resolver and the same YAML rules. Line numbers do not move; findings on replaced lines are
dropped, and the caller marks the others as found without full resolution (no fix offered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import libcst as cst
import tree_sitter_python
from tree_sitter import Language, Node, Parser

from cloudshift.engine.parse import SyntaxProblem, check_nesting

MAX_EXTRA_LINES = 25  # lines blanked on LibCST's word after tree-sitter's, before giving up
# CPython refuses more indentation levels than this; tree-sitter's scanner crashes the process (SIGSEGV)
# on 1,000 tab-indented levels, so such a file is never given to it.
MAX_INDENT_LEVELS = 100
_INDENT = re.compile(r"[ \t]*")


@dataclass(frozen=True)
class Repair:
    text: str  # the source with broken lines replaced; same number of lines
    replaced: frozenset[int]  # 1-based line numbers that were replaced


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_python.language()))


def repair(source: str) -> Repair | None:
    """A parsable stand-in for `source` with the same line numbers, or None if none was found."""
    lines = source.splitlines(keepends=True)
    if indent_levels(lines) > MAX_INDENT_LEVELS:
        return None
    broken = _broken_rows(source.encode("utf-8"))
    for _ in range(MAX_EXTRA_LINES + 1):
        text = _replace(lines, broken)
        try:
            check_nesting(text)  # LibCST's native parser must never see nesting CPython refuses
            cst.parse_module(text)
            return Repair(text, frozenset(row + 1 for row in broken))
        except SyntaxProblem as problem:
            row = min(problem.line, len(lines)) - 1
        except cst.ParserSyntaxError as error:
            row = min(error.raw_line, len(lines)) - 1
        if row < 0 or row in broken:
            return None
        broken.add(row)
    return None


def indent_levels(lines: list[str]) -> int:
    """The most indentation levels open at once (blank and comment lines aside), as the tokenizer counts them."""
    stack = [0]
    deepest = 0
    for line in lines:
        stripped = line.lstrip(" \t\f")
        if not stripped.strip() or stripped.startswith("#"):
            continue
        width = len(line[: len(line) - len(stripped)].expandtabs(8))
        while width < stack[-1]:
            stack.pop()
        if width > stack[-1]:
            stack.append(width)
        deepest = max(deepest, len(stack) - 1)
    return deepest


def _broken_rows(data: bytes) -> set[int]:
    """0-based rows holding a tree-sitter ERROR or MISSING node."""
    rows: set[int] = set()
    stack: list[Node] = [_parser().parse(data).root_node]
    while stack:
        node = stack.pop()
        if not node.has_error and not node.is_missing:
            continue
        if node.type == "ERROR" or node.is_missing:
            rows.update(range(node.start_point[0], node.end_point[0] + 1))
            continue
        stack.extend(node.children)
    return rows


def _replace(lines: list[str], rows: set[int]) -> str:
    out = list(lines)
    for row in sorted(rows):
        if row >= len(lines):
            continue
        indent = _INDENT.match(lines[row]).group(0)  # type: ignore[union-attr]
        ending = lines[row][len(lines[row].rstrip("\r\n")) :] or "\n"
        statement = "if True:" if _block_follows(lines, row, rows, indent) else "pass"
        out[row] = f"{indent}{statement}{ending}"
    return "".join(out)


def _block_follows(lines: list[str], row: int, rows: set[int], indent: str) -> bool:
    """Whether the next kept, non-blank line is indented deeper than `indent` (a block body)."""
    for following in range(row + 1, len(lines)):
        text = lines[following]
        if following in rows or not text.strip() or text.lstrip().startswith("#"):
            continue
        return len(_INDENT.match(text).group(0)) > len(indent)  # type: ignore[union-attr]
    return False
