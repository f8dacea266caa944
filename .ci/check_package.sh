#!/usr/bin/env bash
# `cargo package` succeeds and ships what a user of the crate needs and
# nothing else: the source, the example specs, the docs, the README and both
# licence files; never the tests, their fixtures or target/. The packaged
# crate is then checked (`cargo check`) from its own unpacked copy, so a file
# the include list forgets fails here; sharing the target folder, only
# costgate itself is checked again (the dependencies are there from clippy).
set -euo pipefail
cd "$(dirname "$0")/.."

list="$(cargo package --list --locked --allow-dirty)"
for must in Cargo.toml Cargo.lock README.md LICENSE-MIT LICENSE-APACHE src/main.rs src/lib.rs \
  src/pricing/builtin.toml specs/tiered-assistant.yaml; do
  grep -qx "$must" <<<"$list" || { echo "cargo package leaves out $must" >&2; exit 1; }
done
if grep -E '^(tests|fixtures|target|\.ci|\.github|\.gitlab)/' <<<"$list"; then
  echo "cargo package ships the files above, which are not for users of the crate" >&2
  exit 1
fi

cargo package --locked --allow-dirty --no-verify --quiet
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
crate="target/package/costgate-$version.crate"
size="$(wc -c <"$crate")"
echo "$crate: $size bytes, $(wc -l <<<"$list") files"
if [ "$size" -gt 2000000 ]; then
  echo "the packaged crate is over 2 MB" >&2
  exit 1
fi

unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
tar -xzf "$crate" -C "$unpacked"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
(cd "$unpacked/costgate-$version" && CARGO_TARGET_DIR="$target_dir" cargo check --locked --quiet)
echo "cargo package: ok"
