"""Names imported from the project's other modules resolve there: shared clients and factory helpers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CLIENTS = """\
import boto3

s3 = boto3.client("s3")


def get_s3():
    return boto3.client("s3")
"""

FAKES = """\
class FakeS3:
    def put_object(self, **kwargs):
        return kwargs


def get_s3():
    return FakeS3()
"""

REPORTS = """\
from ..clients import get_s3, s3
from app import clients
from app import fakes


def save(key, data):
    get_s3().put_object(Bucket="reports", Key=key, Body=data)
    s3.delete_object(Bucket="reports", Key=key)
    clients.s3.upload_file("/tmp/report.csv", "reports", key)
    fakes.get_s3().put_object(Bucket="reports", Key=key, Body=data)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    package = tmp_path / "app"
    (package / "store").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "store" / "__init__.py").write_text("", encoding="utf-8")
    (package / "clients.py").write_text(CLIENTS, encoding="utf-8")
    (package / "fakes.py").write_text(FAKES, encoding="utf-8")
    (package / "store" / "reports.py").write_text(REPORTS, encoding="utf-8")
    return tmp_path


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cloudshift", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_clients_from_other_modules_are_found_and_look_alikes_are_not(project: Path) -> None:
    document = json.loads(run(project, "scan", "--format", "json", ".").stdout)
    found = [(f["path"], f["line"], f["rule"]) for f in document["findings"]]
    assert found == [
        ("app/store/reports.py", 7, "aws-s3-put-object"),
        ("app/store/reports.py", 8, "aws-s3-delete-object"),
        ("app/store/reports.py", 9, "aws-s3-upload-file"),
    ]


def test_fix_rewrites_calls_through_imported_clients(project: Path) -> None:
    assert run(project, "fix", "--unsafe-fixes", ".").returncode == 0
    fixed = (project / "app" / "store" / "reports.py").read_text(encoding="utf-8")
    assert 'create_storage_client("reports", storage_profile="s3").put(key, data)' in fixed
    assert 'create_storage_client("reports", storage_profile="s3").delete(key)' in fixed
    assert 'create_storage_client("reports", storage_profile="s3").upload("/tmp/report.csv", key)' in fixed
    assert 'fakes.get_s3().put_object(Bucket="reports", Key=key, Body=data)' in fixed
    assert (project / "app" / "clients.py").read_text(encoding="utf-8") == CLIENTS


def test_a_changed_client_module_is_seen_by_the_next_cached_scan(project: Path) -> None:
    assert len(json.loads(run(project, "scan", "--format", "json", ".").stdout)["findings"]) == 3
    (project / "app" / "clients.py").write_text(FAKES.replace("FakeS3", "Other") + "s3 = Other()\n", encoding="utf-8")
    assert json.loads(run(project, "scan", "--format", "json", ".").stdout)["findings"] == []


DYNAMIC_UTIL = """\
from importlib import import_module


def get_module(name, required=None):
    try:
        return import_module(name)
    except ImportError:
        if required:
            raise
    return None
"""

DYNAMIC_HANDLER = """\
from app import util


class Handler:
    def __init__(self):
        self._s3 = None

    def init_boto(self):
        boto = util.get_module("boto3", required=True)
        self._s3 = boto.session.Session().resource("s3")

    def load(self, bucket, key, fileobj):
        self.init_boto()
        self._s3.Object(bucket, key).download_fileobj(fileobj)
        azure = __import__("azure.storage.blob")
        azure.storage.blob.BlobServiceClient("https://a.example").get_blob_client("c", key).download_blob()
        json = util.get_module("json")
        json.loads(key)
"""


def test_sdks_imported_by_name_through_a_helper_are_followed(tmp_path: Path) -> None:
    """wandb's `util.get_module("boto3")`: the module is named by a string, in a file that imports no SDK."""
    package = tmp_path / "app"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "util.py").write_text(DYNAMIC_UTIL, encoding="utf-8")
    (package / "handler.py").write_text(DYNAMIC_HANDLER, encoding="utf-8")
    document = json.loads(run(tmp_path, "scan", "--format", "json", ".").stdout)
    found = [(f["path"], f["line"], f["rule"]) for f in document["findings"]]
    assert found == [
        ("app/handler.py", 14, "aws-s3-object-download-fileobj"),
        ("app/handler.py", 16, "azure-blob-download-blob"),
    ]


