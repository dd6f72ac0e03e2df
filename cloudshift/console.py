"""Output for people: colour and a progress bar on a terminal, plain text everywhere else.

Commands compose their text as before; on a colour terminal rich only adds styles to those
same characters (a highlighter), so what a pipe, a file or a CI log receives never changes.
Machine formats (json, sarif, github, junit) are printed plain even on a terminal. Colour is
off with `--no-color`, `NO_COLOR` (https://no-color.org) or `TERM=dumb`; the progress bar is
drawn only when stderr is a terminal and `CI` is not set, and disappears when the run ends.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

import click
from rich.console import Console
from rich.highlighter import Highlighter, RegexHighlighter
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from rich.theme import Theme

from cloudshift.model import FileResult

# A frame costs about 1 ms to draw, so the bar is not redrawn for every file: at most every
# REFRESH_SECONDS, and whenever it would otherwise lag by a REFRESH_STEPS-th of the files. The
# second rule bounds how stale it looks while the run waits (there is no drawing thread to catch
# up: the runner forks worker processes, and forking a threaded process is unsafe).
REFRESH_SECONDS = 0.1
REFRESH_STEPS = 50

ProgressCallback = Callable[[FileResult], None]

THEME = Theme(
    {
        "cloudshift.location": "bold",
        "cloudshift.rule": "magenta",
        "cloudshift.error": "bold red",
        "cloudshift.warning": "yellow",
        "cloudshift.found": "bold red",
        "cloudshift.clean": "bold green",
        "cloudshift.fixed": "bold green",
        "cloudshift.left": "bold yellow",
        "cloudshift.safe": "green",
        "cloudshift.unsafe": "yellow",
        "cloudshift.manual": "red",
        "diff.added": "green",
        "diff.removed": "red",
        "diff.hunk": "cyan",
        "diff.header": "bold",
    }
)


class ReportHighlighter(RegexHighlighter):
    """Findings, errors and summaries as `scan` prints them and `fix` lists what is left."""

    base_style = "cloudshift."
    highlights = [  # noqa: RUF012 (rich reads it from the class)
        r"(?m)^ *(?P<location>[^\s:][^\n:]*:\d+(?::\d+)?): (?P<rule>[a-z0-9]+(?:-[a-z0-9]+)+) ",
        r"(?m)^ *(?P<location>[^\s:][^\n:]*(?::\d+)*): (?P<error>error):",
        r"(?m)(?P<warning>unused suppression)",
        r"(?m)^(?P<found>Found \d+ (?:new )?findings? in \d+ files?)",
        r"(?m)^(?P<clean>No (?:new )?findings)",
        r"(?m)^(?P<fixed>(?:Would fix|Fixed) \d+ findings?)",
        r"(?m)^(?P<left>\d+ left for a human)",
        r"\[(?:(?P<safe>safe)|(?P<unsafe>unsafe)|(?P<manual>manual))\]",
    ]


class DiffHighlighter(RegexHighlighter):
    """A unified diff: removed lines red, added green, hunk headers cyan, file headers bold."""

    base_style = "diff."
    highlights = [  # noqa: RUF012 (rich reads it from the class)
        r"(?m)^(?P<removed>-.*)$",
        r"(?m)^(?P<added>\+.*)$",
        r"(?m)^(?P<hunk>@@ [^@\n]* @@)",
        r"(?m)^(?P<header>(?:---|\+\+\+) .*)$",
    ]


REPORT = ReportHighlighter()
DIFF = DiffHighlighter()


def color_allowed(no_color: bool) -> bool:
    """Whether colour may be used at all: not turned off by flag or environment."""
    return not no_color and os.environ.get("NO_COLOR", "") == "" and os.environ.get("TERM") != "dumb"


@dataclass(frozen=True)
class Terminal:
    """Where the CLI's text goes and what it may add there."""

    color_out: bool  # stdout is a terminal that gets colour
    color_err: bool  # stderr likewise
    progress_bar: bool  # stderr is a terminal a person watches (not CI)

    @classmethod
    def detect(cls, no_color: bool) -> Terminal:
        allowed = color_allowed(no_color)
        err_tty = sys.stderr.isatty()
        return cls(
            color_out=allowed and sys.stdout.isatty(),
            color_err=allowed and err_tty,
            progress_bar=err_tty and not os.environ.get("CI") and os.environ.get("TERM") != "dumb",
        )

    def echo(self, text: str, highlighter: Highlighter = REPORT, *, err: bool = False) -> None:
        """Print `text` as it is (it carries its own newlines); highlighted on a colour terminal."""
        if not (self.color_err if err else self.color_out):
            click.echo(text, nl=False, err=err)
            return
        self._console(err).print(highlighter(Text(text)), end="")

    def markdown(self, text: str) -> None:
        """Markdown rendered on a colour terminal, else the Markdown source itself."""
        if not self.color_out:
            click.echo(text, nl=False)
            return
        from rich.markdown import Markdown  # only `rules explain` renders Markdown: not imported at start-up

        self._console(err=False, soft_wrap=False).print(Markdown(text))  # rich lays out the Markdown itself

    @contextmanager
    def progress(self, total: int, verb: str = "Analysing") -> Iterator[ProgressCallback]:
        """A callback to call with each file's result; it draws `files done / total, findings` on stderr."""
        if not self.progress_bar or total == 0:
            yield _ignore
            return
        bar = Progress(
            TextColumn(verb),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files, {task.fields[findings]} findings"),
            TimeElapsedColumn(),
            console=self._console(err=True),
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        task = bar.add_task(verb, total=total, findings=0)
        done = findings = drawn_done = 0
        drawn_at = time.monotonic()
        step = max(1, total // REFRESH_STEPS)

        def advance(result: FileResult) -> None:
            nonlocal done, findings, drawn_done, drawn_at
            done += 1
            findings += len(result.findings) + len(result.applied)
            bar.update(task, completed=done, findings=findings)
            if done - drawn_done >= step or time.monotonic() - drawn_at >= REFRESH_SECONDS:
                bar.refresh()
                drawn_done, drawn_at = done, time.monotonic()

        with bar:
            yield advance

    def _console(self, err: bool, soft_wrap: bool = True) -> Console:
        """A rich console on stdout or stderr; soft wrap leaves long lines to the terminal, as plain text does."""
        stream: TextIO = sys.stderr if err else sys.stdout
        return Console(
            file=stream,
            force_terminal=True,
            no_color=not (self.color_err if err else self.color_out),
            theme=THEME,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=soft_wrap,
        )


def _ignore(result: FileResult) -> None:
    """The progress callback when no bar is drawn."""
