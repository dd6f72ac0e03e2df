"""pytest plugin: moto's S3 server (`ThreadedMotoServer`) on loopback, for S3 tests.

moto runs in a thread of the test process but is reached over real HTTP, exactly as
boto3 reaches AWS; nothing in boto3 is patched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.servers import Emulator, free_port

REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Emulator]:
    """A running moto S3 server and the AWS_* environment that points boto3 at it.

    The credentials are fake (moto accepts any). Config and credential files are pointed at
    /dev/null so a developer's ~/.aws cannot change what the tests do. STORAGE_PROVIDER is
    not set: tests choose the provider themselves.
    """
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        yield Emulator(
            provider="s3",
            endpoint=endpoint,
            env={
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            },
        )
    finally:
        server.stop()