COMPATIBILITY = """\
class NotImported:
    def __init__(self, message):
        self.message = message


try:
    from azure.storage.blob import BlobServiceClient
except (ImportError, AttributeError):
    BlobServiceClient = NotImported("pip install azure-storage-blob")

try:
    from google.cloud import storage
except ImportError:
    storage = None
"""

COMPATIBILITY_USER = """\
from app.compatibility import azure


def read(url, key):
    service = azure.BlobServiceClient(account_url=url)
    return service.get_blob_client("data", key).download_blob().readall()


def fallback_only(key):
    return azure.NotImported("x").download_blob(key)
"""


def test_optional_sdk_imports_with_an_import_error_fallback_are_the_sdk(tmp_path: Path) -> None:
    """great_expectations' compatibility modules: the `except ImportError` stand-in is not a second value."""
    package = tmp_path / "app" / "compatibility"
    package.mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "azure.py").write_text(COMPATIBILITY, encoding="utf-8")
    (tmp_path / "app" / "reader.py").write_text(COMPATIBILITY_USER, encoding="utf-8")
    document = json.loads(run(tmp_path, "scan", "--format", "json", ".").stdout)
    found = [(f["path"], f["line"], f["rule"]) for f in document["findings"]]
    assert found == [("app/reader.py", 6, "azure-blob-download-readall")]


def test_a_search_for_words_most_modules_spell_summarises_none_of_them() -> None:
    """Stores to `log.info` are not searched for in every module that spells both words.

    In a 7,929-file corpus such searches (and one for stores through a `name` setter) summarised
    thousands of modules for one file; a search narrow enough to say something still runs.
    """
    from cloudshift.engine.infer import Modules

    names = {f"app.m{index}": f"app/m{index}.py" for index in range(200)}
    loaded: list[str] = []

    def load(name: str) -> None:
        loaded.append(name)

    everywhere = {"log", "info"}
    modules = Modules(names, load, names, lambda word: names if word in everywhere else ["app.m1", "app.m2"])
    assert modules.mentioning_all("log", "info") == []
    assert loaded == []
    modules.mentioning_all("log", "upload")
    assert loaded == ["app.m1", "app.m2"]


INJECTED = """\
class Uploader:
    def __init__(self, client):
        self._client = client

    def save(self, bucket, key, data):
        self._client.put_object(Bucket=bucket, Key=key, Body=data)
        self._client.put_object(bucket, key, data)
"""


def test_a_client_only_handed_in_is_found_by_botocores_spelling_with_low_confidence(tmp_path: Path) -> None:
    """Nothing in the project makes the client and the module imports no SDK: the call's keyword-only,
    capitalised arguments identify it, and the finding says how little is known."""
    (tmp_path / "uploader.py").write_text(INJECTED, encoding="utf-8")
    document = json.loads(run(tmp_path, "scan", "--format", "json", ".").stdout)
    found = [(f["line"], f["rule"], f["confidence"], f["fix"]) for f in document["findings"]]
    assert found == [(6, "aws-s3-put-object", "low", "unsafe")]
    assert "only the way the call is spelled" in document["findings"][0]["reason"]


BASE = """\
class Store:
    def save(self, key, data):
        self.client.put_object(Bucket="reports", Key=key, Body=data)
"""

S3_STORE = """\
import boto3

from app.base import Store


class S3Store(Store):
    def __init__(self):
        self.client = boto3.client("s3")
"""

OTHER_STORE = """\
from app.base import Store


class Other{index}(Store):
    def save(self, key, data):
        return key, data
"""


