"""Analyse one file that may hold findings: parse it with LibCST, resolve, detect and plan, and (when asked)
rewrite it.

The engine (pipeline.py) imports this module only when a file may hold findings: importing LibCST is a
third of a one-file scan's start-up, and most files of a run never need it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst

from cloudshift.config import Settings
from cloudshift.engine.detect import Match, detect
from cloudshift.engine.infer import Program, Sdk, sdk_uses
from cloudshift.engine.parse import ParsedModule, SyntaxProblem, check_nesting, parse_source
from cloudshift.engine.plan import Plan, Planner
from cloudshift.engine.project import ProgramMemo, Project
from cloudshift.engine.recover import repair
from cloudshift.engine.resolve import CreatingModule, Facts, Resolver, SdkValue, facts_for
from cloudshift.engine.suppress import apply_suppressions
from cloudshift.model import (
    Confidence,
    FileError,
    FileResult,
    Finding,
    ProfileEntry,
    Resolution,
    Safety,
    Shim,
    Span,
)
from cloudshift.rules.ruleset import RuleSet

MAX_FIX_PASSES = 3


@dataclass(frozen=True)
class Analysis:
    findings: list[Finding]
    suppressed: tuple[Finding, ...]
    planner: Planner | None  # None when there is nothing to plan


@dataclass(frozen=True)
class Analyser:
    """The engine's rules, settings and project-wide memos, put to work on one candidate file."""

    ruleset: RuleSet
    settings: Settings
    shim: Shim
    field_maps: dict[str, dict[str, str]]
    project: Project
    memo: ProgramMemo[tuple[ParsedModule, Analysis]]
    creating: ProgramMemo[CreatingModule | None]
    following: set[str]  # constants followed now (cycles)

    def check_candidate(
        self,
        path: str,
        source: str,
        fix: Safety | None,
        only: Callable[[Finding], bool] | None,
        program: Program,
    ) -> FileResult:
        known = self.memo.get(path, source, program)
        if known is None:
            try:
                parsed = parse_source(source)
            except SyntaxProblem as problem:
                return self._check_unparsable(path, source, problem)
            analysis = self._analyse(path, parsed, self._facts(program, path, source, parsed))
            self.memo.put(path, source, program, (parsed, analysis))
        else:
            parsed, analysis = known
        if fix is None:
            return FileResult(path, tuple(analysis.findings), source=source, suppressed=analysis.suppressed)
        return self._fix(path, source, parsed, analysis, fix, only, program)

    def _facts(self, program: Program, path: str, source: str, parsed: ParsedModule) -> Facts | None:
        """What whole-program resolution knows about this text's expressions, keyed by LibCST node."""
        summary = self.project.summary_of(Path(path), source)
        if summary is None:
            return None
        sdk_uses(program, summary)  # evaluates every receiver (memoised: free when already done)
        return facts_for(
            program,
            summary,
            source,
            parsed,
            lambda value: self._as_created(program, value),
            functools.partial(self._constant, program),
        )

    def _as_created(self, program: Program, value: Sdk) -> SdkValue | None:
        """An SDK object made in another module (a `get_s3()` helper), with the cap and storage profile its
        creating call has there, as that module's own resolution sees it: a call on it is then as safe as
        on a client made in place."""
        assert value.made is not None
        path, call = value.made
        module = self._resolved_alone(program, path)
        found = module.value_of(call) if module is not None else None
        return found if found is not None and found.object == value.object else None

    def _constant(self, program: Program, dotted: str, key: str) -> str | None:
        """The storage-profile setting a project module's top-level name holds (`config.S3_REGION`), as that
        module's own resolution sees it; None when it is computed, or is one of a cycle being followed."""
        found = program.modules.find(dotted)
        path = program.modules.names.get(found[0]) if found is not None and len(found[1]) == 1 else None
        module = self._resolved_alone(program, path) if path is not None and dotted not in self.following else None
        if found is None or module is None:
            return None
        self.following.add(dotted)
        try:
            return module.constant_setting(found[1][0], key)
        finally:
            self.following.discard(dotted)

    def _resolved_alone(self, program: Program, path: str) -> CreatingModule | None:
        text = self.project.text(Path(path))
        if text is None:
            return None
        module = self.creating.get(path, text, program)
        if module is None:
            module = self._creating_module(program, path, text)
            self.creating.put(path, text, program, module)
        return module

    def _creating_module(self, program: Program, path: str, text: str) -> CreatingModule | None:
        try:
            parsed = parse_source(text)
        except SyntaxProblem:
            return None
        summary = self.project.summary_of(Path(path), text)
        constants = functools.partial(self._constant, program)
        facts = facts_for(program, summary, text, parsed, constants=constants) if summary is not None else None
        return CreatingModule(self._resolver(path, parsed, facts), parsed)

    def _resolver(self, path: str, parsed: ParsedModule, facts: Facts | None) -> Resolver:
        """The text at `path` resolved as the project module that file is."""
        name = self.project.module_of(Path(path))
        return Resolver(parsed.module, self.ruleset, name, Path(path).name == "__init__.py", facts)

    def _check_unparsable(self, path: str, source: str, problem: SyntaxProblem) -> FileResult:
        """Report the syntax error, and the complete SDK calls found around it (no fixes offered)."""
        error = FileError(path, problem.message, problem.line, problem.column, syntax=True)
        repaired = repair(source)
        if repaired is None:
            return FileResult(path, errors=(error,), source=source)
        analysis = self._analyse(path, parse_source(repaired.text), None)
        reason = (
            f"found without full resolution: the file does not parse (line {problem.line}: {problem.message}); "
            "no fix is offered until it does"
        )
        partial = tuple(
            replace(f, fix=Safety.MANUAL, reason=reason, resolution=Resolution.PARTIAL)
            for f in analysis.findings
            if f.line not in repaired.replaced
        )
        return FileResult(path, partial, (error,), source=source, suppressed=analysis.suppressed)

    def _analyse(self, path: str, parsed: ParsedModule, facts: Facts | None) -> Analysis:
        resolver = self._resolver(path, parsed, facts)
        matches = [m for m in detect(resolver, self.ruleset) if self.settings.allows(m.rule.id, Path(path))]
        matches, suppressed = self._unsuppressed(path, parsed, matches)
        if not matches:
            return Analysis([], suppressed, None)
        planner = Planner(
            parsed.module, parsed.positions, parsed.parents, resolver, self.ruleset, matches, self.field_maps
        )
        safe, unsafe = planner.plan(Safety.SAFE), planner.plan(Safety.UNSAFE)
        findings = []
        for match in matches:
            key = id(match.node)
            if key in {id(m.node) for m in safe.applied}:
                safety, reason = Safety.SAFE, ""
            elif unsafe.decisions[key].variant is not None:
                safety = Safety.UNSAFE
                reason = unsafe.decisions[key].reason or safe.decisions[key].reason
            else:
                safety, reason = Safety.MANUAL, unsafe.decisions[key].reason
            findings.append(self._finding(path, parsed, match, safety, reason))
        return Analysis(sorted(findings, key=lambda f: (f.span, f.rule)), suppressed, planner)

    def _unsuppressed(
        self, path: str, parsed: ParsedModule, matches: list[Match]
    ) -> tuple[list[Match], tuple[Finding, ...]]:
        """The matches no `# cloudshift: ignore` comment covers, and the suppressed ones as findings."""
        if not matches:
            return [], ()
        provisional = [self._finding(path, parsed, m, Safety.MANUAL, "") for m in matches]
        kept, suppressed, _ = apply_suppressions(provisional, parsed.text)
        kept_ids = {id(f) for f in kept}
        return [m for m, f in zip(matches, provisional, strict=True) if id(f) in kept_ids], tuple(suppressed)

    def _finding(self, path: str, parsed: ParsedModule, match: Match, safety: Safety, reason: str) -> Finding:
        span = span_of(parsed, match.node)
        snippet = re.sub(r"\s+", " ", parsed.module.code_for_node(match.node)).strip()
        receiver = match.receiver
        confidence = _confidence(receiver)
        rule = match.rule
        return Finding(path, span, rule.id, rule.provider, rule.message, safety, reason, snippet, confidence=confidence)

    def _fix(
        self,
        path: str,
        source: str,
        parsed: ParsedModule,
        analysis: Analysis,
        level: Safety,
        only: Callable[[Finding], bool] | None,
        program: Program,
    ) -> FileResult:
        # imported here: LibCST's codemod helpers take a fifth of a one-file scan's start-up, and only fixes need them
        from cloudshift.engine.rewrite import RewriteError, apply_plan, verify

        applied: list[Finding] = []
        profiles: set[ProfileEntry] = set()
        findings, planner = analysis.findings, analysis.planner
        text = source
        for _ in range(MAX_FIX_PASSES):
            wanted = [f for f in findings if _within(f.fix, level) and (only is None or only(f))]
            if not wanted:
                break
            assert planner is not None
            plan = planner.plan(level)
            if only is not None:
                plan = _restrict(plan, {(f.span, f.rule) for f in wanted}, parsed)
            new_text = apply_plan(planner, plan, self.shim)
            if new_text == text:
                break
            try:
                verified = verify(new_text, path)
            except RewriteError as error:
                failure = FileError(path, f"cloudshift bug, file left unchanged: {error}")
                return FileResult(path, tuple(findings), (failure,), source, source, ())
            applied.extend(wanted)
            profiles.update(plan.profiles.values())
            text = new_text
            if only is not None:  # the editor's one quick fix: its text is all it needs, not a new analysis
                break
            check_nesting(text)  # what parse_source checks before it parses; verify has parsed it
            parsed = ParsedModule(verified, text)
            analysis = self._analyse(path, parsed, self._facts(program, path, text, parsed))
            findings, planner = analysis.findings, analysis.planner
        return FileResult(
            path,
            tuple(findings),
            source=source,
            fixed_source=text,
            applied=tuple(applied),
            suppressed=analysis.suppressed,
            profiles=tuple(sorted(profiles)),
        )


def _confidence(receiver: SdkValue | None) -> Confidence:
    """High when every value reaching the receiver is the SDK object; low when only the call's spelling says so."""
    if receiver is None or (receiver.certain and receiver.confident):
        return Confidence.HIGH
    return Confidence.LOW if receiver.shaped else Confidence.MEDIUM


def _within(safety: Safety, level: Safety) -> bool:
    return safety <= level and safety is not Safety.MANUAL


def span_of(parsed: ParsedModule, node: cst.CSTNode) -> Span:
    where = parsed.positions[node]
    return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)


def _restrict(plan: Plan, chosen: set[tuple[Span, str]], parsed: ParsedModule) -> Plan:
    """Only the chosen fixes, unless one of them rewrites a shim-object group (then all of them)."""
    grouped = any(d.grouped for m, d in plan.targets.values() if (span_of(parsed, m.node), m.rule.id) in chosen)
    if grouped:
        return plan
    targets = {k: (m, d) for k, (m, d) in plan.targets.items() if (span_of(parsed, m.node), m.rule.id) in chosen}
    return replace(plan, targets=targets, creations={}, fields={})
