"""Fixed code behaves like the original: every runnable fixture case, run on both sides.

For a case with run.json, input.py runs with the provider's SDK and expected.py with the
shim (configured only by the storage profiles the fix writes: no provider from the environment),
each against the same emulator, each from the same freshly seeded buckets. The values `main()`
returns and the objects left behind (keys, bytes, content types, user metadata), read back
through the SDK, must be equal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudshift.golden import Case, find_cases
from tests.proof.runner import (
    RunSpec,
    fix_profiles,
    local_files,
    observed_result,
    run_side,
    side_environment,
    unsafe_fix_admits,
)
from tests.proof.stores import (
    Snapshot,
    Store,
    StoreFor,
    prepare,
    provider_for_rule,
    reset,
    snapshot,
    snapshot_differences,
)
from tests.servers import Emulator

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RUNNABLE = [case for case in find_cases(FIXTURES) if case.runnable]
SIDES = {"sdk": "input.py", "shim": "expected.py"}


def test_runnable_cases_exist() -> None:
    assert RUNNABLE, f"no fixture under {FIXTURES} has a run.json"


@pytest.mark.parametrize("case", RUNNABLE, ids=[case.id for case in RUNNABLE])
def test_fixed_code_behaves_like_the_original(case: Case, store_for: StoreFor, tmp_path: Path) -> None:
    spec = RunSpec.load(case.directory / "run.json")
    if spec.ignore:
        assert unsafe_fix_admits(case.directory / "input.py", case.rule, "content type"), (
            f"run.json ignores content types, but no {case.rule} finding in input.py is unsafe "
            "with a reason that names the content type"
        )
    emulator, store = store_for(provider_for_rule(case.rule))
    seed = spec.seed()
    prepare(store, spec.buckets, seed)
    sdk_result, sdk_objects = run_and_observe(case, "sdk", spec, emulator, store, tmp_path)
    reset(store, sdk_objects, seed)
    shim_result, shim_objects = run_and_observe(case, "shim", spec, emulator, store, tmp_path)
    assert shim_result == sdk_result, "main() returned different values or wrote other files"
    differences = snapshot_differences(sdk_objects, shim_objects, spec.ignore)
    assert not differences, "objects left behind differ (sdk vs shim):\n" + "\n".join(differences)


def run_and_observe(
    case: Case, side: str, spec: RunSpec, emulator: Emulator, store: Store, tmp_path: Path
) -> tuple[object, Snapshot]:
    """Run one side from the seeded buckets: what it returned (or its URL did) and left behind.

    Files written to the working directory count as part of what a side returned.
    """
    workdir = tmp_path / side
    workdir.mkdir()
    env = side_environment(emulator, spec.rename_env)
    if side == "shim":
        fix_profiles(case.directory / "input.py", workdir)
    value = run_side(case.directory / SIDES[side], env, workdir)
    returned = {"main": observed_result(spec, value, emulator), "files": local_files(workdir)}
    return returned, snapshot(store, spec.buckets)
