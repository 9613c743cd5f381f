#!/usr/bin/env bash
# Re-vendor the Socket.IO browser client into static/vendor/.
#
# Usage: scripts/vendor-socketio.sh VERSION      (e.g. 4.8.4)
#
# Fetches socket.io-client@VERSION with `npm pack` into a temporary
# directory, copies dist/socket.io.esm.min.js (the minified ES-module build
# that static/js/core.js imports; the debug module is already stripped from it)
# and the package LICENSE, and removes the trailing sourceMappingURL
# comment because the .map file is not shipped.
#
# Only 4.x is accepted: python-socketio 5.x speaks Socket.IO protocol v5,
# which is what every socket.io-client 4.x release speaks.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 VERSION   (exact 4.x.y version, e.g. 4.8.4)" >&2
    exit 2
fi
version=$1
if [[ ! $version =~ ^4\.[0-9]+\.[0-9]+$ ]]; then
    echo "error: need an exact socket.io-client 4.x.y version, got '$version'" >&2
    exit 2
fi

repo_root=$(cd "$(dirname "$0")/.." && pwd)
dest="$repo_root/static/vendor"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "socket.io-client@$version" >/dev/null)
tar -xzf "$tmp/socket.io-client-$version.tgz" -C "$tmp"
pkg="$tmp/package"

got=$(node -p "require(process.argv[1]).version" "$pkg/package.json")
if [[ $got != "$version" ]]; then
    echo "error: package.json says $got, expected $version" >&2
    exit 1
fi

mkdir -p "$dest"
sed '/^\/\/# sourceMappingURL=/d' "$pkg/dist/socket.io.esm.min.js" > "$dest/socket.io.esm.min.js"
cp "$pkg/LICENSE" "$dest/socket.io.LICENSE"

if grep -q 'sourceMappingURL' "$dest/socket.io.esm.min.js"; then
    echo "error: a sourceMappingURL reference is still in socket.io.esm.min.js" >&2
    exit 1
fi

cd "$dest"
echo "vendored socket.io-client $version into static/vendor/"
sha256sum socket.io.esm.min.js socket.io.LICENSE
echo "raw bytes:     $(wc -c < socket.io.esm.min.js)"
echo "gzip -9 bytes: $(gzip -9c socket.io.esm.min.js | wc -c)"
echo "Update the version, sha256 and sizes in static/vendor/README.md."
