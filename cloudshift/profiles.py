"""The storage profiles fixed code names: which file holds them, which it lacks, and what adding them writes.

Fixed code names its profile (`create_storage_client(b, storage_profile="s3-eu-west-1")`); without
the entry the shim would not know the bucket is on S3 in that region. `cloudshift fix` writes the
missing entries before the code that names them, and an editor runs the command a quick fix carries
right after its edit, so neither leaves code naming a profile that is not there.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cloudshift.model import ProfileEntry
from storage_shim.profiles import CONFIG_NAME, find_profiles, load_profiles, update_profile_entry


@dataclass(frozen=True)
class ProfilesNeeded:
    """The storage profiles the fixed code names that the profile file `path` does not define yet."""

    path: Path
    missing: tuple[ProfileEntry, ...]
    kept: tuple[str, ...]  # names already defined there (left as the user wrote them)
    unset: tuple[str, ...] = ()  # `name: key = value` a kept profile of the same provider leaves out
    written: bool = False  # whether `fix` wrote the missing ones (not with --diff or stdin)


def profile_file(paths: Iterable[Path], root: Path | None = None) -> Path:
    """Where fixes record profiles: the profile file the fixed files' project uses, else a new
    cloudshift-storage.toml at its root (the folder with pyproject.toml or .git, else `root`, else the
    working directory when the files are under it), where the shim looks when the project runs from there.

    Raises storage_shim's ProfileError when the profile file found cannot be read.
    """
    folders = [path.resolve() if path.is_dir() else path.resolve().parent for path in paths]
    start = Path(os.path.commonpath(folders)) if folders else Path.cwd()
    found = find_profiles(start).path
    if found is not None:
        return found
    marked = (f for f in (start, *start.parents) if (f / "pyproject.toml").exists() or (f / ".git").exists())
    here = root.resolve() if root is not None else Path.cwd().resolve()
    return next(marked, here if start.is_relative_to(here) else start) / CONFIG_NAME


def profiles_needed(entries: Iterable[ProfileEntry], path: Path) -> ProfilesNeeded:
    """Which of `entries` the profile file lacks (raises ProfileError when it cannot be read)."""
    wanted = sorted(set(entries))
    defined = load_profiles(path).profiles if path.exists() else {}
    missing = tuple(entry for entry in wanted if entry.name not in defined)
    kept = [entry for entry in wanted if entry.name in defined]
    unset = tuple(
        f'{entry.name}: {key} = "{value}"'
        for entry in kept
        if defined[entry.name].get("provider") == entry.provider  # not moved to another provider on purpose
        for key, value in entry.to_json().items()
        if key not in defined[entry.name]
    )
    return ProfilesNeeded(path, missing, tuple(entry.name for entry in kept), unset)


def write_profiles(path: Path, missing: Iterable[ProfileEntry]) -> None:
    """Add the entries to the profile file, keeping every line already there (raises OSError, ProfileError)."""
    for entry in missing:
        update_profile_entry(path, entry.name, entry.to_json())
