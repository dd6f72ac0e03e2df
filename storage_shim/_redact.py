"""Masking of credentials in text the shim shows: error messages, reprs and log lines.

Secrets reach text in a few recognisable shapes, whatever the provider: a `name=value`
pair (query strings of presigned URLs and SAS tokens, Azure connection strings), a quoted
`"name": "value"` pair (headers, JSON key files, dict reprs), a PEM private key, a bearer
token, the token in an OCI pre-authenticated request's path, and `user:password@` in a URL.
`redact` replaces the secret part of each with `***` and leaves the rest readable.
"""

from __future__ import annotations

import re
import traceback

MASK = "***"

SECRET_NAMES = (
    # AWS: SigV4 query strings and headers, boto3 option names
    "x-amz-signature",
    "x-amz-security-token",
    "x-amz-credential",
    "aws_secret_access_key",
    "aws_session_token",
    # Google: V4 signed URLs, service-account key files, OAuth
    "x-goog-signature",
    "x-goog-credential",
    "private_key",
    "access_token",
    "refresh_token",
    "client_secret",
    # Azure: SAS tokens, connection strings, option names
    "sig",
    "sharedaccesssignature",
    "accountkey",
    "account_key",
    "connection_string",
    # OCI config files, and generic names
    "pass_phrase",
    "key_content",
    "password",
    "signature",
    "authorization",
)
_NAMES = "|".join(re.escape(name) for name in sorted(SECRET_NAMES, key=len, reverse=True))
_PATTERNS = (
    # "name": "value", 'name': b'value', name: "value" (JSON, headers, reprs)
    (re.compile(rf"""(?i)(["']?\b(?:{_NAMES})["']?\s*:\s*b?)(["'])(?:\\.|(?!\2).)*\2"""), rf"\1\2{MASK}\2"),
    # name=value (query strings, connection strings, key=value config lines)
    (re.compile(rf"""(?i)((?<![\w-])(?:{_NAMES})\s*=\s*)[^&;\s'",]+"""), rf"\1{MASK}"),
    (
        re.compile(r"(?s)-----BEGIN ([A-Z ]*)PRIVATE KEY-----.*?(-----END \1PRIVATE KEY-----|$)"),
        f"[private key {MASK}]",
    ),
    (re.compile(r"(?i)\bBearer\s+[\w.~+/=-]+"), f"Bearer {MASK}"),
    (re.compile(r"/p/[^/\s]+/n/"), f"/p/{MASK}/n/"),  # OCI pre-authenticated request tokens
    (re.compile(r"(?<![\w.%+-])[\w.%+-]+:[^\s/@'\"]+@"), f"{MASK}@"),  # user:password@host, with or without a scheme
)


def redact(text: str) -> str:
    """`text` with every credential shape it contains masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def safe_cause(error: BaseException) -> BaseException | None:
    """`error` to chain as `__cause__`, or None when a message in its chain shows a secret.

    SDK exceptions are kept for debugging, but tracebacks print their messages (and those
    of their own causes) in full; one that holds a secret is dropped, and the shim's own
    message carries its text, redacted.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        text = "".join(traceback.format_exception_only(current))
        if redact(text) != text:
            return None
        current = current.__cause__ or current.__context__
    return error
