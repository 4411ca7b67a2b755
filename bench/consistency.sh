#!/usr/bin/env bash
# Issue 18's proof, at full size: deploys through injected faults
# (FERRY_FAULT_RUNS, default 201), kill -9 at random points then a rerun
# (FERRY_KILL_RUNS, default 50), concurrent deploy pairs
# (FERRY_CONCURRENT_PAIRS, default 20). Each harness prints its figures;
# CI runs each bounded (3 fault runs, 2 kills, 1 pair).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export FERRY_CFN_LINT="$PWD/.venv/bin/cfn-lint"
export FERRY_FAULT_RUNS=${FERRY_FAULT_RUNS:-201} FERRY_KILL_RUNS=${FERRY_KILL_RUNS:-50}
export FERRY_CONCURRENT_PAIRS=${FERRY_CONCURRENT_PAIRS:-20}
# --workspace, as scripts/test.sh: one feature set, so this shares its build
# (and builds target/debug/ferry, which the harnesses run).
cargo nextest run --workspace --profile consistency --no-fail-fast --no-capture --run-ignored all \
  -E '(test(/^faults_moto::/) | test(/^kill_moto::/) | test(/^lease_moto::/)) - test(a_run_refuses)' 2>&1 |
  grep -E '^(fault injection|kill -9|concurrent deploys)|PASS|FAIL|Summary'
