"""Write fixed files back: atomically, once per real file, never over an edit made during the run.

The rules (docs/ci.md, "What fix writes"):
- A symlink is written through: the file it points to gets the fix, the link stays a link.
- A file reached by several paths of one run (two links, or a link and the file itself) is
  written once, from the first of those paths in the run's order; the others are reported as
  the same file and not written again.
- Right before the atomic replace the file is hashed again; when it no longer holds the bytes
  that were read (edited during the run), it is left as it is and reported.
- A file that cannot be written (read-only folder, permissions, a dangling link) is reported with
  its path and the reason; every other file is still written, and the run says which were.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from cloudshift.engine.runner import Checked
from cloudshift.engine.source import SourceError, write_source
from cloudshift.model import FileError


@dataclass(frozen=True)
class WriteReport:
    """Which changed files were written, which were the same file as one written, and which failed."""

    written: tuple[str, ...]
    failed: tuple[FileError, ...]
    aliases: tuple[tuple[str, str], ...] = ()  # (path, the path its file was written through)

    def lines(self) -> list[str]:
        """A line per alias; when anything failed, a line for the files written and one for the others."""
        lines = [f"{path}: the same file as {first}, written once" for path, first in self.aliases]
        if self.failed:
            lines.append(f"Written ({len(self.written)}): {', '.join(self.written) or 'none'}")
            lines.append(f"Not written ({len(self.failed)}): {', '.join(error.path for error in self.failed)}")
        return lines


def write_fixes(changed: Iterable[Checked]) -> WriteReport:
    """Write each changed file's fixed text; a failure costs that file only."""
    written: list[str] = []
    failed: list[FileError] = []
    aliases: list[tuple[str, str]] = []
    targets: dict[str, str] = {}  # real path -> the path it was written through
    for item in changed:
        shown = item.result.path
        assert item.source is not None and item.result.fixed_source is not None
        first = targets.get(os.path.realpath(item.path))
        if first is not None:
            aliases.append((shown, first))
            continue
        try:
            target = write_source(item.path, item.source, item.result.fixed_source)
        except SourceError as error:
            failed.append(FileError(shown, str(error)))
            continue
        targets[str(target)] = shown
        written.append(shown)
    return WriteReport(tuple(written), tuple(failed), tuple(aliases))
