#!/usr/bin/env bash
# The README's test command: install everything the tests need, run the quality gates (lint,
# format, types), then the whole suite. Any failing step fails the run.
# Emulators (moto server, gcp-storage-emulator, Azurite, the OCI test server) are started by
# pytest fixtures on free loopback ports and stopped at the end of the run.
set -euo pipefail
cd "$(dirname "$0")/.."

python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# Azurite (Azure Blob emulator) comes from npm; installed into .cache/node, not globally.
if [ ! -x .cache/node/node_modules/.bin/azurite-blob ]; then
    npm install --silent --no-audit --no-fund --prefix .cache/node azurite@3
fi
export PATH="$PWD/.cache/node/node_modules/.bin:$PATH"
# Debian's chromium opens the HTML migration report in a headless-browser test. Where it cannot be
# installed (not Debian or Ubuntu, not root) that one test is skipped, and pytest's summary says so.
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends chromium >/dev/null \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
        || echo "scripts/test.sh: chromium could not be installed; the headless-browser test will be skipped" >&2
fi

python -m ruff check .
python -m ruff format --check .
python -m mypy

python -m pytest -n 2 "$@"
