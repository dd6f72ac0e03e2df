"""Fixtures shared by the proof tests: one emulator and one SDK store per provider per session."""

from __future__ import annotations

import pytest

from tests.proof.stores import STORES, Store, StoreFor
from tests.servers import Emulator


@pytest.fixture(scope="session")
def store_for(request: pytest.FixtureRequest) -> StoreFor:
    """(emulator, store) for a provider; the emulator is started on first use."""
    made: dict[str, tuple[Emulator, Store]] = {}

    def get(provider: str) -> tuple[Emulator, Store]:
        if provider not in made:
            emulator: Emulator = request.getfixturevalue(f"{provider}_server")
            made[provider] = (emulator, STORES[provider](emulator))
        return made[provider]

    return get
