"""The `cloudshift` command: thin front ends over the engine (scan, fix, rules, vendor-shim)."""

from __future__ import annotations

import difflib
import json
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from cloudshift.api import Checked, Engine, check_paths
from cloudshift.config import ConfigError, Settings, load_settings, parse_size
from cloudshift.console import DIFF, Terminal
from cloudshift.engine.cache import ResultCache
from cloudshift.engine.discovery import Discovery, DiscoveryError, discover_files, is_excluded
from cloudshift.engine.runner import display_path
from cloudshift.engine.write import write_fixes
from cloudshift.gate.baseline import BaselineError
from cloudshift.gate.compare import only_new, save_baseline, unused_suppressions
from cloudshift.gate.gitdiff import GitError, find_repo_root
from cloudshift.gate.migration import MIGRATION_FORMATS, Migration, render_migration
from cloudshift.gate.report import FORMATS, Report, exit_code, render, tool_version
from cloudshift.model import FileError, FileResult, Finding, ProfileEntry, Safety
from cloudshift.rules.ruleset import RuleError, default_fixtures

if TYPE_CHECKING:
    from cloudshift.profiles import ProfilesNeeded

USAGE_ERROR = 2
NO_COLOR_KEY = "cloudshift.no_color"
LIMITS_KEY = "cloudshift.limits"  # --max-file-size and --file-timeout, as with_overrides keywords

Command = TypeVar("Command", bound=Callable[..., Any])


class Failure(click.ClickException):
    """A usage, configuration or rule-file problem: one line on stderr, exit code 2."""

    exit_code = USAGE_ERROR

    def show(self, file: object = None) -> None:
        click.echo(f"cloudshift: error: {self.message}", err=True)


def _fail(error: Exception) -> NoReturn:
    raise Failure(str(error)) from error


