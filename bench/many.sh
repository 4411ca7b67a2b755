#!/usr/bin/env bash
# 50 mixed workloads (LBWS, Backend, Worker, Scheduled Job, RDWS), rendered for
# every environment in one process each: wall time and peak RSS.
# Target (issue 19): ≤ 40 ms median and ≤ 60 MB peak RSS per `svc package --all`. Uses hyperfine when
# installed, else times 10 runs itself. FERRY_BENCH_PROFILE=dev measures the
# dev build the tests share (no release build needed).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${FERRY_BENCH_PROFILE:-release}
cargo build --profile "$profile" --quiet --bin ferry
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
ferry="$PWD/target/$dir/ferry"
ws=$(mktemp -d)
cp -r examples/chat/copilot "$ws/"
rm -rf "$ws/copilot/frontend" "$ws/copilot/api" "$ws/copilot/report"
for i in $(seq 1 50); do
  dir="$ws/copilot/w$i"; mkdir -p "$dir"
  case $((i % 5)) in
    0) printf 'name: w%s\ntype: Load Balanced Web Service\nhttp: {path: /w%s}\nimage: {location: nginx:1.27, port: 80}\n' "$i" "$i" ;;
    1) printf 'name: w%s\ntype: Backend Service\nimage: {location: nginx:1.27, port: 80}\n' "$i" ;;
    2) printf 'name: w%s\ntype: Worker Service\nimage: {location: busybox:1.36}\n' "$i" ;;
    3) printf 'name: w%s\ntype: Scheduled Job\nimage: {location: busybox:1.36}\non: {schedule: "@daily"}\n' "$i" ;;
    4) printf 'name: w%s\ntype: Request-Driven Web Service\nimage: {location: public.ecr.aws/nginx/nginx:1.27, port: 80}\n' "$i" ;;
  esac >"$dir/manifest.yml"
done
cd "$ws"
"$ferry" svc package --all -e test --output-dir "$ws/out" >/dev/null 2>&1 # warm the compile cache
for env in test prod; do
  if command -v hyperfine >/dev/null; then
    # Into the directory the last run wrote (unchanged files are left
    # alone), and into a new one each time (every file written).
    hyperfine --warmup 2 --runs 10 "$ferry svc package --all -e $env --output-dir $ws/out-$env"
    hyperfine --warmup 2 --runs 10 --prepare "rm -rf $ws/fresh-$env" \
      -n "svc package --all -e $env (new output dir)" "$ferry svc package --all -e $env --output-dir $ws/fresh-$env"
  else
    start=$(date +%s%N)
    for _ in $(seq 10); do "$ferry" svc package --all -e "$env" --output-dir "$ws/out-$env" >/dev/null 2>&1; done
    echo "svc package --all -e $env: $(( ($(date +%s%N) - start) / 10000000 )) ms per run (mean of 10)"
  fi
  /usr/bin/time -f "peak RSS %M KB ($env)" "$ferry" svc package --all -e "$env" --output-dir "$ws/out-$env" 2>&1 >/dev/null | tail -1
done
ls "$ws/out-test" | grep -c stack.json
