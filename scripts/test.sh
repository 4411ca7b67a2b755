#!/usr/bin/env bash
# The test command: sets up what is missing, then builds once and runs every
# test of the workspace with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export FERRY_CFN_LINT="$PWD/.venv/bin/cfn-lint"
cargo fmt --all --check
# The end-to-end tests run the ferry binary; nextest builds test targets
# only, so build the binary first (same profile, shared artifacts).
cargo build --bin ferry
cargo nextest run --workspace --no-fail-fast "$@"
