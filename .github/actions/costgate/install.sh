#!/usr/bin/env bash
# Install a released costgate binary, verified against the release's
# SHA256SUMS, for the GitHub Action (and anyone else).
#
#   install.sh VERSION ROOT      installs ROOT/bin/costgate (costgate.exe on Windows)
#
# VERSION is X.Y.Z (a leading v is accepted). The archive for this machine,
# costgate-<target>.tar.gz (.zip on Windows), and SHA256SUMS are downloaded
# from $COSTGATE_RELEASE_URL/vX.Y.Z/ (default: this repository's GitHub
# releases). $COSTGATE_TARGET overrides the detected target.
#
# Exit status:
#   0  installed, checksum verified
#   3  no such release (HTTP 404 for the archive or SHA256SUMS): the caller
#      may build from source instead
#   1  anything else: a checksum mismatch, an archive SHA256SUMS does not
#      list, a download that failed otherwise, an archive without the binary.
#      Nothing is installed.
set -euo pipefail

fail() { printf 'costgate install: %s\n' "$*" >&2; exit 1; }

[ "$#" = 2 ] || { echo "usage: install.sh VERSION ROOT" >&2; exit 1; }
version="${1#v}"
root="$2"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "'$1' is not a version X.Y.Z"
base="${COSTGATE_RELEASE_URL:-https://github.com/costgate/costgate/releases/download}"

target="${COSTGATE_TARGET:-}"
if [ -z "$target" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) target=x86_64-unknown-linux-gnu ;;
    Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-gnu ;;
    Darwin-arm64) target=aarch64-apple-darwin ;;
    Darwin-x86_64) target=x86_64-apple-darwin ;;
    MINGW*-x86_64 | MSYS*-x86_64 | CYGWIN*-x86_64) target=x86_64-pc-windows-msvc ;;
    *) echo "costgate install: no release binary for $(uname -s) $(uname -m)" >&2; exit 3 ;;
  esac
fi
case "$target" in
  *windows*) archive="costgate-$target.zip"; exe=costgate.exe ;;
  *) archive="costgate-$target.tar.gz"; exe=costgate ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# fetch URL FILE: 0 downloaded, 3 not found (404), 1 otherwise
fetch() {
  local status
  status="$(curl --silent --show-error --location --retry 3 --retry-connrefused \
    --proto '=https,http' --proto-redir '=https' --output "$2" --write-out '%{http_code}' "$1")" || {
    echo "costgate install: cannot download $1" >&2
    return 1
  }
  case "$status" in
    200) return 0 ;;
    404) return 3 ;;
    *) echo "costgate install: $1 answered HTTP $status" >&2; return 1 ;;
  esac
}

url="$base/v$version"
for f in SHA256SUMS "$archive"; do
  code=0
  fetch "$url/$f" "$work/$f" || code=$?
  if [ "$code" = 3 ]; then
    echo "costgate install: no release v$version with $f at $url (HTTP 404)" >&2
    exit 3
  fi
  [ "$code" = 0 ] || exit 1
done

expected="$(awk -v f="$archive" '($2 == f || $2 == "*" f) { print $1; exit }' "$work/SHA256SUMS")"
[ -n "$expected" ] || fail "SHA256SUMS of v$version does not list $archive"
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$work/$archive" | cut -d' ' -f1)"
else
  actual="$(shasum -a 256 "$work/$archive" | cut -d' ' -f1)"
fi
if [ "$actual" != "$expected" ]; then
  fail "checksum mismatch for $archive of v$version: SHA256SUMS says $expected, the download is $actual; not installed"
fi

mkdir "$work/x"
case "$archive" in
  *.zip) unzip -q "$work/$archive" -d "$work/x" ;;
  *) tar -xzf "$work/$archive" -C "$work/x" ;;
esac
binary="$work/x/costgate-$target/$exe"
[ -f "$binary" ] || fail "$archive has no costgate-$target/$exe"
mkdir -p "$root/bin"
# a rename in the same folder, so a failed copy never leaves half a binary
cp "$binary" "$root/bin/.$exe.partial"
chmod 755 "$root/bin/.$exe.partial"
mv -f "$root/bin/.$exe.partial" "$root/bin/$exe"
echo "costgate install: v$version ($target) installed in $root/bin, SHA-256 $actual verified"
