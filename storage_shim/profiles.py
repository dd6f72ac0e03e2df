"""Storage profiles: which provider, endpoint, region, credentials and defaults each bucket uses.

Read by `create_storage_client` from `cloudshift-storage.toml` (the nearest one from the
working directory upward, or the file `STORAGE_SHIM_CONFIG` names), or from the
`[tool.cloudshift.storage]` table of a `pyproject.toml` found the same way:

    [default]
    provider = "local"
    root = ".storage"

    [buckets."raw-data"]
    provider = "s3"
    region = "eu-west-1"
    endpoint = "env:S3_ENDPOINT_URL"

    [buckets."raw-data/images/"]
    content_type = "image/png"

    [profiles.s3-eu-west-1]     # named by code: create_storage_client(b, storage_profile="s3-eu-west-1")
    provider = "s3"
    region = "eu-west-1"

The format, the precedence rules and the public API (`load_profiles`, `find_profiles`,
`render_bucket_entry`, `render_profile_entry`, `update_bucket_entry`, `update_profile_entry`) are
documented in docs/storage_shim.md, "Storage profiles". Secrets never go in the file: only the
names of the environment variables (`env:VAR`), SDK profiles or key files that hold them.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ._names import check_bucket_name, normalised_metadata
from ._redact import redact
from .backends import PROVIDERS
from .backends.base import NetworkPolicy
from .errors import MissingDependency

CONFIG_NAME = "cloudshift-storage.toml"
CONFIG_VARIABLE = "STORAGE_SHIM_CONFIG"
NO_CONFIG = "none"
PYPROJECT_TABLE = ("tool", "cloudshift", "storage")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

NEUTRAL_KEYS = frozenset({"provider", "connect_timeout", "read_timeout", "max_attempts", "content_type", "metadata"})
"""Settings every provider has; kept when a more specific entry changes the provider."""

PROVIDER_KEYS: Mapping[str, Mapping[str, str]] = {
    "local": {"root": "root"},
    "memory": {},
    "s3": {
        "region": "region_name",
        "endpoint": "endpoint_url",
        "addressing_style": "addressing_style",
        "aws_access_key_id": "aws_access_key_id",
        "aws_secret_access_key": "aws_secret_access_key",
        "aws_session_token": "aws_session_token",
    },
    "gcs": {"endpoint": "endpoint", "project": "project"},
    "azure": {
        "endpoint": "account_url",
        "account_name": "account_name",
        "connection_string": "connection_string",
        "account_key": "account_key",
    },
    "oci": {"region": "region", "endpoint": "endpoint", "namespace": "namespace"},
}
"""Per provider: the profile keys it accepts besides `credentials`, and the backend option each sets."""

SECRET_KEYS = frozenset(
    {"aws_access_key_id", "aws_secret_access_key", "aws_session_token", "connection_string", "account_key"}
)
"""Keys whose value must be an `env:VAR` reference: their values are credentials."""

CREDENTIAL_FORMS: Mapping[str, Mapping[str, tuple[str, str] | None]] = {
    "s3": {"default": None, "instance": None, "profile": ("profile_name", "")},
    "gcs": {"default": None, "instance": None, "file": ("credentials_file", "")},
    "azure": {"default": None, "instance": None},
    "oci": {
        "default": None,
        "profile": ("profile", ""),
        "file": ("config_file", ""),
        "instance": ("auth", "instance_principal"),
        "resource": ("auth", "resource_principal"),
    },
}
"""Per provider, `credentials` forms and the backend option each sets: (option, fixed value)
where an empty fixed value means the text after `form:`; None: the SDK's default chain."""

ENV_OVERRIDES = ("endpoint", "region", "credentials", "connect_timeout", "read_timeout", "max_attempts")
"""Settings that `STORAGE_SHIM_<PROVIDER>_<SETTING>` variables override, for cloud providers."""

_ENV_REFERENCE = re.compile(r"env:([A-Za-z_][A-Za-z0-9_]*)")
_KEY_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")