def _split(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _settings(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    no_gitignore: bool = False,
    force_exclude: bool = False,
) -> Settings:
    start = paths[0] if paths else Path(".")
    try:
        settings = load_settings(start if start.exists() else Path("."))
    except ConfigError as error:
        _fail(error)
    for warning in settings.warnings:
        click.echo(f"cloudshift: warning: {warning}", err=True)
    limits = click.get_current_context().meta.get(LIMITS_KEY, {})
    return settings.with_overrides(
        select=_split(select) or None,
        ignore=_split(ignore),
        extra_rules=rule_dirs,
        respect_gitignore=False if no_gitignore else None,
        force_exclude=True if force_exclude else None,
        **limits,
    )


def _engine(settings: Settings) -> Engine:
    try:
        return Engine.create(settings)
    except RuleError as error:
        _fail(error)


def _files(paths: tuple[Path, ...], settings: Settings) -> Discovery:
    try:
        found = discover_files(list(paths or (Path("."),)), settings)
    except DiscoveryError as error:
        _fail(error)
    if not found.files:
        shown = ", ".join(str(p) for p in paths or (Path("."),))
        click.echo(f"cloudshift: warning: no Python files found under {shown}", err=True)
    return found


def _roots(paths: tuple[Path, ...]) -> list[Path]:
    """The folders module names are counted from: the ones given, or the folders of the files given."""
    return [path if path.is_dir() else path.parent for path in paths or (Path("."),)]


def _terminal() -> Terminal:
    return Terminal.detect(no_color=click.get_current_context().meta.get(NO_COLOR_KEY, False))


def _check(
    engine: Engine,
    paths: tuple[Path, ...],
    found: Discovery,
    *,
    fix: Safety | None = None,
    jobs: int | None = None,
    cache: ResultCache | None = None,
) -> list[Checked]:
    """Every file's result (and each path discovery could not look at), with a progress bar for a person."""
    with _terminal().progress(len(found.files)) as progress:
        roots = _roots(paths)
        checked = check_paths(engine, found.files, fix=fix, jobs=jobs, cache=cache, roots=roots, progress=progress)
        unusable = [Checked(Path(error.path), FileResult(error.path, errors=(error,)), None) for error in found.errors]
        return [*checked, *unusable]


def _errors(checked: list[Checked]) -> list[FileError]:
    return [error for item in checked for error in item.result.errors]


def _findings(checked: list[Checked]) -> list[Finding]:
    return [finding for item in checked for finding in item.result.findings]


def _no_color(context: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        context.meta[NO_COLOR_KEY] = True


def _limit(context: click.Context, parameter: click.Parameter, value: str | None) -> None:
    """Keep --max-file-size / --file-timeout for `_settings`, validated, under their Settings names."""
    if value is None:
        return
    try:
        limit = parse_size(value) if parameter.name == "max_file_size" else float(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    if limit < 0:
        raise click.BadParameter("must not be negative")
    context.meta.setdefault(LIMITS_KEY, {})[parameter.name] = limit


no_color_option = click.option(
    "--no-color",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_no_color,
    help="Plain text even on a terminal (so does the NO_COLOR environment variable).",
)


def common_options(function: Command) -> Command:
    """Options every analysing command takes."""
    options = [
        no_color_option,
        click.option(
            "--select", multiple=True, help="Only these rules (ids or prefixes such as aws-s3), comma-separated."
        ),
        click.option("--ignore", multiple=True, help="Skip these rules (ids or prefixes), comma-separated."),
        click.option(
            "--rules",
            "rule_dirs",
            multiple=True,
            type=click.Path(path_type=Path, file_okay=False),
            help="An extra folder of rule files (YAML).",
        ),
        click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: one per core)."),
        click.option(
            "--max-file-size",
            expose_value=False,
            callback=_limit,
            metavar="SIZE",
            help="Skip (and report) files larger than this, e.g. 2MB; 0 for no limit (default 1MB).",
        ),
        click.option(
            "--file-timeout",
            expose_value=False,
            callback=_limit,
            metavar="SECONDS",
            help="Give up on (and report) a file after this long; 0 for no limit (default 300).",
        ),
        click.option(
            "--stdin-filename",
            type=click.Path(path_type=Path, dir_okay=False),
            help="Read the source from stdin (give `-` as the path) and treat it as this file.",
        ),
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cloudshift")
@no_color_option
def main() -> None:
    """Find direct cloud storage SDK calls and rewrite them onto storage_shim."""


@main.command()
@common_options
@click.option("--format", "format_name", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), help="Write the report to a file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--no-gitignore", is_flag=True, help="Scan files that .gitignore excludes.")
@click.option("--force-exclude", is_flag=True, help="Apply exclusions to files named on the command line too.")
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Fail only on findings not in this baseline file.",
)
@click.option("--diff-base", metavar="REF", help="Fail only on lines changed since the merge base with REF.")
@click.option("--report-unused-ignores", is_flag=True, help="Report (and fail on) suppressions that match nothing.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.cloudshift_cache).")
def scan(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    jobs: int | None,
    stdin_filename: Path | None,
    format_name: str,
    output: Path | None,
    exit_zero: bool,
    no_gitignore: bool,
    force_exclude: bool,
    baseline_file: Path | None,
    diff_base: str | None,
    report_unused_ignores: bool,
    no_cache: bool,
) -> None:
    """Report direct SDK calls: exit 0 when none, 1 when found, 2 on errors."""
    given = (stdin_filename,) if stdin_filename else paths
    settings = _settings(given, select, ignore, rule_dirs, no_gitignore, force_exclude)
    engine = _engine(settings)
    if stdin_filename is not None:
        results = [_check_stdin(engine, paths, stdin_filename, None)]
    else:
        checked = _check(engine, paths, _files(paths, settings), jobs=jobs, cache=_cache(engine, no_cache))
        results = [c.result for c in checked]
    report = _report(results, report_unused_ignores)
    try:
        report = only_new(
            report, settings, baseline_file=baseline_file or settings.baseline, diff_base=diff_base, paths=list(given)
        )
    except (BaselineError, GitError) as error:
        _fail(error)
    docs = {rule.id: (rule.message, rule.manual or rule.message) for rule in engine.ruleset.rules}
    text = render(format_name, report, rule_docs=docs, root=_report_root())
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    elif format_name == "text":
        _terminal().echo(text)
    else:
        click.echo(text, nl=False)  # machine formats: never styled
    sys.exit(exit_code(report, exit_zero=exit_zero, fail_on_unused=report_unused_ignores))


def _report(results: list[FileResult], with_unused_ignores: bool) -> Report:
    unused = [
        item
        for r in results
        if with_unused_ignores
        for item in unused_suppressions(r.path, r.source, [*r.findings, *r.suppressed])
    ]
    return Report(
        [f for r in results for f in r.findings],
        [e for r in results for e in r.errors],
        [r.path for r in results],
        suppressed=sum(len(r.suppressed) for r in results),
        unused_ignores=unused,
    )


def _cache(engine: Engine, disabled: bool) -> ResultCache | None:
    return None if disabled else ResultCache(engine.settings, engine.ruleset.files)


def _report_root() -> Path:
    """SARIF and GitHub paths are relative to the checkout's top when in git."""
    try:
        return find_repo_root(Path.cwd())
    except GitError:
        return Path.cwd()


@main.command("baseline")
@common_options
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The baseline file (default: the configured one, else .cloudshift-baseline.json).",
)
@click.option("--update", is_flag=True, help="Only drop fixed findings and refresh lines; add nothing.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.cloudshift_cache).")
def baseline_command(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    jobs: int | None,
    stdin_filename: Path | None,
    output: Path | None,
    update: bool,
    no_cache: bool,
) -> None:
    """Record the current findings so that `scan --baseline` fails only on new ones."""
    if stdin_filename is not None:
        _fail(ValueError("baseline records files on disk; --stdin-filename does not apply"))
    settings = _settings(paths, select, ignore, rule_dirs)
    engine = _engine(settings)
    checked = _check(engine, paths, _files(paths, settings), jobs=jobs, cache=_cache(engine, no_cache))
    report = _report([c.result for c in checked], False)
    target = output or settings.baseline_path
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        click.echo(save_baseline(report, settings, target, update=update))
    except BaselineError as error:
        _fail(error)
    sys.exit(USAGE_ERROR if _fatal(report.errors) else 0)


