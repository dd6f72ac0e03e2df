"""The migration report: what a team lead needs to plan moving a codebase onto storage_shim.

It is built from the very `Report` a scan produces: findings counted by provider, rule, fix
safety and directory, then the work `cloudshift fix` leaves, grouped by reason (manual work,
and unsafe fixes someone must review first). Rendered as one self-contained HTML file (inline
CSS and SVG bar charts, no script, nothing fetched) or as Markdown for a wiki or a pull request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import PurePosixPath

from cloudshift.gate.report import Report, plural
from cloudshift.model import Finding, Safety

MIGRATION_FORMATS = ("html", "markdown")
COLORS = {Safety.SAFE: "#2e7d32", Safety.UNSAFE: "#e08600", Safety.MANUAL: "#c62828"}
WHAT_TO_DO = {
    Safety.SAFE: "`cloudshift fix` rewrites these; behaviour stays the same",
    Safety.UNSAFE: "`cloudshift fix --unsafe-fixes` rewrites these once someone has checked each reason",
    Safety.MANUAL: "no fix: a person rewrites these, for the reason given",
}
MARKDOWN_BAR_WIDTH = 24  # characters of the longest bar in Markdown tables

# SVG chart geometry, in pixels
ROW_HEIGHT = 24
BAR_HEIGHT = 16
BAR_WIDTH = 420
LABEL_CHARACTERS = 44  # longer labels are shortened (the full label is in the tooltip)
CHARACTER_WIDTH = 7.2


@dataclass(frozen=True)
class Tally:
    """The findings of one provider, rule or directory, by fix safety."""

    label: str
    counts: dict[Safety, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class WorkItem:
    """Findings of one rule that share one reason: one decision for whoever plans the work."""

    rule: str
    reason: str
    locations: tuple[str, ...]  # path:line:column


@dataclass(frozen=True)
class Migration:
    """The numbers and lists both renderings show."""

    paths: tuple[str, ...]  # what was scanned, as given
    report: Report

    @property
    def findings(self) -> Sequence[Finding]:
        return self.report.sorted_findings()

    def by_safety(self) -> Tally:
        counts = Counter(finding.fix for finding in self.findings)
        return Tally("all findings", {safety: counts[safety] for safety in Safety})

    def by_provider(self) -> list[Tally]:
        return _tallies(self.findings, lambda f: f.provider)

    def by_rule(self) -> list[Tally]:
        return _tallies(self.findings, lambda f: f.rule)

    def by_directory(self) -> list[Tally]:
        return _tallies(self.findings, lambda f: str(PurePosixPath(f.path).parent))

    def work(self, safety: Safety) -> list[WorkItem]:
        """Findings of this safety grouped by rule and reason, the largest group first."""
        groups: dict[tuple[str, str], list[str]] = {}
        for finding in self.findings:
            if finding.fix is safety:
                key = (finding.rule, finding.reason or finding.message)
                groups.setdefault(key, []).append(f"{finding.path}:{finding.line}:{finding.column}")
        items = [WorkItem(rule, reason, tuple(places)) for (rule, reason), places in groups.items()]
        return sorted(items, key=lambda item: (-len(item.locations), item.rule, item.reason))

    def headline(self) -> str:
        files = len({finding.path for finding in self.findings})
        scanned = len(self.report.files_scanned)
        providers = len({finding.provider for finding in self.findings})
        return (
            f"{plural(len(self.findings), 'direct SDK call')} in {plural(files, 'file')} "
            f"({scanned} scanned), across {plural(providers, 'provider')}."
        )


def _tallies(findings: Iterable[Finding], key: Callable[[Finding], str]) -> list[Tally]:
    counts: dict[str, Counter[Safety]] = {}
    for finding in findings:
        counts.setdefault(key(finding), Counter())[finding.fix] += 1
    tallies = [Tally(label, {safety: count[safety] for safety in Safety}) for label, count in counts.items()]
    return sorted(tallies, key=lambda tally: (-tally.total, tally.label))


def render_migration(format_name: str, migration: Migration, version: str) -> str:
    """The report in one of MIGRATION_FORMATS."""
    if format_name == "html":
        return render_html(migration, version)
    if format_name == "markdown":
        return render_markdown(migration, version)
    raise ValueError(f"unknown format {format_name!r}; choose one of {', '.join(MIGRATION_FORMATS)}")


# --- the sections both renderings share ----------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    anchor: str
    title: str
    column: str
    tallies: list[Tally]


def breakdowns(migration: Migration) -> list[Breakdown]:
    return [
        Breakdown("by-provider", "Findings by provider", "provider", migration.by_provider()),
        Breakdown("by-rule", "Findings by rule", "rule", migration.by_rule()),
        Breakdown("by-directory", "Findings by directory", "directory", migration.by_directory()),
    ]


WORK_SECTIONS = (
    ("manual-work", "Manual work", Safety.MANUAL, "No fix is offered for these; each group says why."),
    (
        "unsafe-fixes",
        "Unsafe fixes to review",
        Safety.UNSAFE,
        "`cloudshift fix --unsafe-fixes` rewrites these, but behaviour may differ as each group says. "
        "Review them before applying.",
    ),
)


# --- markdown ------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _markdown_bar(count: int, largest: int) -> str:
    return "█" * max(1, round(count / largest * MARKDOWN_BAR_WIDTH)) if count else ""


def _markdown_table(column: str, tallies: Sequence[Tally]) -> list[str]:
    largest = max((tally.total for tally in tallies), default=1)
    lines = [f"| {column} | findings | safe | unsafe | manual | |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for tally in tallies:
        counts = " | ".join(str(tally.counts[safety]) for safety in Safety)
        lines.append(f"| `{_cell(tally.label)}` | {tally.total} | {counts} | {_markdown_bar(tally.total, largest)} |")
    return lines


def render_markdown(migration: Migration, version: str) -> str:
    safety = migration.by_safety()
    lines = [
        "# Storage migration report",
        "",
        f"cloudshift {version}, scanning {', '.join(f'`{path}`' for path in migration.paths)}.",
        "",
        "## Summary",
        "",
        migration.headline(),
        "",
        "| fix | findings | what to do |",
        "| --- | ---: | --- |",
        *(f"| {s.value} | {safety.counts[s]} | {WHAT_TO_DO[s]} |" for s in Safety),
        "",
    ]
    if migration.report.suppressed:
        lines += [f"{plural(migration.report.suppressed, 'finding')} suppressed with `# cloudshift: ignore`.", ""]
    for breakdown in breakdowns(migration):
        lines += [f"## {breakdown.title}", "", *_markdown_table(breakdown.column, breakdown.tallies), ""]
    for _, title, level, note in WORK_SECTIONS:
        items = migration.work(level)
        lines += [f"## {title}", ""]
        if not items:
            lines += ["None.", ""]
            continue
        lines += [note, ""]
        for item in items:
            lines += [f"### `{item.rule}`: {plural(len(item.locations), 'place')}", "", item.reason, ""]
            lines += [f"- `{location}`" for location in item.locations] + [""]
    if migration.report.errors:
        lines += ["## Files that could not be analysed", ""]
        lines += [f"- `{error.path}`: {_cell(error.message)}" for error in migration.report.errors] + [""]
    return "\n".join(lines)


# --- html ----------------------------------------------------------------------------------

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; }
body { margin: 0; background: #f6f7f9; }
header, main { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 16px 0 4px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 16px 20px; margin: 16px 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { flex: 1 1 150px; border: 1px solid #dde1e6; border-radius: 6px; padding: 10px 14px; }
.card .number { font-size: 26px; font-weight: 600; display: block; }
.card.safe .number { color: #2e7d32; } .card.unsafe .number { color: #b36b00; } .card.manual .number { color: #c62828; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef1; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 8px 0; }
svg.chart text { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; fill: #1d1d1f; }
.legend span { display: inline-block; margin-right: 16px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 6px; border-radius: 2px; }
details { margin: 4px 0 12px; } summary { cursor: pointer; color: #44505c; }
ul.locations { columns: 2; margin: 4px 0; }
"""


