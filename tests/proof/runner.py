"""Run one side of a fixture case (input.py with the SDK, expected.py with the shim) for real.

A side runs in its own Python process, in an empty temporary directory, with the emulator's
environment: the file is loaded by path, its `main()` called, and the JSON of the return
value written to a result file (stdout stays the program's own). A case whose `main()`
returns a presigned URL declares it in run.json, and the URL is then used with `requests`
so that what is compared is what the URL does, not how it is spelled.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from cloudshift.config import Settings
from cloudshift.engine.pipeline import Engine
from cloudshift.golden import render_profiles
from cloudshift.model import Safety
from storage_shim.backends import backend_class
from storage_shim.profiles import CONFIG_NAME
from tests.servers import Emulator

REPO_ROOT = Path(__file__).resolve().parents[2]
SIDE_TIMEOUT_SECONDS = 120
URL_TIMEOUT_SECONDS = 30
PUT_BYTES = b"sent to a presigned URL by the proof harness\n"
RESULT_KINDS = ("value", "url-get", "url-put")
IGNORABLE = ("content_type",)
RUN_JSON_KEYS = {"buckets", "objects", "many_keys", "many_prefix", "result", "ignore", "rename_env"}

# Loads the file by path (not as __main__, so a `if __name__ == "__main__":` block stays
# quiet), calls main() and writes the JSON of its value to the file named by argv[2].
SIDE_PROGRAM = """\
import json, runpy, sys
main = runpy.run_path(sys.argv[1], run_name="proof_case")["main"]
value = main()
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(value, out, sort_keys=True)
"""


class SideFailed(AssertionError):
    """One side of a case did not run to the end: a test failure, never a skip."""


@dataclass(frozen=True)
class RunSpec:
    """A case's run.json: see the fixture section of docs/rules.md."""

    buckets: tuple[str, ...]
    objects: Mapping[str, str] = field(default_factory=dict)
    many_keys: int = 0
    many_prefix: str = "many/"
    result: str = "value"
    ignore: tuple[str, ...] = ()
    rename_env: Mapping[str, str] = field(default_factory=dict)  # emulator variable -> the only name it has

    @classmethod
    def load(cls, path: Path) -> RunSpec:
        data = json.loads(path.read_text(encoding="utf-8"))
        unknown = sorted(set(data) - RUN_JSON_KEYS)
        if unknown:
            raise ValueError(f"{path}: unknown key(s) {', '.join(unknown)}")
        spec = cls(
            buckets=tuple(data["buckets"]),
            objects=dict(data.get("objects", {})),
            many_keys=int(data.get("many_keys", 0)),
            many_prefix=data.get("many_prefix", "many/"),
            result=data.get("result", "value"),
            ignore=tuple(data.get("ignore", ())),
            rename_env=dict(data.get("rename_env", {})),
        )
        spec._validate(path)
        return spec

    def _validate(self, path: Path) -> None:
        if self.result not in RESULT_KINDS:
            raise ValueError(f"{path}: result must be one of {', '.join(RESULT_KINDS)}")
        if not set(self.ignore) <= set(IGNORABLE):
            raise ValueError(f"{path}: ignore may only name {', '.join(IGNORABLE)}")
        for object_path in self.objects:
            if object_path.partition("/")[0] not in self.buckets:
                raise ValueError(f"{path}: {object_path!r} is not in a listed bucket")
        if self.many_keys and not self.buckets:
            raise ValueError(f"{path}: many_keys needs a bucket")

    def seed(self) -> dict[str, bytes]:
        """The objects each side starts with: the listed ones, then `many/00000`... in the first bucket."""
        seeded = {path: text.encode("utf-8") for path, text in self.objects.items()}
        for number in range(self.many_keys):
            seeded[f"{self.buckets[0]}/{self.many_prefix}{number:05d}"] = f"object {number}\n".encode()
        return seeded


