#!/usr/bin/env bash
# The main job: builds ferry, renders the example app (examples/chat)
# offline, then deploys it to a local AWS emulator (moto on 127.0.0.1) end
# to end and shows it running. Nothing leaves this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

say() { printf '\033[1;32m%12s\033[0m %s\n' "$1" "$2" >&2; }
say Building "ferry"
cargo build --quiet --bin ferry
ferry="$PWD/target/debug/ferry"
out="$PWD/out/chat"
rm -rf "$out"

# 1. Offline: every template of both environments, linted.
cd examples/chat
"$ferry" plugin ls
for env in test prod; do
  "$ferry" package -e "$env" --output-dir "$out/$env"
done
say Linting "rendered templates with cfn-lint"
# Errors fail the demo; warnings (reviewed in the tests) go to a report.
"$OLDPWD/.venv/bin/cfn-lint" --non-zero-exit-code error -- "$out"/*/*.stack.json >"$out/cfn-lint.txt" || {
  cat "$out/cfn-lint.txt"; exit 1; }
say Rendered "templates for examples/chat are in out/chat/{test,prod}/ (cfn-lint: no errors; warnings in out/chat/cfn-lint.txt)"

# 2. Deploy to the local emulator, in a scratch copy of the example.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
say Starting "AWS emulator (moto) on 127.0.0.1:$port"
"$OLDPWD/.venv/bin/python" "$OLDPWD/scripts/moto_server.py" -H 127.0.0.1 -p "$port" >"$out/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/" && break; sleep 0.1; done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo \
  AWS_REGION=us-west-2 AWS_MAX_ATTEMPTS=1 AWS_EC2_METADATA_DISABLED=true
work=$(mktemp -d)
cp -r . "$work/chat"
cd "$work/chat"

# Images: a local registry (Debian's docker-registry) stands in for ECR and
# accepts the token moto's ECR issues; podman or buildah build the example's
# Dockerfiles (a static busybox and the www files, nothing pulled) in a
# private vfs storage, or docker when its daemon runs.
reg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
python3 -W ignore -c 'import crypt; print("AWS:" + crypt.crypt("123456789012-auth-token", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))' \
  >"$work/registry/htpasswd"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\nauth:\n  htpasswd:\n    realm: ferry-demo\n    path: %s\n' \
  "$work/registry/data" "$reg_port" "$work/registry/htpasswd" >"$work/registry/config.yml"
say Starting "image registry standing in for ECR on 127.0.0.1:$reg_port"
docker-registry serve "$work/registry/config.yml" >"$out/registry.log" 2>&1 &
reg_pid=$!
trap 'kill $moto_pid $reg_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$reg_port/v2/" && break; sleep 0.1; done
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/storage/graph"\nrunroot = "%s/storage/run"\n' "$work" "$work" >"$work/storage.conf"
export FERRY_ECR_REGISTRY="127.0.0.1:$reg_port" CONTAINERS_STORAGE_CONF="$work/storage.conf" BUILDAH_ISOLATION=chroot
for svc in frontend api; do cp /bin/busybox "$svc/busybox"; done

"$ferry" app init
"$ferry" env deploy -n test
printf 'demo-password' | "$ferry" secret init -n DB_PASSWORD -e test
say Deploying "builds both images, pushes them, deploys them by digest"
"$ferry" deploy -e test --tag demo
say Redeploying "unchanged: images from the build cache, no stack changes, no mutating AWS call"
"$ferry" deploy -e test --tag demo --json | tail -n 1

say Showing "what runs"
"$ferry" app show
for svc in frontend api; do "$ferry" svc show -n "$svc"; done
"$ferry" svc status -n frontend -e test
say Done "examples/chat runs on the local emulator (stopped when this script exits)"
