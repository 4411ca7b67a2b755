#!/usr/bin/env bash
# Fuzzes the manifest loader, interpolation, override merge and template
# patches: a million executions per target by default (release build), from
# a fixed seed, printing executions, time, rate and findings per target.
# Each finding is written to target/fuzz-findings/ with the line that
# replays it. Exit 1 on any finding. CI runs a bounded version
# (tests/fuzz/tests/bounded.rs).
#   bench/fuzz.sh [EXECUTIONS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p ferry-fuzz
./target/release/ferry-fuzz --executions "${1:-1000000}" --seed "${2:-20261204}"