def _svg_chart(anchor: str, title: str, tallies: Sequence[Tally]) -> str:
    """A horizontal bar per tally, split into its safe, unsafe and manual findings."""
    label_width = round(min(max((len(t.label) for t in tallies), default=1), LABEL_CHARACTERS) * CHARACTER_WIDTH) + 12
    width, height = label_width + BAR_WIDTH + 60, ROW_HEIGHT * len(tallies) + 8
    largest = max((tally.total for tally in tallies), default=1)
    rows = []
    for index, tally in enumerate(tallies):
        y = 4 + index * ROW_HEIGHT
        label = tally.label if len(tally.label) <= LABEL_CHARACTERS else tally.label[: LABEL_CHARACTERS - 1] + "…"
        parts = [
            f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end">{escape(label)}'
            f"<title>{escape(tally.label)}</title></text>"
        ]
        x = float(label_width)
        for safety in Safety:
            count = tally.counts[safety]
            if not count:
                continue
            span = count / largest * BAR_WIDTH
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{span:.1f}" height="{BAR_HEIGHT}" fill="{COLORS[safety]}">'
                f"<title>{escape(tally.label)}: {count} {safety.value}</title></rect>"
            )
            x += span
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 13}">{tally.total}</text>')
        rows.append("<g>" + "".join(parts) + "</g>")
    return (
        f'<svg class="chart" role="img" aria-labelledby="{anchor}-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title id="{anchor}-chart">{escape(title)}</title>{"".join(rows)}</svg>'
    )


