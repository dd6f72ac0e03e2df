"""Write each SDK object's `members:` list into the bundled rule files, read off the installed SDKs.

    python scripts/sdk_members.py          # rewrite rules/*.yaml in place
    python scripts/sdk_members.py --check  # exit 1 when a rule file is not current

An object's catch-all rule (`method: <object>.*`) matches only the methods its SDK class really has,
and a call whose method no SDK object has is never a finding: the engine skips it without
evaluating the receiver, which is most of the calls in a large code base. The lists come from
the SDK classes themselves (imported here, never at scan time: importing oci alone takes seconds),
so they are data in the rule files like everything else, and a test keeps them current.

Lists only grow: a method an older or newer SDK release has is still a real method for code written
against that release, so writing keeps every listed name and adds the installed SDK's new ones, and
`--check` fails only when the installed SDK has a method the list lacks.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Iterable
from pathlib import Path

RULES = Path(__file__).resolve().parents[1] / "rules"
WIDTH = 118


def _methods(*classes: type) -> set[str]:
    """Public callables of the classes (class attributes only: nothing is instantiated or loaded)."""
    found: set[str] = set()
    for cls in classes:
        for name, member in inspect.getmembers(cls):
            if not name.startswith("_") and not isinstance(member, property) and callable(member):
                found.add(name)
    return found


def _s3() -> dict[str, set[str]]:
    import boto3

    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    resource = boto3.resource("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    bucket = resource.Bucket("b")
    return {
        "s3_client": _methods(type(client)),
        "s3_resource": _methods(type(resource)),
        "s3_bucket": _methods(type(bucket)),
        "s3_object": _methods(type(resource.Object("b", "k"))),
        "s3_object_summary": _methods(type(resource.ObjectSummary("b", "k"))),
        "s3_object_collection": _methods(type(bucket.objects)),
        "s3_object_version": _methods(type(resource.ObjectVersion("b", "k", "v"))),
        "s3_object_version_collection": _methods(type(bucket.object_versions)),
    }


def _gcs() -> dict[str, set[str]]:
    from google.cloud.storage import Blob, Bucket, Client, acl

    return {
        "gcs_client": _methods(Client),
        "gcs_bucket": _methods(Bucket),
        "gcs_blob": _methods(Blob),
        "gcs_listed_blob": _methods(Blob),
        "gcs_acl": _methods(acl.ACL, acl.BucketACL, acl.ObjectACL, acl.DefaultObjectACL),
    }


def _azure() -> dict[str, set[str]]:
    from azure.storage import blob
    from azure.storage.blob import aio

    return {
        "azure_blob_service": _methods(blob.BlobServiceClient, aio.BlobServiceClient),
        "azure_container": _methods(blob.ContainerClient, aio.ContainerClient),
        "azure_blob": _methods(blob.BlobClient, aio.BlobClient),
        "azure_downloader": _methods(blob.StorageStreamDownloader, aio.StorageStreamDownloader),
    }


def _oci() -> dict[str, set[str]]:
    from oci.object_storage import MultipartObjectAssembler, ObjectStorageClient, UploadManager

    return {
        "oci_os_client": _methods(ObjectStorageClient),
        "oci_upload_manager": _methods(UploadManager),
        "oci_multipart_assembler": _methods(MultipartObjectAssembler),
    }


SOURCES: dict[str, Callable[[], dict[str, set[str]]]] = {
    "aws_s3.yaml": _s3,
    "gcp_storage.yaml": _gcs,
    "azure_blob.yaml": _azure,
    "oci_object_storage.yaml": _oci,
}


def members_block(names: Iterable[str]) -> str:
    """`    members: [a, b, ...]` wrapped the way the rule files wrap long lists."""
    body = textwrap.fill(", ".join(sorted(names)), width=WIDTH - 6, break_on_hyphens=False, break_long_words=False)
    lines = body.splitlines()
    return "    members: [\n" + "".join(f"      {line}\n" for line in lines[:-1]) + f"      {lines[-1]}]\n"


_EXISTING = re.compile(r"^    members: \[[^\]]*\]\n", re.MULTILINE)


def _object_block(text: str, obj: str) -> tuple[int, int]:
    """Start and end offsets of the YAML block describing `obj`."""
    start = text.index(f"\n  {obj}:\n") + 1
    end = re.compile(r"^  \S", re.MULTILINE).search(text, text.index("\n", start) + 1)
    return start, end.start() if end else len(text)


def listed_members(text: str, obj: str) -> set[str]:
    """The names in the members list of `obj` (empty when it has none yet)."""
    start, block_end = _object_block(text, obj)
    found = _EXISTING.search(text[start:block_end])
    if found is None:
        return set()
    inside = found.group(0).split("[", 1)[1].rsplit("]", 1)[0]
    return {name.strip() for name in inside.split(",") if name.strip()}


def with_members(text: str, obj: str, names: set[str]) -> str:
    """`text` with the members list of `obj` replaced, or placed after its summary line."""
    start, block_end = _object_block(text, obj)
    block = text[start:block_end]
    block = _EXISTING.sub("", block)
    summary = re.search(r"^    summary: .*\n", block, re.MULTILINE)
    assert summary is not None, f"{obj} has no one-line summary"
    block = block[: summary.end()] + members_block(names) + block[summary.end() :]
    return text[:start] + block + text[block_end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report stale files instead of writing")
    args = parser.parse_args()
    missing: list[str] = []
    for file_name, source in SOURCES.items():
        path = RULES / file_name
        before = path.read_text(encoding="utf-8")
        after = before
        for obj, names in source().items():
            listed = listed_members(before, obj)
            missing.extend(f"{file_name}: {obj}.{name}" for name in sorted(names - listed))
            after = with_members(after, obj, names | listed)
        if after != before and not args.check:
            path.write_text(after, encoding="utf-8")
    if args.check and missing:
        print(
            "members lists lack methods the installed SDKs have (run python scripts/sdk_members.py):", file=sys.stderr
        )
        print("\n".join(f"  {line}" for line in missing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
