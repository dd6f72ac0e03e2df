"""Suppression comments: found with tokenize, applied to the line a call starts on."""

from __future__ import annotations

from cloudshift.engine.suppress import Suppression, UnusedSuppression, apply_suppressions, parse_suppressions

from .helpers import make_finding

SOURCE = """\
import boto3

s3 = boto3.client("s3")
s3.put_object(Bucket="b", Key="k", Body=b"")  # cloudshift: ignore
s3.get_object(Bucket="b", Key="k")  # cloudshift: ignore[aws-s3-get-object]
s3.delete_object(Bucket="b", Key="k")  # cloudshift: ignore[aws-s3-get-object]
s3.copy_object(  # cloudshift: ignore[AWS-S3]
    Bucket="b",
    Key="k2",
    CopySource="b/k",
)
s3.head_object(
    Bucket="b",  # cloudshift: ignore
    Key="k",
)
"""


def test_parse_finds_blanket_and_listed_rules() -> None:
    assert parse_suppressions(SOURCE) == [
        Suppression(4, ()),
        Suppression(5, ("aws-s3-get-object",)),
        Suppression(6, ("aws-s3-get-object",)),
        Suppression(7, ("AWS-S3",)),
        Suppression(13, ()),
    ]


def test_findings_on_suppressed_lines_are_split_off() -> None:
    put = make_finding(line=4, rule="aws-s3-put-object")
    get = make_finding(line=5, rule="aws-s3-get-object")
    delete = make_finding(line=6, rule="aws-s3-delete-object")
    copy = make_finding(line=7, rule="aws-s3-copy-object", end_line=11, end_column=2)
    head = make_finding(line=12, rule="aws-s3-head-object", end_line=15, end_column=2)
    kept, suppressed, unused = apply_suppressions([put, get, delete, copy, head], SOURCE)
    assert kept == [delete, head]  # wrong rule listed; comment not on the call's first line
    assert suppressed == [put, get, copy]
    assert unused == [
        UnusedSuppression(6, "cloudshift: ignore[aws-s3-get-object]"),
        UnusedSuppression(13, "cloudshift: ignore"),
    ]


def test_comment_text_inside_strings_is_not_a_suppression() -> None:
    source = (
        's3.put_object(Bucket="b", Key="# cloudshift: ignore", Body=b"")\n'
        'note = """\n'
        's3.get_object(Bucket="b", Key="k")  # cloudshift: ignore\n'
        '"""\n'
        "s3.delete_object(Bucket='#', Key='k')  # cloudshift:ignore\n"
    )
    assert parse_suppressions(source) == [Suppression(5, ())]
    finding = make_finding(line=1)
    kept, suppressed, _ = apply_suppressions([finding], source)
    assert kept == [finding]
    assert suppressed == []


def test_partly_used_rule_lists_report_the_unused_rules() -> None:
    source = "s3.put_object()  # cloudshift: ignore[aws-s3-put-object, gcp-storage, azure]\n"
    kept, suppressed, unused = apply_suppressions([make_finding(line=1)], source)
    assert kept == []
    assert len(suppressed) == 1
    assert unused == [UnusedSuppression(1, "cloudshift: ignore[gcp-storage, azure]")]


def test_comment_may_follow_other_tools_comments() -> None:
    source = "s3.put_object()  # noqa: E501  # cloudshift: ignore[aws]\n"
    assert parse_suppressions(source) == [Suppression(1, ("aws",))]


def test_malformed_comments_are_not_suppressions() -> None:
    source = (
        "a()  # cloudshift: ignore[aws-s3-put-object\n"
        "b()  # cloudshift: ignored\n"
        "c()  # cloudshift: ignore-all\n"
        "d()  # cloudshift ignore\n"
    )
    assert parse_suppressions(source) == []


def test_half_written_file_keeps_the_comments_before_the_break() -> None:
    source = 's3.put_object(Bucket="b")  # cloudshift: ignore\ndef broken(:\n    s3.get_object(\n'
    finding = make_finding(line=1)
    kept, suppressed, unused = apply_suppressions([finding], source)
    assert (kept, suppressed, unused) == ([], [finding], [])


def test_no_comments_no_change() -> None:
    findings = [make_finding(line=1), make_finding(line=2)]
    assert apply_suppressions(findings, "x()\ny()\n") == (findings, [], [])
