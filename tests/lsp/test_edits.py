"""Text edits from the server's diff: applied in any position encoding, they give the fixed text exactly."""

from __future__ import annotations

import pytest

from cloudshift.lsp.server import TextMap, ignore_edit, text_edits
from tests.lsp.conftest import apply_edits

UNITS = {
    "utf-8": lambda text: len(text.encode("utf-8")),
    "utf-16": lambda text: len(text.encode("utf-16-le")) // 2,
    "utf-32": len,
}

CASES = [
    ("import boto3\n\ns3.put_object(Bucket=b)\n", "from storage_shim import create_storage_client\n\nclient.put(k)\n"),
    ("a = 1\r\nb = s3.get_object()\r\n", "import x\r\na = 1\r\nb = client.get()\r\n"),
    ("label = 'é📦'; s3.delete_object(Key='📦')", "label = 'é📦'; client.delete('📦')"),
    ("no newline at the end", "no newline at the end\nnow there is\n"),
    ("x = 1\x0c\ny = s3.put_object()\n", "x = 1\x0c\ny = client.put()\n"),
    ("old\rmac\rendings\r", "old\rnew\rendings\r"),
    ("", "import storage_shim\n"),
    ("everything\ngoes\n", ""),
]


@pytest.mark.parametrize("encoding", sorted(UNITS))
@pytest.mark.parametrize(("before", "after"), CASES)
def test_edits_rebuild_the_fixed_text(before: str, after: str, encoding: str) -> None:
    edits = text_edits(TextMap(before, UNITS[encoding]), after)
    assert apply_edits(before, edits, encoding) == after


@pytest.mark.parametrize("encoding", sorted(UNITS))
def test_edits_rebuild_a_large_file_fixed_throughout(encoding: str) -> None:
    """Over 200 lines, blank and repeated lines are not anchors (difflib's autojunk); the edits stay exact."""
    before = "import boto3\n\n" + "".join(
        f"\n\ndef retire_{n}(key):\n    s3.delete_object(Bucket='b', Key=key)  # é📦\n    return 1\n"
        for n in range(400)
    )
    after = "from storage_shim import create_storage_client\n\n" + before.split("\n", 2)[2].replace(
        "s3.delete_object(Bucket='b', Key=key)", "create_storage_client('b').delete(key)"
    ).replace("    return 1\n", "", 7)
    edits = text_edits(TextMap(before, UNITS[encoding]), after)
    assert apply_edits(before, edits, encoding) == after
    assert len(edits) > 400  # one per changed call, not one for the whole file


def test_edits_touch_only_what_changed() -> None:
    before = "import boto3\n\n\ndef f():\n    s3.put_object(Bucket='b', Key='k', Body=b'')\n    return 1\n"
    after = "import boto3\n\n\ndef f():\n    client('b').put('k', b'')\n    return 1\n"
    (edit,) = text_edits(TextMap(before, len), after)
    assert (edit.range.start.line, edit.range.end.line) == (4, 4)
    assert (edit.range.start.character, edit.new_text) == (4, "client('b').put('k', ")  # "b'')" is kept


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    s3.delete_object(Bucket=b, Key=k)", "    s3.delete_object(Bucket=b, Key=k)  # cloudshift: ignore[R]"),
        ("    s3.delete_object(Bucket=b, Key=k)   ", "    s3.delete_object(Bucket=b, Key=k)  # cloudshift: ignore[R]"),
        ("    s3.put_object(  # noqa: E501", "    s3.put_object(  # noqa: E501  # cloudshift: ignore[R]"),
        ("    s3.put_object(  # cloudshift: ignore[a-b]", "    s3.put_object(  # cloudshift: ignore[a-b, R]"),
        ('    s3.put_object(Body="""', None),
        ("    x = s3.put_object(Body=b) + \\", None),
    ],
)
def test_ignore_edit(line: str, expected: str | None) -> None:
    text = f"import boto3\n{line}\nrest = 1\n"
    edit = ignore_edit(TextMap(text, len), 2, "R")
    if expected is None:
        assert edit is None
    else:
        assert edit is not None
        assert apply_edits(text, [edit], "utf-32") == f"import boto3\n{expected}\nrest = 1\n"
