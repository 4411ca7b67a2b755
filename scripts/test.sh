#!/usr/bin/env bash
# The test command: sets up what is missing, then builds once and runs every
# test of the workspace with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export FERRY_CFN_LINT="$PWD/.venv/bin/cfn-lint"
cargo fmt --all --check
bash scripts/deny.sh
# The end-to-end tests run target/debug/ferry. host/cli has integration
# tests, so nextest builds that binary in the same build as the tests (one
# feature set, one compile of the dependency tree).
cargo nextest run --workspace --no-fail-fast "$@"