def test_an_attribute_of_a_base_class_is_looked_up_only_in_subclasses_that_spell_it(tmp_path: Path) -> None:
    """`self.client` in a base class is what subclasses assign; a subclass whose module never spells
    `client` cannot assign it, so it is not parsed (a mocking library's base class has 170 of them)."""
    from cloudshift.config import Settings
    from cloudshift.engine.pipeline import Engine
    from cloudshift.engine.project import Project

    package = tmp_path / "app"
    package.mkdir()
    texts = {package / "__init__.py": "", package / "base.py": BASE, package / "s3_store.py": S3_STORE}
    texts.update({package / f"other{index}.py": OTHER_STORE.format(index=index) for index in range(3)})
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    engine = Engine.create(Settings(tmp_path))
    project = Project(texts, roots=[tmp_path])
    project.settle_candidates(lambda path: engine.prefilter.reaches_sdk(project.texts[path.resolve()]))
    result = engine.with_project(project).check_source(str(package / "base.py"), BASE)
    assert [(f.line, f.rule) for f in result.findings] == [(3, "aws-s3-put-object")]
    loaded = {summary.name for summary in project.program(engine.ruleset).modules.loaded()}
    assert "app.s3_store" in loaded
    assert not loaded & {"app.other0", "app.other1", "app.other2"}


SPELLED_ANNOTATIONS = """\
import typing

import boto3

if typing.TYPE_CHECKING:
    import mypy_boto3_s3


class Local:
    def put_object(self, **kwargs):
        return kwargs


def local() -> "Local":
    return _CACHE["local"]


def s3() -> "mypy_boto3_s3.Client":
    return _CACHE["s3"]


def save(data):
    local().put_object(Bucket="reports", Key="a", Body=data)
    s3().put_object(Bucket="reports", Key="b", Body=data)
"""


def test_every_node_the_resolver_remembers_an_answer_for_stays_alive(tmp_path: Path) -> None:
    """Answers are remembered by node identity. A string annotation parsed anew for each question and
    then dropped let a later parse take its identity, and its answer: skypilot's
    `-> "mypy_boto3_s3.Client"` was read as whatever annotation came before, so its findings
    depended on the order its files were analysed in."""
    import ast
    import gc

    from cloudshift.config import Settings
    from cloudshift.engine.pipeline import Engine
    from cloudshift.engine.project import Project

    path = tmp_path / "stores.py"
    path.write_text(SPELLED_ANNOTATIONS, encoding="utf-8")
    engine = Engine.create(Settings(tmp_path))
    project = Project({path: SPELLED_ANNOTATIONS}, roots=[tmp_path])
    result = engine.with_project(project).check_source(str(path), SPELLED_ANNOTATIONS)
    assert [(f.line, f.rule) for f in result.findings] == [(24, "aws-s3-put-object")]
    gc.collect()
    program = project.program(engine.ruleset)
    alive = {id(node) for summary in program.modules.loaded() for node in ast.walk(summary.tree)}
    alive |= {id(node) for kept in gc.get_objects() if isinstance(kept, ast.AST) for node in ast.walk(kept)}
    assert {node for (node, _, _), _ in program._memo} <= alive


def test_the_files_importing_a_module_follow_edits_of_import_lines(tmp_path: Path) -> None:
    """The language server asks after every edit which files import the edited one; the answer is kept
    per file rather than read again from every file, so it must follow each edit and each new file."""
    from cloudshift.engine.project import Project

    package = tmp_path / "app"
    package.mkdir()
    texts = {package / "__init__.py": "", package / "clients.py": "import boto3\n", package / "jobs.py": "x = 1\n"}
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    project = Project(texts, roots=[tmp_path])
    clients, jobs, report = ((package / name).resolve() for name in ("clients.py", "jobs.py", "report.py"))
    assert project.dependents([clients]) == {clients}

    project.set_text(jobs, "from app.clients import boto3\n")
    assert project.dependents([clients]) == {clients, jobs}
    project.set_text(report, "from .jobs import boto3\n")  # a new file, importing the importer
    assert project.dependents([clients]) == {clients, jobs, report}
    project.set_text(jobs, "x = 1\n")
    assert project.dependents([clients]) == {clients}
    project.drop_text(jobs)  # back to the file on disk, which imports nothing
    assert project.dependents([clients]) == {clients}


SETTINGS_BASE = """\
import os

from app.loop import LOOPED

ENDPOINT = os.environ["S3_URL"]
REGION = "eu-west-1"
"""