def side_environment(emulator: Emulator, rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ plus the emulator's variables, and no shim configuration of its own.

    The shim side gets its provider from the storage profiles the fix writes (`fix_profiles`),
    as the fixed program would: nothing else tells it which cloud the code used. `rename`
    offers emulator variables only under other names (`AWS_ENDPOINT_URL` as the program's own
    `ARCHIVE_S3_ENDPOINT`), so a setting reaches the shim only if the profile carried it over.
    """
    env = {**os.environ, **emulator.env}
    for name, new_name in (rename or {}).items():
        env[new_name] = env.pop(name)
    for name in ("STORAGE_PROVIDER", "STORAGE_SHIM_CONFIG"):
        env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_side(program: Path, env: Mapping[str, str], workdir: Path) -> Any:
    """Run `program`'s main() in a subprocess; its JSON value, or SideFailed with its stderr."""
    result_file = workdir.parent / f"{workdir.name}.result.json"
    try:
        completed = subprocess.run(
            [sys.executable, "-c", SIDE_PROGRAM, str(program.resolve()), str(result_file)],
            cwd=workdir,
            env=dict(env),
            check=False,
            capture_output=True,
            text=True,
            timeout=SIDE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as timeout:
        raise SideFailed(f"{program} did not finish in {SIDE_TIMEOUT_SECONDS}s") from timeout
    if completed.returncode != 0:
        raise SideFailed(
            f"{program} failed (exit {completed.returncode}):\n"
            f"--- stderr ---\n{completed.stderr}--- stdout ---\n{completed.stdout}"
        )
    return json.loads(result_file.read_text(encoding="utf-8"))


def observed_result(spec: RunSpec, value: Any, emulator: Emulator) -> Any:
    """What a side's return value is compared as: itself, or what its presigned URL does."""
    if spec.result == "value":
        return value
    if not isinstance(value, str):
        raise SideFailed(f"result {spec.result!r} needs main() to return a URL, got {value!r}")
    with url_session(emulator) as session:
        if spec.result == "url-get":
            response = session.get(value, timeout=URL_TIMEOUT_SECONDS)
            _require_success(response, value)
            return {
                "GET": response.status_code,
                "body": response.content.decode("utf-8", "replace"),
            }
        response = session.put(
            value,
            data=PUT_BYTES,
            headers=presigned_put_headers(emulator.provider),
            timeout=URL_TIMEOUT_SECONDS,
        )
        _require_success(response, value)
        return {"PUT": response.status_code}


def local_files(workdir: Path) -> dict[str, str]:
    """The files a side left in its working directory: relative path -> sha256 of the bytes.

    The storage profile file the shim side is given (`fix_profiles`) is configuration, not output.
    """
    return {
        path.relative_to(workdir).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(workdir.rglob("*"))
        if path.is_file() and path.relative_to(workdir).as_posix() != CONFIG_NAME
    }


def presigned_put_headers(provider: str) -> dict[str, str]:
    """The headers the provider needs on a PUT to a presigned URL, as the shim states them."""
    return dict(backend_class(provider).presigned_put_headers)


def url_session(emulator: Emulator) -> requests.Session:
    """A requests session that reaches the emulator as the side's own code would.

    OCI URLs built by SDK code name Oracle's real host, which the OCI test server answers as
    an HTTPS proxy; those settings apply to OCI only and never leak into other providers.
    """
    session = requests.Session()
    session.trust_env = False
    if "HTTPS_PROXY" in emulator.env:
        session.proxies = {"https": emulator.env["HTTPS_PROXY"]}
        session.verify = emulator.env["REQUESTS_CA_BUNDLE"]
    return session


def _require_success(response: requests.Response, url: str) -> None:
    if not response.ok:
        raise SideFailed(f"{response.request.method} {url} -> {response.status_code}: {response.text[:500]}")


def fix_profiles(input_file: Path, workdir: Path) -> None:
    """Write the storage profile file `cloudshift fix --unsafe-fixes` writes for `input_file` into `workdir`."""
    engine = Engine.create(Settings(root=input_file.parent))
    fixed = engine.check_source(str(input_file), input_file.read_text(encoding="utf-8"), fix=Safety.UNSAFE)
    (workdir / CONFIG_NAME).write_text(render_profiles(fixed.profiles), encoding="utf-8")


def unsafe_fix_admits(input_file: Path, rule: str, difference: str) -> bool:
    """Whether a `rule` finding in `input_file` is unsafe with a reason naming `difference`.

    Only then may run.json ignore that difference: the rule must say how behaviour differs.
    """
    engine = Engine.create(Settings(root=input_file.parent))
    findings = engine.check_source(str(input_file), input_file.read_text(encoding="utf-8")).findings
    return any(
        f.rule == rule and f.fix is Safety.UNSAFE and difference in f.reason.lower().replace("_", " ") for f in findings
    )
