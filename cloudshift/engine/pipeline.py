"""One engine call per file: prefilter, parse, resolve, detect, plan and (when asked) rewrite.

`scan`, `fix`, `baseline`, the LSP and the tests all go through `Engine.check_source`, so they
agree on what is found and what a fix does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cloudshift.config import Settings
from cloudshift.engine.infer import sdk_uses
from cloudshift.engine.prefilter import Prefilter, build_prefilter
from cloudshift.engine.project import ProgramMemo, Project
from cloudshift.model import FileError, FileResult, Finding, Safety, Shim
from cloudshift.rules.ruleset import RuleSet, load_rules

if TYPE_CHECKING:
    from cloudshift.engine.analyse import Analysis
    from cloudshift.engine.parse import ParsedModule
    from cloudshift.engine.resolve import CreatingModule


@dataclass(frozen=True)
class Engine:
    ruleset: RuleSet
    settings: Settings
    prefilter: Prefilter
    shim: Shim
    field_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    project: Project = field(default_factory=Project)  # the modules names are resolved in
    # shared by the engines `with_project` makes, so the editor's per-request engines reuse analyses
    memo: ProgramMemo[tuple[ParsedModule, Analysis]] = field(default_factory=ProgramMemo, compare=False, repr=False)
    creating: ProgramMemo[CreatingModule | None] = field(default_factory=ProgramMemo, compare=False, repr=False)
    following: set[str] = field(default_factory=set, compare=False, repr=False)  # constants followed now (cycles)

    @classmethod
    def create(cls, settings: Settings) -> Engine:
        """Load the rules the settings name (bundled plus extra folders) and build the prefilter."""
        ruleset = load_rules(settings.rules)
        field_maps = {name: obj.fields for name, obj in ruleset.objects.items() if obj.fields}
        return cls(ruleset, settings, build_prefilter(ruleset), Shim(settings.shim_module), field_maps)

    def with_project(self, project: Project) -> Engine:
        """This engine, resolving names through the modules of `project`."""
        return replace(self, project=project)

    def check_source(
        self, path: str, source: str, *, fix: Safety | None = None, only: Callable[[Finding], bool] | None = None
    ) -> FileResult:
        """Findings for one file's text; with `fix`, also the text with fixes up to that safety applied.

        `only` limits which findings are fixed (the editor's one-finding quick fix). An unexpected
        failure inside cloudshift is reported as that file's error, never a crash of the whole run.
        """
        try:
            program = self.project.program(self.ruleset)
            summary = self.project.summary_of(Path(path), source)
            if summary is not None:
                program.modules.include(summary)
            # LibCST runs only where a finding is possible; what `ast` cannot parse goes to its error-tolerant path
            possible = self.prefilter.is_candidate(source) if summary is None else bool(sdk_uses(program, summary))
            if not possible:
                return FileResult(path, source=source, fixed_source=source if fix else None)
            from cloudshift.engine.analyse import Analyser  # LibCST is imported only when a file may hold findings

            parts = (self.ruleset, self.settings, self.shim, self.field_maps, self.project)
            return Analyser(*parts, self.memo, self.creating, self.following).check_candidate(
                path, source, fix, only, program
            )
        except RecursionError:
            error = FileError(path, "cloudshift could not analyse this file: nesting too deep")
        except Exception as bug:
            error = FileError(path, f"cloudshift internal error, file left unchanged: {type(bug).__name__}: {bug}")
        return FileResult(path, errors=(error,), source=source, fixed_source=source if fix else None)
