"""The values that flow through the pipeline, as plain frozen dataclasses.

Every front end (scan, fix, baseline, the LSP, the tests) speaks in these types, so they
carry no behaviour beyond small conveniences.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import total_ordering


@total_ordering
class Safety(Enum):
    """How far a fix can be trusted, ordered from most to least: SAFE < UNSAFE < MANUAL."""

    SAFE = "safe"  # behaviour is the same after the rewrite
    UNSAFE = "unsafe"  # behaviour may differ; the reason says how
    MANUAL = "manual"  # no fix; the reason says why

    def __str__(self) -> str:
        return self.value

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Safety):
            return NotImplemented
        return _SAFETY_RANK[self] < _SAFETY_RANK[other]


_SAFETY_RANK = {Safety.SAFE: 0, Safety.UNSAFE: 1, Safety.MANUAL: 2}


class Resolution(str, Enum):
    """How a finding was found: with full LibCST resolution, or by the error-tolerant fallback."""

    FULL = "full"
    PARTIAL = "partial"  # tree-sitter fallback on a file LibCST could not parse

    def __str__(self) -> str:
        return self.value


class Confidence(Enum):
    """How sure cloudshift is that the receiver is the SDK object the rule names."""

    HIGH = "high"  # every value that reaches the receiver is that SDK object
    MEDIUM = "medium"  # some values on the way are unknown (an injected client), or the service name is not a literal
    LOW = "low"  # nothing says what the receiver is but how the call is spelled (botocore's keyword arguments)

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class Span:
    """A source range; lines and columns are 1-based, end is exclusive as in LSP."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Finding:
    """One direct SDK use in one file."""

    path: str  # as given on the command line, relative to where cloudshift runs
    span: Span
    rule: str
    provider: str  # aws | gcp | azure | oci
    message: str
    fix: Safety  # what the rule's fix is for this very call
    reason: str = ""  # why the fix is unsafe or manual; empty when safe
    snippet: str = ""  # the call's source text, whitespace-normalised (for fingerprints)
    resolution: Resolution = Resolution.FULL
    confidence: Confidence = field(default_factory=lambda: Confidence.HIGH)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "rule": self.rule,
            "provider": self.provider,
            "message": self.message,
            "fix": self.fix.value,
            "reason": self.reason,
            "snippet": self.snippet,
            "resolution": self.resolution.value,
            "confidence": self.confidence.value,
        }


@dataclass(frozen=True)
class FileError:
    """A file that could not be analysed (unreadable, not UTF-8, not parsable, ...)."""

    path: str
    message: str
    line: int = 0
    column: int = 0
    syntax: bool = False  # the file does not parse: reported, but its calls were still looked for


@dataclass(frozen=True, order=True)
class ProfileEntry:
    """A storage profile a fix relies on: rewritten calls name it, the profile file defines it.

    The name follows from the settings, so equal configurations share one entry and two
    files' fixes never disagree about what a name means.
    """

    name: str
    provider: str  # the storage_shim provider: s3 | gcs | azure | oci
    settings: tuple[tuple[str, str], ...] = ()  # (key, value); `env:VAR` for a value read from a variable
    defaults: tuple[tuple[str, str], ...] = ()  # the provider's own defaults (rule files' profile_defaults)

    def to_json(self) -> dict[str, str]:
        return {"provider": self.provider, **dict(self.settings), **dict(self.defaults)}


@dataclass(frozen=True)
class FileResult:
    """What the engine learned about one file; `fixed_source` is set only when fixing."""

    path: str
    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    source: str | None = None
    fixed_source: str | None = None
    applied: tuple[Finding, ...] = field(default=())  # findings whose fix was applied
    suppressed: tuple[Finding, ...] = field(default=())  # covered by `# cloudshift: ignore` comments
    profiles: tuple[ProfileEntry, ...] = ()  # the storage profiles the applied fixes name

    @property
    def changed(self) -> bool:
        return self.fixed_source is not None and self.fixed_source != self.source


SHIM_FACTORY = "create_storage_client"


@dataclass(frozen=True)
class Shim:
    """Where rewritten code imports the shim from (`[tool.cloudshift] shim-module`)."""

    module: str = "storage_shim"
    factory: str = SHIM_FACTORY
