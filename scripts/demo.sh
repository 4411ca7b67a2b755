#!/usr/bin/env bash
# The main job: builds ferry and renders the example app (examples/chat),
# its environment and every service, for both environments, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

say() { printf '\033[1;32m%12s\033[0m %s\n' "$1" "$2" >&2; }
say Building "ferry (release)"
cargo build --release --quiet --bin ferry
ferry="$PWD/target/release/ferry"
out="$PWD/out/chat"
rm -rf "$out"

cd examples/chat
"$ferry" plugin ls
for env in test prod; do
  "$ferry" package -e "$env" --output-dir "$out/$env"
done
say Linting "rendered templates with cfn-lint"
"$OLDPWD/.venv/bin/cfn-lint" -- "$out"/*/*.stack.json
say Done "templates for examples/chat are in out/chat/{test,prod}/"
ls -1 "$out"/*/ >&2
