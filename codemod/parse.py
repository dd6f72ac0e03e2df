"""Parse source text with LibCST; a syntax error becomes a value naming line and column."""

from __future__ import annotations

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


@dataclass(frozen=True)
class ParsedModule:
    module: cst.Module
    positions: dict[cst.CSTNode, CodeRange]


def parse_source(source: str) -> ParsedModule:
    """Parse `source` and compute node positions (the only metadata the pipeline needs)."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        first_line = error.message.strip().splitlines()[0] if error.message.strip() else "invalid syntax"
        raise SyntaxProblem(f"syntax error: {first_line}", error.raw_line, error.raw_column + 1) from error
    # The module is freshly parsed and never mutated, so skipping the defensive deep copy is safe.
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    return ParsedModule(module, dict(wrapper.resolve(PositionProvider)))
