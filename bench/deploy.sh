#!/usr/bin/env bash
# Deploy figures for examples/chat against a fresh local emulator: wall time
# and AWS requests (total / mutating) of the first deploy of env + every
# workload, and of an unchanged redeploy (target: ≤ 1 s, zero mutating).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin ferry
ferry="$PWD/target/debug/ferry"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/" && break; sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
  AWS_REGION=us-west-2 AWS_MAX_ATTEMPTS=1 AWS_EC2_METADATA_DISABLED=true CI=true
work=$(mktemp -d); cp -r examples/chat "$work/"; cd "$work/chat"
"$ferry" app init >/dev/null 2>&1
printf 'x' | "$ferry" secret init -n DB_PASSWORD -e test >/dev/null 2>&1 || true
measure() {
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  local summary
  summary=$("$ferry" "$@" --json | tail -n 1)
  end=$(date +%s.%N)
  printf '%-28s %6.2f s  %s\n' "$label" "$(echo "$end - $start" | bc)" "$summary"
}
measure "first deploy (env + 3)" deploy -e test --tag bench --no-build
measure "no-op redeploy" deploy -e test --tag bench --no-build
measure "no-op redeploy (again)" deploy -e test --tag bench --no-build
