"""The SDK facts in the rule files match the installed SDKs, and the engine uses them as documented."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from cloudshift.api import Engine
from cloudshift.config import load_settings
from cloudshift.engine.prefilter import build_prefilter
from cloudshift.rules.ruleset import RuleError, load_rules

REPO = Path(__file__).resolve().parents[2]


def findings_in(name: str, text: str) -> list[tuple[int, str]]:
    result = Engine.create(load_settings(REPO)).check_source(name, text)
    return [(finding.line, finding.rule) for finding in result.findings]


def test_members_lists_are_current() -> None:
    """scripts/sdk_members.py re-reads the SDK classes; a stale list would hide or invent findings."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "sdk_members.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_members_lists_keep_methods_of_other_sdk_releases() -> None:
    """A method only an older SDK release has stays listed; the check fails only on a method the list lacks."""
    spec = importlib.util.spec_from_file_location("sdk_members", REPO / "scripts" / "sdk_members.py")
    assert spec is not None and spec.loader is not None
    members = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(members)
    text = (REPO / "rules" / "aws_s3.yaml").read_text(encoding="utf-8")
    listed = members.listed_members(text, "s3_client")
    assert {"put_object", "get_object", "copy_object"} <= listed
    grown = members.with_members(text, "s3_client", listed | {"removed_in_a_later_release"})
    assert members.listed_members(grown, "s3_client") == listed | {"removed_in_a_later_release"}
    assert members.listed_members(grown, "s3_bucket") == members.listed_members(text, "s3_bucket")


def test_catch_all_matches_only_methods_the_sdk_class_has() -> None:
    ruleset = load_rules()
    assert ruleset.catch_all("s3_client", "put_bucket_policy") is not None
    assert ruleset.catch_all("s3_client", "process_records") is None
    assert ruleset.method_names is not None
    assert "upload_blob" in ruleset.method_names and "process_records" not in ruleset.method_names


CLIENT_WITH_OWN_NAMES = """\
import boto3

s3 = boto3.client("s3")
s3.put_bucket_policy(Bucket="b", Policy="{}")
s3.process_records()
"""


def test_a_call_the_sdk_class_does_not_have_is_not_a_finding() -> None:
    assert findings_in("app.py", CLIENT_WITH_OWN_NAMES) == [(4, "aws-s3-client-other")]


DISPATCHER = """\
import boto3


class Store:
    def __init__(self):
        self.s3 = boto3.client("s3")

    def _call(self, method, **kwargs):
        return getattr(self.s3, method)(**kwargs)

    def remove(self, key):
        return self._call("delete_object", Bucket="b", Key=key)
"""


def test_a_dispatcher_named_by_a_literal_is_still_followed() -> None:
    """`self._call("delete_object")` is not an SDK method name itself, but names one."""
    assert [line for line, _ in findings_in("store.py", DISPATCHER)] == [12]


@pytest.mark.parametrize(
    ("line", "imports"),
    [
        ("from google.cloud import storage", True),
        ("from google.cloud import (\n    bigquery,\n    storage,\n)", True),
        ("import google.cloud.storage as gcs", True),
        ("from azure.storage.blob.aio import BlobClient", True),
        ("import os, boto3", True),
        ("from google.protobuf import descriptor", False),
        ("from google.cloud import bigquery", False),
        ("from azure.core.exceptions import HttpResponseError", False),
        ("import boto3_stubs_helper", False),
    ],
)
def test_prefilter_names_sdk_modules_not_their_neighbours(line: str, imports: bool) -> None:
    assert build_prefilter(load_rules()).reaches_sdk(line + "\n") is imports


def test_rule_texts_validated_once_load_the_same_from_the_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second load skips the schema and pattern checks and must build the same rules."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = load_rules()
    stamps = list((tmp_path / "cloudshift" / "validated-rules").iterdir())
    assert len(stamps) == len(first.files)
    second = load_rules()
    assert [(r.id, r.fixes, r.signature) for r in second.rules] == [(r.id, r.fixes, r.signature) for r in first.rules]
    assert second.objects == first.objects


def test_an_invalid_rule_file_is_never_stamped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yaml").write_text("provider: aws\nservice: s3\nmodules: [x]\nobjects: {}\nrules: [{id: 1}]\n")
    for _ in range(2):
        with pytest.raises(RuleError, match=r"bad\.yaml"):
            load_rules([rules])