@main.command("report")
@common_options
@click.option("--format", "format_name", type=click.Choice(MIGRATION_FORMATS), default="html", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write the report here (default: stdout)."
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.cloudshift_cache).")
def report_command(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    jobs: int | None,
    stdin_filename: Path | None,
    format_name: str,
    output: Path | None,
    no_cache: bool,
) -> None:
    """Write a migration plan: findings by provider, rule, fix safety and directory, and the work left for people."""
    if stdin_filename is not None:
        _fail(ValueError("report covers files on disk; --stdin-filename does not apply"))
    settings = _settings(paths, select, ignore, rule_dirs)
    engine = _engine(settings)
    checked = _check(engine, paths, _files(paths, settings), jobs=jobs, cache=_cache(engine, no_cache))
    report = _report([c.result for c in checked], False)
    migration = Migration(tuple(str(path) for path in paths or (Path("."),)), report)
    text = render_migration(format_name, migration, tool_version())
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}: {migration.headline()}", err=True)
    sys.exit(USAGE_ERROR if _fatal(report.errors) else 0)


@main.command()
@common_options
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes whose behaviour may differ (each says how).")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff and write nothing.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings are left (for editors' format-on-save).")
def fix(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    rule_dirs: tuple[Path, ...],
    jobs: int | None,
    stdin_filename: Path | None,
    unsafe_fixes: bool,
    show_diff: bool,
    exit_zero: bool,
) -> None:
    """Rewrite SDK calls onto storage_shim in place, and list what is left for a human."""
    settings = _settings((stdin_filename,) if stdin_filename else paths, select, ignore, rule_dirs)
    engine = _engine(settings)
    level = Safety.UNSAFE if unsafe_fixes else Safety.SAFE
    if stdin_filename is not None:
        result = _check_stdin(engine, paths, stdin_filename, level)
        click.echo(result.fixed_source if result.fixed_source is not None else result.source, nl=False)
        _fix_summary([result], _profiles_needed([result], _profile_file([stdin_filename])), False, unsafe_fixes)
        sys.exit(USAGE_ERROR if _fatal(result.errors) else 1 if result.findings and not exit_zero else 0)
    checked = _check(engine, paths, _files(paths, settings), fix=level, jobs=jobs)
    changed = [item for item in checked if item.result.changed]
    profiles = _profiles_needed([item.result for item in changed], _profile_file(item.path for item in changed))
    if not show_diff:  # first: code that names a profile must never be written without it
        _write_profiles(profiles.path, profiles.missing)
        profiles = replace(profiles, written=True)
    for item in changed if show_diff else ():
        assert item.result.fixed_source is not None and item.source is not None
        _terminal().echo(_unified_diff(item.result.path, item.source.text, item.result.fixed_source), DIFF)
    written = None if show_diff else write_fixes(changed)
    failed = {error.path: error for error in written.failed} if written else {}
    results = [
        _unwritten(item.result, failed[item.result.path]) if item.result.path in failed else item.result
        for item in checked
    ]
    _fix_summary(results, profiles, show_diff, unsafe_fixes)
    if written is not None and written.lines():
        _terminal().echo("".join(line + "\n" for line in written.lines()), err=True)
    left, errors = _findings(checked), _errors(checked) + list(failed.values())
    sys.exit(USAGE_ERROR if _fatal(errors) else 1 if (left or (show_diff and changed)) and not exit_zero else 0)


