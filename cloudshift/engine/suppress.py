"""`# cloudshift: ignore` and `# cloudshift: ignore[RULE-ID, ...]` comments.

A suppression applies to the findings that start on its line: for a call written over
several lines, that is the line where the call starts. Comments are found with `tokenize`,
so the same text inside a string is not a suppression. A half-written file still yields
the comments that come before the point where tokenizing stops.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from cloudshift.config import rule_matches
from cloudshift.model import Finding

# `ignore` then either `[codes]` or the end of the word (so `ignore[` without `]` is no match).
_SUPPRESSION = re.compile(r"#\s*cloudshift:\s*ignore(?:\[(?P<rules>[^\]]*)\]|(?![\w\[-]))")


@dataclass(frozen=True)
class Suppression:
    """One suppression comment; `rules` empty means every rule."""

    line: int
    rules: tuple[str, ...]

    def covers(self, finding: Finding) -> bool:
        return not self.rules or any(rule_matches(rule, finding.rule) for rule in self.rules)

    def text(self, rules: Iterable[str] | None = None) -> str:
        """The comment as written in canonical form, or naming only the given rules."""
        listed = self.rules if rules is None else tuple(rules)
        return f"cloudshift: ignore[{', '.join(listed)}]" if listed else "cloudshift: ignore"


class UnusedSuppression(NamedTuple):
    """A suppression (or some of its rule ids) that matched no finding."""

    line: int
    text: str


def parse_suppressions(source: str) -> list[Suppression]:
    """Every suppression comment in the source, in line order."""
    suppressions = []
    for line, comment in _comments(source):
        match = _SUPPRESSION.search(comment)
        if match:
            suppressions.append(Suppression(line, _rule_list(match.group("rules"))))
    return suppressions


def _rule_list(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return tuple(rule.strip() for rule in text.split(",") if rule.strip())


def _comments(source: str) -> Iterator[tuple[int, str]]:
    """(line, text) of each comment token, up to the first tokenizing error."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    try:
        for token in tokens:
            if token.type == tokenize.COMMENT:
                yield token.start[0], token.string
    except (tokenize.TokenError, SyntaxError):
        return


def apply_suppressions(
    findings: Iterable[Finding], source: str
) -> tuple[list[Finding], list[Finding], list[UnusedSuppression]]:
    """Split one file's findings into (kept, suppressed) and list the suppressions never used.

    A suppression naming several rules is reported for the rules that matched nothing, so
    `ignore[a, b]` where only `a` was needed is reported as unused `ignore[b]`.
    """
    by_line: dict[int, list[Suppression]] = {}
    for suppression in parse_suppressions(source):
        by_line.setdefault(suppression.line, []).append(suppression)
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: dict[Suppression, set[str]] = {}
    for finding in findings:
        covering = [s for s in by_line.get(finding.line, ()) if s.covers(finding)]
        (suppressed if covering else kept).append(finding)
        for suppression in covering:
            used.setdefault(suppression, set()).update(_rules_used(suppression, finding))
    unused = [
        item
        for suppressions in by_line.values()
        for suppression in suppressions
        if (item := _unused_part(suppression, used.get(suppression))) is not None
    ]
    return kept, suppressed, unused


def _rules_used(suppression: Suppression, finding: Finding) -> set[str]:
    return {rule for rule in suppression.rules if rule_matches(rule, finding.rule)}


def _unused_part(suppression: Suppression, used: set[str] | None) -> UnusedSuppression | None:
    if used is None:
        return UnusedSuppression(suppression.line, suppression.text())
    unused_rules = [rule for rule in suppression.rules if rule not in used]
    if unused_rules:
        return UnusedSuppression(suppression.line, suppression.text(unused_rules))
    return None
