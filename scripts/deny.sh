#!/usr/bin/env bash
# Supply-chain checks with cargo-deny (configuration: deny.toml).
# Licenses, bans (including "one HTTP client") and sources always run.
# Advisories need the RustSec database, a git repository on GitHub: this
# project's machines and CI reach only package registries, so the check runs
# when a database is already on disk or can be fetched, and otherwise prints
# that it was skipped (it never passes silently).
set -euo pipefail
cd "$(dirname "$0")/.."
deny=.venv/bin/cargo-deny
[ -x "$deny" ] || deny=cargo-deny

"$deny" --log-level error check licenses bans sources

db_dir="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if compgen -G "$db_dir/advisory-db-*/crates" >/dev/null; then
  "$deny" --log-level error check --disable-fetch advisories
elif timeout 60 git ls-remote https://github.com/RustSec/advisory-db HEAD >/dev/null 2>&1; then
  "$deny" --log-level error check advisories
else
  echo "cargo-deny: advisories SKIPPED: the RustSec advisory database is not on this machine and cannot be fetched (no network beyond the package registries); licenses, bans and sources were checked" >&2
fi