class ProfileError(ValueError):
    """A storage profile file (or override variable) that cannot be used: says where and why."""

    def __init__(self, problem: str, *, path: Path | str | None = None, line: int | None = None, key: str = "") -> None:
        where = f"{path}:{line}" if path is not None and line is not None else str(path or "")
        message = ": ".join(part for part in (where, key, problem) if part)
        super().__init__(redact(message))
        self.path = path
        self.line = line
        self.key = key


@dataclass(frozen=True)
class Profiles:
    """The parsed entries of one profile file: `default`, `buckets` (name or name/prefix) and named `profiles`."""

    path: Path | None = None
    default: Mapping[str, Any] = field(default_factory=dict)
    buckets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def settings(
        self, bucket: str, path: str = "", provider: str | None = None, profile: str | None = None
    ) -> dict[str, Any]:
        """The merged settings for `bucket/path`: [default], the named profile, then longer and longer matching entries.

        A later entry naming another provider drops the provider-specific settings merged so
        far; so does `provider` (an explicit choice) when it differs from the result. A named
        profile that no file defines raises `ProfileError`: code that names its configuration
        must never run on another one (such as the local default).
        """
        merged: dict[str, Any] = {}
        chain = self._chain(bucket, path)
        if profile is not None:
            chain.insert(1, self._named(profile))
        for entry in chain:
            merged = _merged(merged, entry)
        if provider is not None and merged.get("provider", provider) != provider:
            merged = {key: value for key, value in merged.items() if key in NEUTRAL_KEYS - {"provider"}}
        return merged

    def _named(self, profile: str) -> Mapping[str, Any]:
        if profile not in self.profiles:
            where = f"in {self.path}" if self.path else f"(no {CONFIG_NAME} found from {os.getcwd()} upward)"
            raise ProfileError(f"no storage profile {profile!r} {where}; define [profiles.{_toml_key(profile)}]")
        return self.profiles[profile]

    def _chain(self, bucket: str, path: str) -> list[Mapping[str, Any]]:
        location = f"{bucket}/{path}"
        matching = [
            name
            for name in self.buckets
            if name == bucket or (name.startswith(f"{bucket}/") and location.startswith(name))
        ]
        return [self.default, *(self.buckets[name] for name in sorted(matching, key=len))]


