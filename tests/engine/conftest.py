"""Fixtures shared by the engine's hardening tests."""

from __future__ import annotations

import pytest

from tests.engine.pathological import fixed_normal


@pytest.fixture(scope="module")
def expected() -> str:
    """What `cloudshift fix` makes of a normal file when it runs alone (others must not change it)."""
    return fixed_normal()
