"""Positions and parents come from cloudshift's own code-generation pass (engine/parse.py).

That pass uses LibCST's code generation hooks instead of its PositionProvider (half the time on
a 2,000-line module); these tests hold it to LibCST's own answers on every fixture, so a LibCST
release that changes those hooks fails here rather than moving a finding or a fix.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from cloudshift.engine.parse import ParsedModule

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "fixtures").rglob("*.py"))
NEWLINES = {
    "crlf": "x = 1\r\ny = f(\r\n    a,\r\n)\r\n",
    "cr": "x = 1\ry = (1,\r     2)\r",
    "tabs and continuation": "if x:\n\ty = 1 + \\\n\t    2\n",
}


def parent_map(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node's parent, from a plain LibCST visit."""
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    stack: list[cst.CSTNode] = []

    class Parents(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if stack:
                parents[node] = stack[-1]
            stack.append(node)
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            stack.pop()

    module.visit(Parents())
    return parents


def assert_same_as_libcst(text: str) -> None:
    module = cst.parse_module(text)
    expected_positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    expected_parents = parent_map(module)
    parsed = ParsedModule(module, text)
    assert dict(parsed.positions) == dict(expected_positions)
    assert len(parsed.parents) == len(expected_parents)
    assert all(parsed.parents[node] is parent for node, parent in expected_parents.items())


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(REPO / "fixtures")) for p in SOURCES])
def test_fixture_positions_and_parents_match_libcst(path: Path) -> None:
    assert_same_as_libcst(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("text", list(NEWLINES.values()), ids=list(NEWLINES))
def test_line_endings_and_continuations_match_libcst(text: str) -> None:
    assert_same_as_libcst(text)