def _merged(merged: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    if "provider" in entry and entry["provider"] != merged.get("provider"):
        merged = {key: value for key, value in merged.items() if key in NEUTRAL_KEYS}
    return {**merged, **entry}


def load_profiles(path: str | os.PathLike[str]) -> Profiles:
    """Read and check a cloudshift-storage.toml, or the [tool.cloudshift.storage] table of a pyproject.toml.

    A pyproject.toml without that table gives empty profiles. `ProfileError` names the file,
    the line where it can be found, and the key.
    """
    file = Path(path)
    try:
        stat = file.stat()
    except OSError as exc:
        raise ProfileError(f"cannot read the storage profile file: {exc.strerror}", path=file) from None
    return _load(os.fspath(file.resolve()), stat.st_mtime_ns, stat.st_size)


def find_profiles(start: str | os.PathLike[str] | None = None) -> Profiles:
    """The profiles create_storage_client uses: STORAGE_SHIM_CONFIG's file, else the nearest one found upward.

    Upward from `start` (tools looking from the files they edit), else from the working directory.
    `STORAGE_SHIM_CONFIG=none` turns profiles off. With no file, the profiles are empty.
    """
    configured = os.environ.get(CONFIG_VARIABLE)
    if configured == NO_CONFIG:
        return Profiles()
    if configured:
        return load_profiles(configured)
    folder = os.path.abspath(start) if start is not None else os.getcwd()
    while True:  # os.path, not pathlib: this runs on every create_storage_client call
        for candidate in (os.path.join(folder, CONFIG_NAME), os.path.join(folder, "pyproject.toml")):
            try:
                stat = os.stat(candidate)
            except OSError:
                continue
            profiles = _load(candidate, stat.st_mtime_ns, stat.st_size)
            if candidate.endswith(CONFIG_NAME) or profiles.path is not None:
                return profiles
        parent = os.path.dirname(folder)
        if parent == folder:
            return Profiles()
        folder = parent


@functools.lru_cache(maxsize=32)
def _load(filename: str, mtime_ns: int, size: int) -> Profiles:
    """Parse and check one file; cached until the file changes (its time and size are the key)."""
    path = Path(filename)
    text = path.read_text(encoding="utf-8")
    try:
        data = _toml().loads(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError; its message ends "(at line L, column C)"
        found = re.search(r"at line (\d+)", str(exc))
        raise ProfileError(f"not valid TOML: {exc}", path=path, line=int(found[1]) if found else None) from None
    prefix: tuple[str, ...] = ()
    if path.name == "pyproject.toml":
        prefix = PYPROJECT_TABLE
        for part in PYPROJECT_TABLE:
            data = data.get(part, {}) if isinstance(data, dict) else {}
        if not data:
            return Profiles()
    return _checked(data, _Locator(path, text, prefix))


class _Locator:
    """Finds the line of a key in a table of the file, for error messages (best effort)."""

    def __init__(self, path: Path, text: str, prefix: tuple[str, ...]) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.prefix = prefix

    def error(self, problem: str, table: tuple[str, ...], key: str = "") -> ProfileError:
        name = ".".join(_toml_key(part) for part in (*self.prefix, *table))
        return ProfileError(problem, path=self.path, line=self.line(table, key), key=f"[{name}] {key}".strip())

    def line(self, table: tuple[str, ...], key: str = "") -> int | None:
        header = self.header_line(table)
        if header is None or not key:
            return None if header is None else header + 1
        for index in range(header + 1, len(self.lines)):
            if self.lines[index].lstrip().startswith("["):
                break
            if _line_key(self.lines[index])[:1] == [key]:
                return index + 1
        return header + 1

    def header_line(self, table: tuple[str, ...]) -> int | None:
        """The table's header line, else the first header of a table inside it ([a.b] for [a])."""
        wanted = [*self.prefix, *table]
        headers = [(index, _header_parts(line) or []) for index, line in enumerate(self.lines)]
        exact = [index for index, parts in headers if parts == wanted]
        inside = [index for index, parts in headers if parts[: len(wanted)] == wanted]
        found = exact or inside
        return found[0] if found else None


def _checked(data: Mapping[str, Any], where: _Locator) -> Profiles:
    unknown = sorted(set(data) - {"default", "buckets", "profiles"})
    if unknown:
        raise where.error('unknown table; expected [default], [buckets."name"] and [profiles.name]', (unknown[0],))
    default = _checked_entry(data.get("default", {}), ("default",), where)
    buckets = data.get("buckets", {})
    if not isinstance(buckets, dict):
        raise where.error("must be a table of bucket entries", ("buckets",))
    entries = {}
    for name, entry in buckets.items():
        table = ("buckets", name)
        try:
            check_bucket_name(name.partition("/")[0])
        except ValueError as exc:
            raise where.error(str(exc), table) from None
        entries[name] = _checked_entry(entry, table, where)
    named = data.get("profiles", {})
    if not isinstance(named, dict):
        raise where.error("must be a table of named profiles", ("profiles",))
    for name, entry in named.items():
        _check_profile(name, entry, ("profiles", name), where)
    profiles = Profiles(where.path, default, entries, {name: dict(entry) for name, entry in named.items()})
    for name in ["", *entries]:
        _check_provider_keys(profiles, name, where)
    return profiles


def _check_profile(name: str, entry: object, table: tuple[str, ...], where: _Locator) -> None:
    """A named profile: a plain name, its own provider, and only that provider's settings."""
    if not _PROFILE_NAME.fullmatch(name):
        raise where.error("a profile name is letters, digits, '.', '_' and '-'", table)
    checked = _checked_entry(entry, table, where)
    provider = checked.get("provider")
    if provider is None:
        raise where.error("a named profile must set its provider", table)
    for key in set(checked) - NEUTRAL_KEYS:
        _check_provider_key(provider, key, checked[key], table, where)


def _checked_entry(entry: object, table: tuple[str, ...], where: _Locator) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise where.error("must be a table of settings", table)
    known = NEUTRAL_KEYS | {"credentials"} | {key for keys in PROVIDER_KEYS.values() for key in keys}
    for key, value in entry.items():
        if key not in known:
            raise where.error(f"unknown setting; expected one of {', '.join(sorted(known))}", table, key)
        try:
            _check_value(key, value)
        except (TypeError, ValueError) as exc:
            raise where.error(str(exc), table, key) from None
    return dict(entry)


def _check_value(key: str, value: Any) -> None:
    """One setting's type and form; secrets only as env: references."""
    if key == "provider" and value not in PROVIDERS:
        raise ValueError(f"unknown provider {value!r}; expected one of {', '.join(PROVIDERS)}")
    if key in NetworkPolicy.OPTIONS:
        NetworkPolicy(**{key: value})
        return
    if key == "metadata":
        if not isinstance(value, dict):
            raise TypeError('a table of names and string values, e.g. { team = "data" }')
        normalised_metadata(value)
        return
    if not isinstance(value, str) or not value:
        raise TypeError(f"a non-empty string, not {value!r}")
    if key in SECRET_KEYS and not _ENV_REFERENCE.fullmatch(value):
        raise ValueError('a credential: give the variable that holds it, e.g. "env:MY_VARIABLE", never the value')
    if redact(value) != value:
        raise ValueError("looks like a credential: secrets never go in this file; reference them with env:VAR")


def _check_provider_keys(profiles: Profiles, name: str, where: _Locator) -> None:
    """An entry's provider-specific settings must belong to the provider it ends up with."""
    table = ("buckets", name) if name else ("default",)
    entry = profiles.buckets[name] if name else profiles.default
    bucket, _, path = name.partition("/")
    settings = profiles.settings(bucket, path) if name else dict(profiles.default)
    provider = settings.get("provider")
    for key in entry:
        if key in NEUTRAL_KEYS:
            continue
        if provider is None:
            raise where.error("provider-specific, but no provider is set for this entry (or [default])", table, key)
        _check_provider_key(provider, key, entry[key], table, where)


def _check_provider_key(provider: str, key: str, value: Any, table: tuple[str, ...], where: _Locator) -> None:
    if key == "credentials":
        try:
            _credential_option(provider, value)
        except ValueError as exc:
            raise where.error(str(exc), table, key) from None
    elif key not in PROVIDER_KEYS[provider]:
        accepted = ", ".join(sorted(PROVIDER_KEYS[provider])) or "none"
        raise where.error(f"not a {provider} setting; {provider} accepts {accepted} and credentials", table, key)


def _credential_option(provider: str, value: str) -> dict[str, str]:
    """The backend option a `credentials` value sets for `provider` (none for the default chain)."""
    forms = CREDENTIAL_FORMS.get(provider, {})
    form, colon, argument = value.partition(":")
    option = forms.get(form)
    takes_argument = option is not None and not option[1]
    if form not in forms or bool(colon) != takes_argument or (takes_argument and not argument):
        expected = ", ".join(f"{name}:NAME" if o is not None and not o[1] else name for name, o in forms.items())
        raise ValueError(f"{value!r} is not a {provider} credential source; expected one of: {expected or 'none'}")
    if option is None:
        return {}
    name, fixed = option
    return {name: fixed or argument}


def backend_options(provider: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Profile settings as `create_storage_client` options for `provider`, env: references resolved.

    A reference to an unset or empty variable leaves its setting out, as if it were not written.
    """
    options: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, str) and (reference := _ENV_REFERENCE.fullmatch(value)):
            value = os.environ.get(reference[1])
            if not value:
                continue
        if key in NetworkPolicy.OPTIONS:
            options[key] = value
        elif key == "credentials":
            options.update(_credential_option(provider, value))
        elif key in PROVIDER_KEYS.get(provider, {}):
            options[PROVIDER_KEYS[provider][key]] = value
    return options


def environment_overrides(provider: str) -> dict[str, Any]:
    """`STORAGE_SHIM_<PROVIDER>_<SETTING>` variables for a cloud provider, as settings."""
    if provider not in CREDENTIAL_FORMS:  # cloud providers only
        return {}
    overrides: dict[str, Any] = {}
    for setting in ENV_OVERRIDES:
        variable = f"STORAGE_SHIM_{provider.upper()}_{setting.upper()}"
        text = os.environ.get(variable)
        if not text:
            continue
        try:
            value: Any = {"connect_timeout": float, "read_timeout": float, "max_attempts": int}.get(setting, str)(text)
            if setting in ("endpoint", "region") and setting not in PROVIDER_KEYS[provider]:
                raise ValueError(f"{provider} has no {setting} setting")
            _check_value(setting, value)
            if setting == "credentials":
                _credential_option(provider, value)
        except (TypeError, ValueError) as exc:
            raise ProfileError(str(exc), path=f"environment variable {variable}") from None
        overrides[setting] = value
    return overrides


def content_defaults(
    profiles: Profiles, bucket: str, key: str, provider: str | None = None, profile: str | None = None
) -> tuple[str | None, Mapping[str, str]]:
    """The content type and metadata the profiles give new objects at `bucket/key`: [default], the
    named profile the client was created with, then the bucket's entries (longest prefix wins)."""
    settings = profiles.settings(bucket, key, provider, profile)
    return settings.get("content_type"), settings.get("metadata", {})


# Writing entries


def render_bucket_entry(bucket: str, settings: Mapping[str, Any], *, pyproject: bool = False) -> str:
    """The TOML text of one bucket entry (a table); its names and values are checked like a loaded one's."""
    return _render_entry(("buckets", bucket), settings, pyproject)


def render_profile_entry(name: str, settings: Mapping[str, Any], *, pyproject: bool = False) -> str:
    """The TOML text of one named profile (`[profiles.name]`), checked like a loaded one."""
    return _render_entry(("profiles", name), settings, pyproject)


def _render_entry(kind_and_name: tuple[str, str], settings: Mapping[str, Any], pyproject: bool) -> str:
    table = (*(PYPROJECT_TABLE if pyproject else ()), *kind_and_name)
    _check_new_entry(kind_and_name, settings)
    lines = [f"[{'.'.join(_toml_key(part) for part in table)}]"]
    lines += [f"{_toml_key(key)} = {_toml_value(value)}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def update_profile_entry(path: str | os.PathLike[str], name: str, settings: Mapping[str, Any]) -> None:
    """Add or update one `[profiles.name]` entry, as `update_bucket_entry` does for a bucket.

    `cloudshift fix` writes the profiles its rewritten calls name (provider, region, endpoint).
    """
    _update_entry(Path(path), ("profiles", name), settings)


def update_bucket_entry(path: str | os.PathLike[str], bucket: str, settings: Mapping[str, Any]) -> None:
    """Add or update one `[buckets."name"]` entry, keeping every other line and comment.

    For tools (the analyser's `fix` writes the provider, region and endpoint it infers).
    Settings already in the entry are replaced in place (a trailing comment stays), new ones
    go at the end of the entry, and a new entry goes at the end of the file, which is created
    if missing. In a pyproject.toml the entry goes under [tool.cloudshift.storage]. The result
    is parsed and compared with what was meant before it replaces the file (atomically); an
    entry written in a form this cannot edit line by line (inline tables, dotted keys,
    multi-line values) raises `ProfileError` and leaves the file alone.
    """
    _update_entry(Path(path), ("buckets", bucket), settings)


def _update_entry(file: Path, kind_and_name: tuple[str, str], settings: Mapping[str, Any]) -> None:
    pyproject = file.name == "pyproject.toml"
    _check_new_entry(kind_and_name, settings)
    old_text = file.read_text(encoding="utf-8") if file.exists() else ""
    toml = _toml()
    try:
        expected = toml.loads(old_text)
    except ValueError as exc:
        raise ProfileError(f"not valid TOML, not changed: {exc}", path=file) from None
    table = (*(PYPROJECT_TABLE if pyproject else ()), *kind_and_name)
    node = expected
    for part in table:
        node = node.setdefault(part, {})
    node.update(settings)
    new_text = _edited(old_text, table, settings, pyproject)
    try:
        edited = toml.loads(new_text)
    except ValueError:
        edited = None
    if edited != expected:
        raise ProfileError(
            "this entry is written in a form that cannot be edited line by line (inline table, dotted keys or "
            "multi-line values); edit it by hand",
            path=file,
            key=f"[{'.'.join(_toml_key(part) for part in table)}]",
        )
    storage = edited
    for part in PYPROJECT_TABLE if pyproject else ():
        storage = storage[part]
    _checked(storage, _Locator(Path(f"{file} (as it would be)"), new_text, PYPROJECT_TABLE if pyproject else ()))
    _replace_file(file, new_text)


def _check_new_entry(kind_and_name: tuple[str, str], settings: Mapping[str, Any]) -> None:
    """The entry's name and each setting's name and value, as for a loaded entry (the rest needs the whole file)."""
    where = _Locator(Path("<new entry>"), "", ())
    kind, name = kind_and_name
    if kind == "profiles":
        _check_profile(name, dict(settings), kind_and_name, where)
        return
    try:
        check_bucket_name(name.partition("/")[0])
    except ValueError as exc:
        raise where.error(str(exc), kind_and_name) from None
    _checked_entry(dict(settings), kind_and_name, where)


def _edited(text: str, table: tuple[str, ...], settings: Mapping[str, Any], pyproject: bool) -> str:
    """`text` with the settings written into the table's lines, or the table appended."""
    lines = text.splitlines()
    header = next((index for index, line in enumerate(lines) if _header_parts(line) == list(table)), None)
    if header is None:
        separator = [""] if lines and lines[-1].strip() else []
        entry = _render_entry((table[-2], table[-1]), settings, pyproject).splitlines()
        return "\n".join([*lines, *separator, *entry]) + "\n"
    end = next((i for i in range(header + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    while end > header + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    added = []
    for key, value in settings.items():
        found = next((i for i in range(header + 1, end) if _line_key(lines[i]) == [key]), None)
        if found is None:
            added.append(f"{_toml_key(key)} = {_toml_value(value)}")
        else:
            lines[found] = _replaced_value(lines[found], value)
    lines[end:end] = added
    return "\n".join(lines) + "\n"


def _replaced_value(line: str, value: Any) -> str:
    """`key = old  # comment` with the new value and the comment kept."""
    left, _, rest = line.partition("=")
    comment = ""
    for index, char in enumerate(rest):
        if char == "#" and _parses(rest[:index]):
            comment = "  " + rest[index:]
            break
    return f"{left.rstrip()} = {_toml_value(value)}{comment}"


def _parses(value_text: str) -> bool:
    try:
        _toml().loads(f"v = {value_text}")
    except ValueError:
        return False
    return True


def _replace_file(file: Path, text: str) -> None:
    """Write `text` to a temporary file beside `file`, with its mode, then rename it into place."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=file.parent, prefix=".storage-shim-", suffix=".part", delete=False
    ) as out:
        out.write(text)
    if file.exists():
        shutil.copymode(file, out.name)
    else:  # a new file gets the mode any new file gets here, not the temporary file's 0600
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(out.name, 0o666 & ~umask)
    os.replace(out.name, file)


# TOML text


def _header_parts(line: str) -> list[str] | None:
    """The key parts of a `[table]` header line (not `[[array]]`), else None."""
    stripped = line.strip()
    if not stripped.startswith("[") or stripped.startswith("[["):
        return None
    parts, rest = _key_parts(stripped[1:])
    return parts if rest.lstrip().startswith("]") else None


def _line_key(line: str) -> list[str]:
    """The key parts of a `key = value` line, [] for anything else."""
    parts, rest = _key_parts(line)
    return parts if rest.startswith("=") else []


def _key_parts(text: str) -> tuple[list[str], str]:
    """A dotted TOML key at the start of `text` as parts, and the text after it."""
    parts: list[str] = []
    position = 0
    while match := _KEY_PART.match(text, position):
        basic, literal, bare = match.groups()
        parts.append(json.loads(f'"{basic}"') if basic is not None else literal if literal is not None else bare)
        position = match.end()
        if not text.startswith(".", position):
            break
        position += 1
    return parts, text[position:]


def _toml_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else _toml_string(name)


def _toml_string(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    return (
        '"' + "".join(escapes.get(c, f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c) for c in text) + '"'
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as a profile setting")


def _toml() -> ModuleType:
    """tomllib (Python 3.11+) or tomli, which reads the same TOML (a dependency on 3.10)."""
    try:
        return importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    except ImportError as exc:
        raise MissingDependency("reading storage profiles on Python 3.10 needs tomli: pip install tomli") from exc
