#!/usr/bin/env bash
# Whole-process timings of `ferry svc package` with hyperfine: warm compile
# cache (the normal case) and cold cache (first run after install or upgrade),
# `ferry --help`, plus binary size and peak RSS. Run after `cargo build --release`.
# Targets (issue 19): warm ≤ 8 ms, empty cache ≤ 20 ms, --help ≤ 5 ms,
# stripped binary ≤ 35 MB. On a shared machine, also read the CPU figures
# (`perf stat`), which waiting for a core does not inflate.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get install -y hyperfine >/dev/null 2>&1 || { echo "install hyperfine" >&2; exit 1; }; }
ferry="$PWD/target/release/ferry"
[ -x "$ferry" ] || cargo build --release --bin ferry
cache="$(mktemp -d)"
out="$(mktemp -d)"
trap 'rm -rf "$cache" "$out"' EXIT
cd examples/chat
export FERRY_CACHE_DIR="$cache"

"$ferry" svc package -n frontend -e test --output-dir "$out" 2>/dev/null   # warm the cache
hyperfine --warmup 3 --runs 30 --export-markdown "$out/warm.md" \
  -n "svc package (warm cache)" "$ferry svc package -n frontend -e test --output-dir $out"
hyperfine --runs 5 --prepare "rm -rf $cache/*" --export-markdown "$out/cold.md" \
  -n "svc package (cold cache)" "$ferry svc package -n frontend -e test --output-dir $out"
hyperfine --warmup 2 --runs 10 \
  -n "package -e test (env + all services, warm)" "$ferry package -e test --output-dir $out"

hyperfine --warmup 3 --runs 30 -N -n "ferry --help" "$ferry --help"
if command -v perf >/dev/null; then
  perf stat -r 20 -e task-clock "$ferry" svc package -n frontend -e test --output-dir "$out" 2>&1 >/dev/null | grep -E 'task-clock|elapsed'
  perf stat -r 20 -e task-clock "$ferry" --help 2>&1 >/dev/null | grep -E 'task-clock|elapsed'
fi

printf 'binary size: %s bytes\n' "$(stat -c %s "$ferry")"
/usr/bin/time -f 'peak RSS (warm svc package): %M KiB' "$ferry" svc package -n frontend -e test --output-dir "$out" 2>&1 >/dev/null | tail -1
rm -rf "$cache"/*
/usr/bin/time -f 'peak RSS (cold svc package): %M KiB' "$ferry" svc package -n frontend -e test --output-dir "$out" 2>&1 >/dev/null | tail -1