def _unwritten(result: FileResult, error: FileError) -> FileResult:
    """A fixed file that could not be written: nothing was fixed there, and the summary says why."""
    return replace(result, fixed_source=result.source, applied=(), errors=(*result.errors, error))


def _profile_file(paths: Iterable[Path]) -> Path:
    from cloudshift.profiles import profile_file
    from storage_shim.profiles import ProfileError  # only `fix` needs the shim

    try:
        return profile_file(paths)
    except ProfileError as error:
        _fail(error)


def _profiles_needed(results: list[FileResult], path: Path) -> ProfilesNeeded:
    from cloudshift.profiles import profiles_needed
    from storage_shim.profiles import ProfileError

    try:
        return profiles_needed((entry for result in results if result.changed for entry in result.profiles), path)
    except ProfileError as error:
        _fail(error)


def _write_profiles(path: Path, missing: tuple[ProfileEntry, ...]) -> None:
    from cloudshift.profiles import write_profiles
    from storage_shim.profiles import ProfileError

    try:
        write_profiles(path, missing)
    except (OSError, ProfileError) as error:
        _fail(error)


def _check_stdin(engine: Engine, paths: tuple[Path, ...], name: Path, level: Safety | None) -> FileResult:
    """Check source read from stdin as if it were the file `name` (its excludes and per-file ignores apply)."""
    if paths != (Path("-"),):
        _fail(ValueError("--stdin-filename reads the source from stdin: give `-` as the only path"))
    text = sys.stdin.read()
    shown = display_path(name)
    if is_excluded(name, engine.settings):
        return FileResult(shown, source=text, fixed_source=text if level else None)
    return engine.check_source(shown, text, fix=level)


def _fatal(errors: Iterable[FileError]) -> bool:
    """Errors that stop the gate: a file that could not be read (a syntax error is reported, not fatal)."""
    return any(not error.syntax for error in errors)