def _legend() -> str:
    keys = "".join(f'<span><i style="background:{COLORS[s]}"></i>{s.value}</span>' for s in Safety)
    return f'<p class="legend">{keys}</p>'


def _html_row(cells: Sequence[str], tag: str) -> str:
    """A table row: the first cell is a label, the others are numbers."""
    first, *numbers = cells
    return f"<tr><{tag}>{first}</{tag}>" + "".join(f'<{tag} class="n">{n}</{tag}>' for n in numbers) + "</tr>"


def _html_table(column: str, tallies: Sequence[Tally]) -> str:
    head = _html_row([escape(column), "findings", *(s.value for s in Safety)], "th")
    rows = [
        _html_row([f"<code>{escape(t.label)}</code>", str(t.total), *(str(t.counts[s]) for s in Safety)], "td")
        for t in tallies
    ]
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _inline_code(text: str) -> str:
    """Escape text for HTML and show its `backquoted` parts as code, as the Markdown does."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{piece}</code>" if index % 2 else piece for index, piece in enumerate(pieces))


def _summary_section(migration: Migration) -> str:
    safety = migration.by_safety()
    cards = [f'<div class="card"><span class="number">{len(migration.findings)}</span>findings</div>']
    cards += [
        f'<div class="card {s.value}"><span class="number">{safety.counts[s]}</span>{s.value}</div>' for s in Safety
    ]
    advice = "".join(f"<li><b>{s.value}</b>: {_inline_code(WHAT_TO_DO[s])}</li>" for s in Safety)
    suppressed = (
        f"<p>{plural(migration.report.suppressed, 'finding')} suppressed with <code># cloudshift: ignore</code>.</p>"
        if migration.report.suppressed
        else ""
    )
    chart = _svg_chart("summary", "Findings by fix safety", [safety]) if migration.findings else ""
    return (
        f'<section id="summary"><h2>Summary</h2><p>{escape(migration.headline())}</p>'
        f'<div class="cards">{"".join(cards)}</div>{chart}{_legend()}<ul>{advice}</ul>{suppressed}</section>'
    )


def _work_section(anchor: str, title: str, items: Sequence[WorkItem], note: str) -> str:
    if not items:
        return f'<section id="{anchor}"><h2>{escape(title)}</h2><p>None.</p></section>'
    groups = []
    for item in items:
        places = "".join(f"<li><code>{escape(location)}</code></li>" for location in item.locations)
        groups.append(
            f"<h3><code>{escape(item.rule)}</code>: {plural(len(item.locations), 'place')}</h3>"
            f"<p>{_inline_code(item.reason)}</p>"
            f'<details><summary>where</summary><ul class="locations">{places}</ul></details>'
        )
    return f'<section id="{anchor}"><h2>{escape(title)}</h2><p>{_inline_code(note)}</p>{"".join(groups)}</section>'


def render_html(migration: Migration, version: str) -> str:
    sections = [_summary_section(migration)]
    for breakdown in breakdowns(migration):
        chart = _svg_chart(breakdown.anchor, breakdown.title, breakdown.tallies) if breakdown.tallies else ""
        sections.append(
            f'<section id="{breakdown.anchor}"><h2>{escape(breakdown.title)}</h2>{chart}'
            f"{_html_table(breakdown.column, breakdown.tallies)}</section>"
        )
    sections += [
        _work_section(anchor, title, migration.work(level), note) for anchor, title, level, note in WORK_SECTIONS
    ]
    if migration.report.errors:
        rows = "".join(
            f"<li><code>{escape(error.path)}</code>: {escape(error.message)}</li>" for error in migration.report.errors
        )
        sections.append(f'<section id="errors"><h2>Files that could not be analysed</h2><ul>{rows}</ul></section>')
    scanned = ", ".join(f"<code>{escape(path)}</code>" for path in migration.paths)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Storage migration report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>Storage migration report</h1><p>cloudshift {escape(version)}, scanning {scanned}.</p></header>\n"
        f"<main>\n{chr(10).join(sections)}\n</main>\n</body>\n</html>\n"
    )
