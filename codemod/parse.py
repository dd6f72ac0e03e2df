"""Parse source text with LibCST; a syntax error becomes a value naming line and column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

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


def parse_source(source: str) -> ParsedModule:
    """Parse `source`; positions are the only metadata the pipeline needs, and only where it finds something."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        first_line = error.message.strip().splitlines()[0] if error.message.strip() else "invalid syntax"
        raise SyntaxProblem(f"syntax error: {first_line}", error.raw_line, error.raw_column + 1) from error
    return ParsedModule(module)
