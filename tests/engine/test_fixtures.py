"""Every golden fixture under fixtures/: findings and fixed text byte for byte, and idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudshift.config import Settings
from cloudshift.engine.pipeline import Engine
from cloudshift.golden import Case, check_case, find_cases

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CASES = find_cases(FIXTURES)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.create(Settings(root=FIXTURES))


def test_fixtures_exist() -> None:
    assert len(CASES) > 0, f"no fixtures found under {FIXTURES}"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_fixture(engine: Engine, case: Case) -> None:
    problems = check_case(engine, case)
    assert not problems, "\n".join(problems)


def test_every_rule_has_a_positive_fixture(engine: Engine) -> None:
    covered = {case.rule for case in CASES if not case.name.startswith("negative")}
    missing = sorted(rule.id for rule in engine.ruleset.rules if rule.id not in covered)
    assert not missing, f"rules without a fixture: {', '.join(missing)}"