def _unified_diff(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def _fix_summary(results: list[FileResult], profiles: ProfilesNeeded, dry_run: bool, unsafe: bool) -> None:
    """Per file: what was fixed, and what was left and why, grouped by reason; then the profiles the fixes need."""
    changed = [result for result in results if result.changed]
    applied = sum(len(result.applied) for result in results)
    left = [finding for result in results for finding in result.findings]
    verb = "Would fix" if dry_run else "Fixed"
    lines = [f"{verb} {applied} finding{'s' * (applied != 1)} in {len(changed)} file{'s' * (len(changed) != 1)}."]
    for error in (error for result in results for error in result.errors):
        where = f"{error.path}:{error.line}:{error.column}" if error.line else error.path
        lines.append(f"{where}: error: {error.message}")
    counts = Counter(f.fix for f in left)
    if left:
        lines.append(f"{len(left)} left for a human ({counts[Safety.UNSAFE]} unsafe, {counts[Safety.MANUAL]} manual):")
    for result in sorted(results, key=lambda r: r.path):
        lines += _file_summary(result, dry_run)
    lines += _profile_summary(profiles)
    accepted = Counter(f.reason for result in results for f in result.applied if f.fix is Safety.UNSAFE)
    if accepted:
        lines.append("Unsafe fixes applied (--unsafe-fixes), by the reason behaviour may differ:")
        lines += [f"  [unsafe] {reason} ({count})" for reason, count in sorted(accepted.items())]
    if counts[Safety.UNSAFE] and not unsafe:
        lines.append("Unsafe fixes were not applied; review the reasons above and rerun with --unsafe-fixes.")
    _terminal().echo("".join(line + "\n" for line in lines), err=True)


def _file_summary(result: FileResult, dry_run: bool) -> list[str]:
    """One file: how many fixes, then what is left grouped by reason (`[unsafe] reason`, then its lines)."""
    if not result.findings and not result.changed:
        return []
    verb = "would fix" if dry_run else "fixed"
    lines = [f"{result.path}: {verb} {len(result.applied)}, left {len(result.findings)}"]
    groups: dict[tuple[Safety, str], list[Finding]] = {}
    for finding in sorted(result.findings, key=lambda f: f.span):
        groups.setdefault((finding.fix, finding.reason or finding.message), []).append(finding)
    for (safety, reason), findings in sorted(groups.items(), key=lambda item: (item[0][0], item[1][0].span)):
        lines.append(f"  [{safety}] {reason}")
        lines += [f"    {f.path}:{f.line}:{f.column}: {f.rule}" for f in findings]
    return lines


def _profile_summary(profiles: ProfilesNeeded) -> list[str]:
    """The storage profiles the rewritten calls name: written (or to write), and those already defined."""
    if not profiles.missing and not profiles.kept:
        return []
    lines = []
    if profiles.missing:
        verb = "Added" if profiles.written else "Would add"
        lines.append(f"{verb} storage profiles to {display_path(profiles.path)} (the rewritten calls name them):")
        lines += [
            f"  [profiles.{e.name}] " + ", ".join(f"{k} = {v}" for k, v in e.to_json().items())
            for e in profiles.missing
        ]
    if profiles.kept:
        lines.append(
            f"Storage profiles already in {display_path(profiles.path)}, kept as they are: {', '.join(profiles.kept)}"
        )
    if profiles.unset:
        lines.append("They leave out settings the fixed calls rely on to behave as before; add them:")
        lines += [f"  {setting}" for setting in profiles.unset]
    return lines


@main.group()
def rules() -> None:
    """Inspect and test rule files."""


@rules.command("list")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--format", "format_name", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_list(rule_dirs: tuple[Path, ...], format_name: str) -> None:
    """Every rule: id, provider, the best fix it offers, and what it finds."""
    engine = _engine(_settings((), (), (), rule_dirs))
    rows = [
        {
            "id": r.id,
            "provider": r.provider,
            "service": r.service,
            "fix": r.best_safety.value,
            "message": r.message,
            "source": str(r.origin),
        }
        for r in engine.ruleset.rules
    ]
    if format_name == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    width = max(len(row["id"]) for row in rows)
    for row in rows:
        click.echo(f"{row['id']:<{width}}  {row['provider']:<5}  {row['fix']:<6}  {row['message']}")
    providers = Counter(row["provider"] for row in rows)
    click.echo(f"{len(rows)} rules: " + ", ".join(f"{count} {name}" for name, count in sorted(providers.items())))


@rules.command("test")
@click.argument("prefix", default="")
@click.option(
    "--fixtures",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("fixtures"),
    show_default=True,
    help="The folder of golden fixtures.",
)
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False))
def rules_test(prefix: str, fixtures: Path, rule_dirs: tuple[Path, ...]) -> None:
    """Check every golden fixture (or those whose rule id starts with PREFIX)."""
    if not fixtures.is_dir():
        _fail(FileNotFoundError(f"{fixtures}: no fixtures folder (run from a checkout or pass --fixtures)"))
    from cloudshift.golden import check_case, find_cases  # the rule-author commands' modules load when used

    engine = _engine(_settings((), (), (), rule_dirs))
    cases = find_cases(fixtures, prefix)
    failed = 0
    for case in cases:
        problems = check_case(engine, case)
        failed += bool(problems)
        click.echo(f"{'FAIL' if problems else 'ok  '} {case.id}")
        for problem in problems:
            click.echo("     " + problem.replace("\n", "\n     "))
    click.echo(f"{len(cases) - failed} passed, {failed} failed")
    sys.exit(1 if failed or not cases else 0)


