"""Shared pytest configuration: the emulator fixtures live in tests/servers/."""

pytest_plugins = [
    "tests.servers.s3",
    "tests.servers.gcs",
    "tests.servers.azure",
    "tests.servers.oci",
]
