"""A local, in-memory OCI Object Storage server for tests, written from Oracle's REST API reference.

OCI has no public emulator. This server speaks enough of the Object Storage API (version
20160918) for the real `oci` SDK to run against it over plain HTTP on 127.0.0.1:

- namespace: ``GET /n``
- buckets: ``POST /n/{ns}/b``, ``GET``/``HEAD /n/{ns}/b/{bucket}``
- objects: ``PUT``/``GET``/``HEAD``/``DELETE /n/{ns}/b/{bucket}/o/{object}`` with content type,
  ``opc-meta-*`` user metadata, ETag, Content-MD5, Last-Modified, ``if-match`` and
  ``if-none-match`` (``*`` on PUT), and ``GET /n/{ns}/b/{bucket}/o`` listing with ``prefix``,
  ``start``, ``end``, ``startAfter``, ``limit`` (default and maximum 1000), ``delimiter``
  (``/`` only), ``fields`` and ``nextStartWith`` paging
- ``POST .../actions/copyObject``: asynchronous as in OCI; answers 202 with an
  ``opc-work-request-id`` that ``GET /workRequests/{id}`` (and ``.../errors``) reports on. The
  copy completes at once, or after ``copy_delay`` seconds so that callers must really wait.
- ``POST .../actions/renameObject``
- pre-authenticated requests: ``POST /n/{ns}/b/{bucket}/p`` returns an ``accessUri`` of the form
  ``/p/{token}/n/{ns}/b/{bucket}/o/{object}``; ``GET``/``HEAD``/``PUT`` on that path honour the
  request's access type (403 otherwise) and expiry; an unknown or expired token is a 404.

Errors are OCI JSON bodies ``{"code": ..., "message": ...}`` with OCI's status codes.

Given a `tls_directory`, the server is also an HTTPS proxy for ``objectstorage.*`` hosts
(``CONNECT``, then TLS terminated here), so SDK code that names no endpoint reaches it too;
see tests/servers/oci_tls.py.

Authentication: the SDK signs every request with an HTTP signature. This server does NOT
verify signatures (it has no user's public key to check them against); it only requires
that every ``/n/...`` and ``/workRequests/...`` request carries an ``Authorization: Signature
...`` header, and answers 401 NotAuthenticated otherwise, so an unsigned client is caught.
Pre-authenticated ``/p/...`` URLs need no header: their token is the credential.

GET honours a ``Range`` header (``bytes=a-b``, ``bytes=a-``, ``bytes=-n``) with 206 and
``Content-Range``, or 416 ``InvalidRange`` when the range starts past the end.

Not implemented: multipart uploads, object versioning, storage tiers and
archive/restore, server-side encryption headers, bucket update/delete/listing, listing or
deleting pre-authenticated requests, listing through a bucket-level PAR, copies to another
namespace or region, and content checksums other than MD5 (a wrong Content-MD5 is refused).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.servers.oci_tls import CertificateAuthority, SocketWriter

DEFAULT_NAMESPACE = "cloudshift-test"
MAX_LIST_LIMIT = 1000
LIST_FIELDS = (
    "name",
    "size",
    "etag",
    "md5",
    "timeCreated",
    "timeModified",
    "storageTier",
    "archivalState",
)
READ_ACCESS = {"ObjectRead", "ObjectReadWrite", "AnyObjectRead", "AnyObjectReadWrite"}
WRITE_ACCESS = {"ObjectWrite", "ObjectReadWrite", "AnyObjectWrite", "AnyObjectReadWrite"}
OBJECT_ACCESS = {"ObjectRead", "ObjectWrite", "ObjectReadWrite"}


class OciError(Exception):
    """An error answered as OCI does: a status code and a JSON body with `code` and `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _now() -> datetime:
    return datetime.now(timezone.utc)


def rfc3339(moment: datetime) -> str:
    """OCI's JSON timestamp format: UTC with milliseconds and a Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> datetime:
    """Parse the timestamps the SDK sends (``...Z`` or an offset); naive ones are taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise OciError(400, "InvalidParameter", f"Invalid timestamp: {text!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class StoredObject:
    """One object's bytes and the attributes OCI keeps with them."""

    data: bytes
    content_type: str
    metadata: dict[str, str]
    etag: str = field(default_factory=lambda: str(uuid.uuid4()))
    time_created: datetime = field(default_factory=_now)
    time_modified: datetime = field(default_factory=_now)

    @property
    def md5(self) -> str:
        return base64.b64encode(hashlib.md5(self.data).digest()).decode("ascii")

    def summary(self, name: str, fields: tuple[str, ...]) -> dict[str, object]:
        """The ObjectSummary JSON for a listing, holding only the requested fields."""
        values: dict[str, object] = {
            "name": name,
            "size": len(self.data),
            "etag": self.etag,
            "md5": self.md5,
            "timeCreated": rfc3339(self.time_created),
            "timeModified": rfc3339(self.time_modified),
            "storageTier": "Standard",
            "archivalState": None,
        }
        return {key: values[key] for key in LIST_FIELDS if key in fields}


@dataclass
class Bucket:
    name: str
    compartment_id: str
    metadata: dict[str, str]
    etag: str = field(default_factory=lambda: str(uuid.uuid4()))
    time_created: datetime = field(default_factory=_now)
    objects: dict[str, StoredObject] = field(default_factory=dict)


@dataclass
class PreauthenticatedRequest:
    id: str
    name: str
    token: str
    bucket: str
    object_name: str | None  # None for the bucket-wide Any* access types
    access_type: str
    time_expires: datetime
    time_created: datetime = field(default_factory=_now)

    def access_uri(self, namespace: str) -> str:
        return f"/p/{self.token}/n/{namespace}/b/{self.bucket}/o/" + quote(self.object_name or "", safe="/")


@dataclass
class WorkRequest:
    id: str
    compartment_id: str
    source: str
    destination: str
    status: str = "ACCEPTED"
    errors: list[dict[str, str]] = field(default_factory=list)
    time_accepted: datetime = field(default_factory=_now)
    time_finished: datetime | None = None


@dataclass(frozen=True)
class ObjectWrite:
    """A PUT's content and attributes, before preconditions are checked."""

    data: bytes
    content_type: str
    metadata: dict[str, str]
    if_match: str | None = None
    if_none_match: str | None = None


@dataclass(frozen=True)
class CopyRequest:
    """CopyObjectDetails as the server uses them, within one namespace."""

    source_bucket: str
    source_name: str
    destination_bucket: str
    destination_name: str
    source_if_match: str | None
    destination_if_match: str | None
    destination_if_none_match: str | None
    metadata: dict[str, str] | None


def check_preconditions(current: StoredObject | None, if_match: str | None, if_none_match: str | None) -> None:
    """Apply OCI's write preconditions: if-match needs that ETag; if-none-match ``*`` needs no object."""
    if if_match is not None and (current is None or current.etag != if_match):
        raise OciError(412, "IfMatchFailed", "The If-Match header does not match the current ETag")
    if if_none_match is not None and current is not None and if_none_match in ("*", current.etag):
        raise OciError(412, "IfNoneMatchFailed", "The If-None-Match header matched an existing object")


class ObjectStorageState:
    """Everything the server stores, guarded by one lock so request threads see consistent state."""

    def __init__(self, namespace: str, copy_delay: float = 0.0) -> None:
        self.namespace = namespace
        self.copy_delay = copy_delay
        self.lock = threading.RLock()
        self.buckets: dict[str, Bucket] = {}
        self.pars: dict[str, PreauthenticatedRequest] = {}
        self.work_requests: dict[str, WorkRequest] = {}
        self.timers: list[threading.Timer] = []
        self.operations: Counter[str] = Counter()  # requests served, by operation: for tests

    def record(self, operation: str) -> None:
        with self.lock:
            self.operations[operation] += 1

    def check_namespace(self, namespace: str) -> None:
        if namespace != self.namespace:
            raise OciError(404, "NamespaceNotFound", f"Namespace {namespace!r} does not exist")

    def create_bucket(self, name: str, compartment_id: str, metadata: dict[str, str]) -> Bucket:
        with self.lock:
            if name in self.buckets:
                raise OciError(409, "BucketAlreadyExists", f"Bucket {name!r} already exists")
            bucket = self.buckets[name] = Bucket(name, compartment_id, metadata)
            return bucket

    def bucket(self, name: str) -> Bucket:
        with self.lock:
            if name not in self.buckets:
                raise OciError(404, "BucketNotFound", f"Bucket {name!r} does not exist")
            return self.buckets[name]

    def get_object(self, bucket_name: str, name: str) -> StoredObject:
        with self.lock:
            stored = self.bucket(bucket_name).objects.get(name)
            if stored is None:
                raise OciError(404, "ObjectNotFound", f"Object {name!r} not found in bucket {bucket_name!r}")
            return stored

    def put_object(self, bucket_name: str, name: str, write: ObjectWrite) -> StoredObject:
        with self.lock:
            objects = self.bucket(bucket_name).objects
            check_preconditions(objects.get(name), write.if_match, write.if_none_match)
            stored = objects[name] = StoredObject(write.data, write.content_type, dict(write.metadata))
            return stored

    def delete_object(self, bucket_name: str, name: str, if_match: str | None) -> None:
        with self.lock:
            stored = self.get_object(bucket_name, name)
            check_preconditions(stored, if_match, None)
            del self.bucket(bucket_name).objects[name]

    def list_names(self, bucket_name: str) -> list[str]:
        with self.lock:
            return sorted(self.bucket(bucket_name).objects)

    def rename_object(self, bucket_name: str, details: dict[str, str]) -> StoredObject:
        with self.lock:
            source = self.get_object(bucket_name, details["sourceName"])
            check_preconditions(source, details.get("srcObjIfMatchETag"), None)
            objects = self.bucket(bucket_name).objects
            new_name = details["newName"]
            check_preconditions(
                objects.get(new_name),
                details.get("newObjIfMatchETag"),
                details.get("newObjIfNoneMatchETag"),
            )
            del objects[details["sourceName"]]
            source.time_modified = _now()
            objects[new_name] = source
            return source

    def start_copy(self, copy: CopyRequest, compartment_id: str) -> WorkRequest:
        """Check the copy can start, then run it now or after `copy_delay` (OCI copies asynchronously)."""
        with self.lock:
            source = self.get_object(copy.source_bucket, copy.source_name)
            check_preconditions(source, copy.source_if_match, None)
            destination = self.bucket(copy.destination_bucket).objects.get(copy.destination_name)
            check_preconditions(destination, copy.destination_if_match, copy.destination_if_none_match)
            work = WorkRequest(
                id=f"ocid1.objectstorageworkrequest.oc1..{uuid.uuid4().hex}",
                compartment_id=compartment_id,
                source=f"/n/{self.namespace}/b/{copy.source_bucket}/o/{copy.source_name}",
                destination=f"/n/{self.namespace}/b/{copy.destination_bucket}/o/{copy.destination_name}",
            )
            self.work_requests[work.id] = work
            if self.copy_delay <= 0:
                self._finish_copy(work, copy)
            else:
                work.status = "IN_PROGRESS"
                timer = threading.Timer(self.copy_delay, self._finish_copy, (work, copy))
                timer.daemon = True
                self.timers.append(timer)
                timer.start()
            return work

    def _finish_copy(self, work: WorkRequest, copy: CopyRequest) -> None:
        """Copy the source as it is now; the work request fails if it vanished or a condition broke."""
        with self.lock:
            try:
                source = self.get_object(copy.source_bucket, copy.source_name)
                metadata = source.metadata if copy.metadata is None else copy.metadata
                write = ObjectWrite(
                    source.data,
                    source.content_type,
                    metadata,
                    copy.destination_if_match,
                    copy.destination_if_none_match,
                )
                self.put_object(copy.destination_bucket, copy.destination_name, write)
                work.status = "COMPLETED"
            except OciError as error:
                work.status = "FAILED"
                work.errors.append({"code": error.code, "message": error.message, "timestamp": rfc3339(_now())})
            work.time_finished = _now()

    def work_request(self, work_request_id: str) -> WorkRequest:
        with self.lock:
            if work_request_id not in self.work_requests:
                raise OciError(404, "NotFound", f"Work request {work_request_id!r} not found")
            return self.work_requests[work_request_id]

    def create_par(self, bucket_name: str, details: dict[str, Any]) -> PreauthenticatedRequest:
        access_type = str(details.get("accessType", ""))
        if access_type not in READ_ACCESS | WRITE_ACCESS:
            raise OciError(400, "InvalidParameter", f"Invalid accessType {access_type!r}")
        object_name = details.get("objectName")
        if access_type in OBJECT_ACCESS and not object_name:
            raise OciError(400, "InvalidParameter", f"accessType {access_type} needs an objectName")
        time_expires = parse_rfc3339(str(details.get("timeExpires", "")))
        if time_expires <= _now():
            raise OciError(400, "InvalidParameter", "timeExpires must be in the future")
        par = PreauthenticatedRequest(
            id=secrets.token_urlsafe(24),
            name=str(details.get("name", "")),
            token=secrets.token_urlsafe(48),
            bucket=bucket_name,
            object_name=str(object_name) if access_type in OBJECT_ACCESS else None,
            access_type=access_type,
            time_expires=time_expires,
        )
        with self.lock:
            self.bucket(bucket_name)
            self.pars[par.token] = par
        return par

    def par_for(self, token: str, bucket_name: str, object_name: str, write: bool) -> PreauthenticatedRequest:
        """The live PAR behind `token` if it covers this object and access; 404 or 403 otherwise."""
        with self.lock:
            par = self.pars.get(token)
        covers = par is not None and par.bucket == bucket_name and par.object_name in (None, object_name)
        if par is None or not covers or par.time_expires <= _now():
            raise OciError(
                404,
                "NotAuthorizedOrNotFound",
                "The pre-authenticated request does not exist or has expired",
            )
        if par.access_type not in (WRITE_ACCESS if write else READ_ACCESS):
            raise OciError(
                403,
                "NotAuthorized",
                f"This pre-authenticated request allows {par.access_type} only",
            )
        return par


def list_objects(state: ObjectStorageState, bucket_name: str, query: dict[str, str]) -> dict[str, object]:
    """One page of ListObjects: names in order within [start, end), folded by delimiter."""
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter")
    if delimiter not in (None, "/"):
        raise OciError(400, "InvalidParameter", "Only '/' is supported as a delimiter")
    limit = _list_limit(query.get("limit"))
    fields = _list_fields(query.get("fields"))
    with state.lock:
        names = [name for name in state.list_names(bucket_name) if _in_range(name, prefix, query)]
        objects = state.bucket(bucket_name).objects
        entries: list[dict[str, object]] = []
        prefixes: list[str] = []
        for name in names:
            folded = _folded_prefix(name, prefix, delimiter)
            if folded is not None and folded in prefixes:
                continue
            if len(entries) + len(prefixes) == limit:
                return {"objects": entries, "prefixes": prefixes, "nextStartWith": name}
            if folded is None:
                entries.append(objects[name].summary(name, fields))
            else:
                prefixes.append(folded)
    return {"objects": entries, "prefixes": prefixes}


def _list_limit(text: str | None) -> int:
    limit = MAX_LIST_LIMIT if text is None else int(text) if text.isdigit() else 0
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise OciError(400, "InvalidParameter", f"limit must be between 1 and {MAX_LIST_LIMIT}")
    return limit


def _list_fields(text: str | None) -> tuple[str, ...]:
    requested = tuple(part.strip() for part in (text or "name").split(",") if part.strip())
    unknown = [name for name in requested if name not in LIST_FIELDS]
    if unknown:
        raise OciError(400, "InvalidParameter", f"Unknown fields: {', '.join(unknown)}")
    return ("name", *requested)


def _in_range(name: str, prefix: str, query: dict[str, str]) -> bool:
    start, end, start_after = query.get("start"), query.get("end"), query.get("startAfter")
    return (
        name.startswith(prefix)
        and (start is None or name >= start)
        and (start_after is None or name > start_after)
        and (end is None or name < end)
    )


def _folded_prefix(name: str, prefix: str, delimiter: str | None) -> str | None:
    """The common prefix `name` is rolled up into when listing with a delimiter, else None."""
    if delimiter is None:
        return None
    cut = name.find(delimiter, len(prefix))
    return None if cut < 0 else name[: cut + 1]


@dataclass
class Reply:
    """A response before it is written: status, headers and body."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            json.dumps(value).encode("utf-8"),
            {"Content-Type": "application/json", **(headers or {})},
        )


def object_headers(stored: StoredObject) -> dict[str, str]:
    """The headers GET and HEAD answer with: content description, ETag, times, user metadata."""
    headers = {
        "Content-Type": stored.content_type,
        "ETag": stored.etag,
        "Content-MD5": stored.md5,
        "Last-Modified": format_datetime(stored.time_modified, usegmt=True),
        "Accept-Ranges": "bytes",
        "storage-tier": "Standard",
    }
    headers.update({f"opc-meta-{key}": value for key, value in stored.metadata.items()})
    return headers


def write_headers(stored: StoredObject) -> dict[str, str]:
    """The headers PUT answers with."""
    return {
        "ETag": stored.etag,
        "opc-content-md5": stored.md5,
        "Last-Modified": format_datetime(stored.time_modified, usegmt=True),
    }


def byte_range(header: str, size: int) -> tuple[int, int]:
    """The first and last byte a single-range ``Range`` header asks for, clipped to the object.

    416 InvalidRange when the range starts at or after the end (or the object is empty), as OCI answers.
    """
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if match is None or match.groups() == ("", ""):
        raise OciError(400, "InvalidParameter", f"Unsupported Range header {header!r}")
    first_text, last_text = match.groups()
    if not first_text:  # bytes=-n: the last n bytes
        first, last = max(size - int(last_text), 0), size - 1
    else:
        first = int(first_text)
        last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or first > last:
        raise OciError(416, "InvalidRange", f"The requested range {header!r} is not satisfiable (size {size})")
    return first, last


NS = r"/n/(?P<namespace>[^/]+)"
BUCKET = NS + r"/b/(?P<bucket>[^/]+)"
OBJECT = BUCKET + r"/o/(?P<object_name>.+)"
WORK_REQUEST = r"/workRequests/(?P<work_request>[^/]+)"
PAR_OBJECT = r"/p/(?P<token>[^/]+)" + OBJECT


class OciObjectStorageHandler(BaseHTTPRequestHandler):
    """Routes each request to a method of this class; the server's `state` holds the data."""

    protocol_version = "HTTP/1.1"
    server: OciObjectStorageHttpServer

    ROUTES: tuple[tuple[str, str, str], ...] = (
        ("GET", r"/n/?", "get_namespace"),
        ("POST", NS + r"/b/?", "create_bucket"),
        ("GET HEAD", BUCKET + r"/?", "get_bucket"),
        ("GET", BUCKET + r"/o/?", "list_objects"),
        ("PUT", OBJECT, "put_object"),
        ("GET HEAD", OBJECT, "get_object"),
        ("DELETE", OBJECT, "delete_object"),
        ("POST", BUCKET + r"/actions/copyObject", "copy_object"),
        ("POST", BUCKET + r"/actions/renameObject", "rename_object"),
        ("POST", BUCKET + r"/p/?", "create_par"),
        ("GET", WORK_REQUEST, "get_work_request"),
        ("GET", WORK_REQUEST + r"/errors", "list_work_request_errors"),
        ("GET HEAD", PAR_OBJECT, "par_get_object"),
        ("PUT", PAR_OBJECT, "par_put_object"),
    )

    def setup(self) -> None:
        """Send small replies at once: with Nagle's algorithm each keep-alive request waits ~40 ms."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def finish(self) -> None:
        super().finish()
        if self.connection is not self.request:  # the TLS socket a CONNECT wrapped around it
            self.connection.close()

    def do_CONNECT(self) -> None:
        """Be the HTTPS proxy for ``objectstorage.*`` hosts: terminate TLS here (see oci_tls)."""
        host = self.path.rpartition(":")[0]
        authority = self.server.certificate_authority
        if authority is None or not host.startswith("objectstorage."):
            self.close_connection = True
            self.send_reply(
                Reply.json(
                    {
                        "code": "NotAllowed",
                        "message": f"Only OCI Object Storage is served here, not {self.path}",
                    },
                    403,
                )
            )
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.close_connection = False  # clients send CONNECT as HTTP/1.0; the tunnel stays open
        self.connection = authority.context_for(host).wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = SocketWriter(self.connection)

    def do_GET(self) -> None:
        self.dispatch()

    def do_HEAD(self) -> None:
        self.dispatch()

    def do_PUT(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest output stays readable. Errors still reach the client as OCI JSON."""

    @property
    def state(self) -> ObjectStorageState:
        return self.server.state

    def dispatch(self) -> None:
        """Read the body, find the route, run it and write its reply (or the OCI error)."""
        url = urlsplit(self.path)
        self.query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        try:
            self.body = self.read_body()
            handler, params = self.route(url.path)
            reply = handler(**params)
        except OciError as error:
            reply = Reply.json({"code": error.code, "message": error.message}, error.status)
        self.send_reply(reply)

    def route(self, path: str) -> tuple[Callable[..., Reply], dict[str, str]]:
        for methods, pattern, name in self.ROUTES:
            match = re.fullmatch(pattern, path)
            if match and self.command in methods.split():
                if not path.startswith("/p/"):
                    self.require_signature()
                if match.groupdict().get("namespace") is not None:
                    self.state.check_namespace(unquote(match["namespace"]))
                params = {key: unquote(value) for key, value in match.groupdict().items() if key != "namespace"}
                self.state.record(name)
                return getattr(self, name), params
        raise OciError(404, "NotFound", f"No operation for {self.command} {path}")

    def require_signature(self) -> None:
        """Signatures are not verified (see the module docstring), but they must be there."""
        if not self.headers.get("Authorization", "").startswith("Signature "):
            raise OciError(
                401,
                "NotAuthenticated",
                "The required information to complete authentication was not provided",
            )

    def read_body(self) -> bytes:
        """The whole request body, sized by Content-Length or sent chunked."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return b"".join(self.read_chunks())
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def read_chunks(self) -> Iterator[bytes]:
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers, up to the blank line
                    pass
                return
            yield self.rfile.read(size)
            self.rfile.readline()

    def json_body(self) -> dict[str, Any]:
        try:
            value = json.loads(self.body or b"{}")
        except ValueError as error:
            raise OciError(400, "CannotParseRequest", "The request body is not valid JSON") from error
        if not isinstance(value, dict):
            raise OciError(400, "CannotParseRequest", "The request body must be a JSON object")
        return value

    def send_reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        headers = {
            "opc-request-id": uuid.uuid4().hex,
            **reply.headers,
            "Content-Length": str(len(reply.body)),
        }
        client_request_id = self.headers.get("opc-client-request-id")
        if client_request_id:
            headers["opc-client-request-id"] = client_request_id
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and reply.status != 304:
            self.wfile.write(reply.body)

    def object_write(self) -> ObjectWrite:
        """The PUT request's body, content type and metadata; a wrong Content-MD5 is refused."""
        expected_md5 = self.headers.get("Content-MD5")
        actual_md5 = base64.b64encode(hashlib.md5(self.body).digest()).decode("ascii")
        if expected_md5 and expected_md5 != actual_md5:
            raise OciError(400, "InvalidContentMD5", "The Content-MD5 header does not match the body")
        metadata = {
            name.lower()[len("opc-meta-") :]: value
            for name, value in self.headers.items()
            if name.lower().startswith("opc-meta-")
        }
        return ObjectWrite(
            data=self.body,
            content_type=self.headers.get("Content-Type") or "application/octet-stream",
            metadata=metadata,
            if_match=self.headers.get("if-match"),
            if_none_match=self.headers.get("if-none-match"),
        )

    def object_reply(self, stored: StoredObject) -> Reply:
        """GET/HEAD of an object, with if-match (412) and if-none-match (304) applied."""
        if_match = self.headers.get("if-match")
        if if_match is not None and if_match != stored.etag:
            raise OciError(412, "IfMatchFailed", "The If-Match header does not match the current ETag")
        if self.headers.get("if-none-match") in ("*", stored.etag):
            return Reply(304, headers={"ETag": stored.etag})
        requested = self.headers.get("Range")
        if requested is None or self.command == "HEAD":
            return Reply(200, stored.data, object_headers(stored))
        first, last = byte_range(requested, len(stored.data))
        headers = {**object_headers(stored), "Content-Range": f"bytes {first}-{last}/{len(stored.data)}"}
        return Reply(206, stored.data[first : last + 1], headers)

    # Namespace and buckets

    def get_namespace(self) -> Reply:
        return Reply.json(self.state.namespace)

    def create_bucket(self) -> Reply:
        details = self.json_body()
        name = str(details.get("name") or "")
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,256}", name):
            raise OciError(400, "InvalidParameter", f"Invalid bucket name {name!r}")
        metadata = {str(key): str(value) for key, value in (details.get("metadata") or {}).items()}
        bucket = self.state.create_bucket(name, str(details.get("compartmentId", "")), metadata)
        return Reply.json(
            self.bucket_json(bucket),
            headers={"ETag": bucket.etag, "Location": f"/n/{self.state.namespace}/b/{name}"},
        )

    def get_bucket(self, bucket: str) -> Reply:
        found = self.state.bucket(bucket)
        return Reply.json(self.bucket_json(found), headers={"ETag": found.etag})

    def bucket_json(self, bucket: Bucket) -> dict[str, object]:
        return {
            "namespace": self.state.namespace,
            "name": bucket.name,
            "compartmentId": bucket.compartment_id,
            "metadata": bucket.metadata,
            "createdBy": "ocid1.user.oc1..test",
            "timeCreated": rfc3339(bucket.time_created),
            "etag": bucket.etag,
            "publicAccessType": "NoPublicAccess",
            "storageTier": "Standard",
            "objectEventsEnabled": False,
            "versioning": "Disabled",
        }

    # Objects

    def put_object(self, bucket: str, object_name: str) -> Reply:
        stored = self.state.put_object(bucket, object_name, self.object_write())
        return Reply(200, headers=write_headers(stored))

    def get_object(self, bucket: str, object_name: str) -> Reply:
        return self.object_reply(self.state.get_object(bucket, object_name))

    def delete_object(self, bucket: str, object_name: str) -> Reply:
        self.state.delete_object(bucket, object_name, self.headers.get("if-match"))
        return Reply(204, headers={"last-modified": format_datetime(_now(), usegmt=True)})

    def list_objects(self, bucket: str) -> Reply:
        return Reply.json(list_objects(self.state, bucket, self.query))

    def copy_object(self, bucket: str) -> Reply:
        details = self.json_body()
        destination_namespace = str(details.get("destinationNamespace", self.state.namespace))
        self.state.check_namespace(destination_namespace)
        metadata = details.get("destinationObjectMetadata")
        copy = CopyRequest(
            source_bucket=bucket,
            source_name=str(details.get("sourceObjectName", "")),
            destination_bucket=str(details.get("destinationBucket", "")),
            destination_name=str(details.get("destinationObjectName", "")),
            source_if_match=details.get("sourceObjectIfMatchETag"),
            destination_if_match=details.get("destinationObjectIfMatchETag"),
            destination_if_none_match=details.get("destinationObjectIfNoneMatchETag"),
            metadata=None if metadata is None else user_metadata(metadata),
        )
        work = self.state.start_copy(copy, self.state.bucket(bucket).compartment_id)
        return Reply(202, headers={"opc-work-request-id": work.id})

    def rename_object(self, bucket: str) -> Reply:
        details = {key: str(value) for key, value in self.json_body().items() if value is not None}
        if not details.get("sourceName") or not details.get("newName"):
            raise OciError(400, "MissingParameter", "sourceName and newName are required")
        stored = self.state.rename_object(bucket, details)
        return Reply(
            200,
            headers={
                "ETag": stored.etag,
                "Last-Modified": format_datetime(stored.time_modified, usegmt=True),
            },
        )

    # Work requests

    def get_work_request(self, work_request: str) -> Reply:
        work = self.state.work_request(work_request)
        with self.state.lock:
            return Reply.json(self.work_request_json(work))

    def list_work_request_errors(self, work_request: str) -> Reply:
        work = self.state.work_request(work_request)
        with self.state.lock:
            return Reply.json(list(work.errors))

    def work_request_json(self, work: WorkRequest) -> dict[str, object]:
        done = work.status in ("COMPLETED", "FAILED")
        return {
            "operationType": "COPY_OBJECT",
            "status": work.status,
            "id": work.id,
            "compartmentId": work.compartment_id,
            "resources": [
                {
                    "actionType": "READ",
                    "entityType": "object",
                    "identifier": work.source,
                    "entityUri": work.source,
                },
                {
                    "actionType": "WRITTEN",
                    "entityType": "object",
                    "identifier": work.destination,
                    "entityUri": work.destination,
                },
            ],
            "percentComplete": 100.0 if done else 0.0,
            "timeAccepted": rfc3339(work.time_accepted),
            "timeStarted": rfc3339(work.time_accepted),
            "timeFinished": rfc3339(work.time_finished) if work.time_finished else None,
        }

    # Pre-authenticated requests

    def create_par(self, bucket: str) -> Reply:
        par = self.state.create_par(bucket, self.json_body())
        access_uri = par.access_uri(self.state.namespace)
        return Reply.json(
            {
                "id": par.id,
                "name": par.name,
                "accessUri": access_uri,
                "fullPath": f"http://{self.headers.get('Host', '')}{access_uri}",
                "objectName": par.object_name,
                "bucketListingAction": "Deny",
                "accessType": par.access_type,
                "timeExpires": rfc3339(par.time_expires),
                "timeCreated": rfc3339(par.time_created),
            }
        )

    def par_get_object(self, token: str, bucket: str, object_name: str) -> Reply:
        self.state.par_for(token, bucket, object_name, write=False)
        return self.get_object(bucket, object_name)

    def par_put_object(self, token: str, bucket: str, object_name: str) -> Reply:
        self.state.par_for(token, bucket, object_name, write=True)
        return self.put_object(bucket, object_name)


def user_metadata(opc_meta: dict[str, str]) -> dict[str, str]:
    """CopyObjectDetails carries metadata as ``opc-meta-*`` keys; stored metadata has bare keys."""
    return {key.lower().removeprefix("opc-meta-"): str(value) for key, value in opc_meta.items()}


class OciObjectStorageHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        state: ObjectStorageState,
        certificate_authority: CertificateAuthority | None,
    ) -> None:
        super().__init__(address, OciObjectStorageHandler)
        self.state = state
        self.certificate_authority = certificate_authority


@contextmanager
def running_server(
    namespace: str = DEFAULT_NAMESPACE, copy_delay: float = 0.0, tls_directory: Path | None = None
) -> Iterator[OciObjectStorageHttpServer]:
    """Serve on a free 127.0.0.1 port in a background thread; yields the server, stops it after.

    With `tls_directory`, the server is also an HTTPS proxy for ``objectstorage.*`` hosts,
    with its certificate authority's bundle written there (see tests/servers/oci_tls.py).
    """
    authority = CertificateAuthority(tls_directory) if tls_directory is not None else None
    server = OciObjectStorageHttpServer(("127.0.0.1", 0), ObjectStorageState(namespace, copy_delay), authority)
    thread = threading.Thread(target=server.serve_forever, name="oci-object-storage", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        for timer in server.state.timers:
            timer.cancel()


def endpoint_of(server: OciObjectStorageHttpServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}"