def _fixtures_option(function: Command) -> Command:
    return click.option(
        "--fixtures",
        type=click.Path(path_type=Path, file_okay=False, exists=True),
        default=default_fixtures(),
        help="The golden fixtures the examples come from (default: the checkout's fixtures/).",
    )(function)


@rules.command("explain")
@click.argument("rule_id", metavar="RULE")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False))
@_fixtures_option
@no_color_option
def rules_explain(rule_id: str, rule_dirs: tuple[Path, ...], fixtures: Path | None) -> None:
    """What RULE finds, why it matters, an example from its fixture, and its fix safety."""
    ruleset = _engine(_settings((), (), (), rule_dirs)).ruleset
    rule = next((rule for rule in ruleset.rules if rule.id == rule_id), None)
    if rule is None:
        near = difflib.get_close_matches(rule_id, [rule.id for rule in ruleset.rules], n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else " (`cloudshift rules list` shows them all)"
        _fail(ValueError(f"unknown rule {rule_id!r}{hint}"))
    from cloudshift.ruledocs import rule_page

    _terminal().markdown(rule_page(ruleset, rule, fixtures))


@rules.command("docs")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("docs/rules"),
    show_default=True,
    help="The folder to write one Markdown page per rule and an index (README.md) into.",
)
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False))
@_fixtures_option
def rules_docs(output: Path, rule_dirs: tuple[Path, ...], fixtures: Path | None) -> None:
    """Write the rule pages: generated from the rule files and their golden fixtures."""
    ruleset = _engine(_settings((), (), (), rule_dirs)).ruleset
    from cloudshift.ruledocs import write_docs

    written = write_docs(ruleset, fixtures, output)
    click.echo(f"Wrote {len(written)} pages to {output}.")


@main.command("vendor-shim")
@click.argument("destination", type=click.Path(path_type=Path, file_okay=False))
def vendor_shim(destination: Path) -> None:
    """Copy storage_shim into DESTINATION/storage_shim, for teams that vendor their dependencies."""
    import storage_shim

    source = Path(storage_shim.__file__).parent
    target = destination / "storage_shim"
    if target.exists():
        _fail(FileExistsError(f"{target} already exists; remove it first to vendor a fresh copy"))
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    click.echo(f"Copied storage_shim to {target}.")
    click.echo(
        f'Point rewrites at it in pyproject.toml:\n  [tool.cloudshift]\n  shim-module = "{_module_name(target)}"'
    )


def _module_name(package: Path) -> str:
    parts = [package.name]
    parent = package.resolve().parent
    while (parent / "__init__.py").is_file():
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts)


@main.command()
def lsp() -> None:
    """Run the language server over stdio (diagnostics and quick fixes in editors)."""
    from cloudshift.lsp.server import serve  # imported here so other commands never load pygls

    serve()
