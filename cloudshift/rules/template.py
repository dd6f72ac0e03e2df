"""Fix templates and code patterns as one type: rule text with its `{placeholder}`s and `$variable`s.

A rule writes `{Bucket}` for a bound argument, `{Metadata.ContentType}` for an entry of a dict
argument, `{shim}` for the shim factory, `{self}` for the receiver, `{call}` for the matched call
in a pattern, and `$name` for code a pattern captures. They are found by one expression, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TOKEN = re.compile(rf"\{{(?P<placeholder>{_NAME}(?:\.{_NAME})?)\}}|\$(?P<variable>{_NAME})")
SPECIAL = frozenset({"shim", "self", "call"})

Spell = Callable[[str, str], str]
"""Spells one token: called with its name and the character after it (to know when to parenthesize)."""


@dataclass(frozen=True)
class Template:
    text: str

    @cached_property
    def placeholders(self) -> tuple[str, ...]:
        """Every `{name}` in order of appearance (with repeats)."""
        return tuple(found["placeholder"] for found in _TOKEN.finditer(self.text) if found["placeholder"])

    @cached_property
    def variables(self) -> frozenset[str]:
        """Every `$name`."""
        return frozenset(found["variable"] for found in _TOKEN.finditer(self.text) if found["variable"])

    @property
    def arguments(self) -> frozenset[str]:
        """The parameters the template copies (`{Bucket}`, and `Metadata` for `{Metadata.ContentType}`)."""
        return frozenset(name.partition(".")[0] for name in self.placeholders if name not in SPECIAL)

    @property
    def uses_receiver(self) -> bool:
        return "self" in self.placeholders

    def fill(self, placeholder: Spell, variable: Spell | None = None) -> str:
        """The text with every token spelled out in one pass; `$name`s stay as written without `variable`."""

        def substitute(found: re.Match[str]) -> str:
            follows = self.text[found.end() : found.end() + 1]
            if found["variable"]:
                return variable(found["variable"], follows) if variable is not None else found.group(0)
            return placeholder(found["placeholder"], follows)

        return _TOKEN.sub(substitute, self.text)

    def __str__(self) -> str:
        return self.text


def keep(name: str, follows: str) -> str:
    """A `Spell` that writes a placeholder back as it was."""
    return "{" + name + "}"
