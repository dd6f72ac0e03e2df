"""Run gcp-storage-emulator, adding GCS's `ifGenerationMatch` precondition to object uploads.

The emulator ignores request preconditions, so an upload with `if_generation_match=0`
("create only", what `put(..., overwrite=False)` sends) would silently replace an existing
object, where GCS answers 412 Precondition Failed. This script wraps the emulator's upload
handler to answer 412 the way GCS does when the object's current generation (0 when it
does not exist) differs from the one required, so the SDK's real precondition path is
exercised. Everything else is the unmodified emulator, started through its own CLI.

It also stops the emulator from rewriting its whole JSON index after every write: with
`--in-memory` that index is only ever read at start-up, and rewriting it made seeding 1,000
objects quadratic (27 s instead of under 4 s).

Run as a script (`python gcs_emulator.py start ...`), not imported by the tests.
"""

from __future__ import annotations

import sys
from http import HTTPStatus
from typing import Any

from gcp_storage_emulator import __main__ as emulator_cli
from gcp_storage_emulator import server, storage
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.handlers import objects

unconditional_insert = objects.insert


def _object_name(request: Any) -> str | None:
    """The uploaded object's name: in the query (media, resumable) or the JSON metadata."""
    if "name" in request.query:
        return request.query["name"][0]
    data = request.data
    if isinstance(data, dict):
        return data.get("name") or (data.get("meta") or {}).get("name")
    return None


def _current_generation(storage: Any, bucket: str, name: str) -> str:
    """The stored object's generation, or "0" when there is none (GCS's convention)."""
    try:
        return str(storage.get_file_obj(bucket, name)["generation"])
    except NotFound:
        return "0"


def insert_with_generation_precondition(request: Any, response: Any, storage: Any, *args: Any, **kwargs: Any) -> None:
    """The emulator's upload handler, refused with 412 when `ifGenerationMatch` does not hold."""
    required = request.query.get("ifGenerationMatch")
    name = _object_name(request)
    if (
        required
        and name is not None
        and _current_generation(storage, request.params["bucket_name"], name) != required[0]
    ):
        response.status = HTTPStatus.PRECONDITION_FAILED
        message = "At least one of the pre-conditions you specified did not hold."
        response.json(
            {
                "error": {
                    "code": 412,
                    "message": message,
                    "errors": [{"domain": "global", "reason": "conditionNotMet", "message": message}],
                }
            }
        )
        return
    unconditional_insert(request, response, storage, *args, **kwargs)


def install_precondition_check() -> None:
    """Route every upload through the precondition check (route table and fallback alike)."""
    objects.insert = insert_with_generation_precondition
    for _pattern, handlers in server.HANDLERS:
        for method, handler in handlers.items():
            if handler is unconditional_insert:
                handlers[method] = insert_with_generation_precondition


def skip_index_rewrites() -> None:
    """In memory the index is read once at start-up, so writing it after each change is wasted work."""
    storage.Storage._write_config_to_file = lambda self: None


if __name__ == "__main__":
    if "--in-memory" in sys.argv:
        skip_index_rewrites()
    install_precondition_check()
    emulator_cli.main(sys.argv[1:])