SETTINGS_JOBS = """\
import boto3

from app.config import ENDPOINT, REGION
from app.loop import LOOPED

TWICE = "us-east-1"
TWICE = "eu-central-1"


def configured(key):
    boto3.client("s3", region_name=REGION, endpoint_url=ENDPOINT).delete_object(Bucket="b", Key=key)


def cyclic(key):
    boto3.client("s3", region_name=LOOPED).delete_object(Bucket="b", Key=key)


def bound_twice(key):
    boto3.client("s3", region_name=TWICE).delete_object(Bucket="b", Key=key)


def secret_in_code(key):
    boto3.client("s3", aws_access_key_id="not-a-real-key").delete_object(Bucket="b", Key=key)
"""


def test_settings_held_by_constants_of_other_modules_are_carried_into_the_profile(tmp_path: Path) -> None:
    """A region or endpoint re-exported by a package's `__init__` is recorded; a constant bound twice,
    one caught in an import cycle, or a credential written in the code is not, and its fix stays unsafe."""
    package = tmp_path / "app"
    (package / "config").mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "config" / "__init__.py").write_text("from .base import ENDPOINT, REGION\n", encoding="utf-8")
    (package / "config" / "base.py").write_text(SETTINGS_BASE, encoding="utf-8")
    (package / "loop.py").write_text("from app.config.base import LOOPED\n", encoding="utf-8")
    (package / "jobs.py").write_text(SETTINGS_JOBS, encoding="utf-8")
    document = json.loads(run(tmp_path, "scan", "--format", "json", "--exit-zero", ".").stdout)
    found = {f["line"]: (f["fix"], f["reason"]) for f in document["findings"]}
    assert sorted(found) == [11, 15, 19, 23]
    assert found[11][0] == "safe"
    assert found[15] == found[19]
    assert found[15][0] == "unsafe" and "region_name computed at run time" in found[15][1]
    assert found[23][0] == "unsafe" and "created with aws_access_key_id;" in found[23][1]
    done = run(tmp_path, "fix", "--diff", ".")
    diff = done.stdout + done.stderr
    assert "provider = s3, endpoint = env:S3_URL, region = eu-west-1" in diff


HANDED_DOWN = {
    "clients.py": """\
import oci


def build_client():
    return oci.object_storage.ObjectStorageClient({})
""",
    "manager.py": """\
from tasks import DeleteObjectTask


class TransferManager:
    def __init__(self, client):
        self._client = client

    def delete_object(self, name):
        return DeleteObjectTask(self._client, name).run()

    def names(self):
        return self._client.list_objects("ns", "bucket")
""",
    "tasks.py": """\
def _delete(client, name):
    client.delete_object("ns", "bucket", name)


def _retry(client, name):
    _delete(client, name)


class DeleteObjectTask:
    def __init__(self, object_storage_client, name):
        self.object_storage_client = object_storage_client
        self.name = name

    def run(self):
        _retry(self.object_storage_client, self.name)
""",
    "cli.py": """\
from clients import build_client
from manager import TransferManager


def main(name):
    TransferManager(build_client()).delete_object(name)
""",
}


@pytest.mark.parametrize("first", [[], ["manager.py"], ["cli.py", "manager.py"]])
def test_a_files_findings_do_not_depend_on_the_files_checked_before_it(tmp_path: Path, first: list[str]) -> None:
    """A worker process checks many files with one resolver. The client reaches `tasks.py` through four
    levels of parameters, one more than the resolver follows; `manager.py` asks about the same client one
    level from where it is made. Reusing that answer four levels down found the call only after
    `manager.py` had been checked: oci-cli's delete task was found in one `--jobs 2` run and not the next."""
    from cloudshift.config import Settings
    from cloudshift.engine.pipeline import Engine
    from cloudshift.engine.project import Project

    for name, text in HANDED_DOWN.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    project = Project({tmp_path / name: text for name, text in HANDED_DOWN.items()}, roots=[tmp_path])
    project.settle_candidates(lambda path: True)
    engine = Engine.create(Settings(tmp_path)).with_project(project)
    found = {}
    for name in [*first, "tasks.py"]:
        found[name] = [f.line for f in engine.check_source(str(tmp_path / name), HANDED_DOWN[name]).findings]
    assert found["tasks.py"] == []
    if "manager.py" in found:
        assert found["manager.py"] == [12]  # the question about `self._client` was asked and answered
