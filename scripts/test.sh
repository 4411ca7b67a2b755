#!/usr/bin/env bash
# The test command: sets up what is missing, then builds once and runs every
# test of the workspace with cargo-nextest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

export FERRY_CFN_LINT="$PWD/.venv/bin/cfn-lint"
# A fresh clone never rebuilds incrementally: the incremental caches only
# cost disk (4 GB of a CI run's 14) and time to write.
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
  # The disk a run took, printed however it ends, and what was free at the
  # start: CI shares its disk with whatever the machine already holds.
  df -h . >&2 || true
  trap 'du -sh target >&2 2>/dev/null || true' EXIT
fi
cargo fmt --all --check
bash scripts/deny.sh
# The end-to-end tests run target/debug/ferry. host/cli has integration
# tests, so nextest builds that binary in the same build as the tests (one
# feature set, one compile of the dependency tree).
cargo nextest run --workspace --no-fail-fast "$@"
