#!/usr/bin/env bash
# Fetches one Debian binary package with `apt-get download`, checks it against the APT lists'
# sha256, and copies one file out of it. Records package, version and sha256 next to the file.
#
#   fetch-deb-file.sh PACKAGE PATH_IN_PACKAGE OUT_FILE RECORD_FILE
set -euo pipefail
package=$1 inner=$2 out=$3 record=$4
work=$(dirname "$out")/$package.work
rm -rf "$work" && mkdir -p "$work"
version=$(apt-cache show --no-all-versions "$package" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
[[ -n $version ]] || { echo "fetch-deb-file: APT does not know $package: run 'apt-get update'" >&2; exit 1; }
want=$(apt-cache show --no-all-versions "$package=$version" | sed -n 's/^SHA256: //p' | head -n1)
(cd "$work" && apt-get download -q "$package=$version" >/dev/null)
deb=$(ls "$work"/*.deb)
got=$(sha256sum "$deb" | cut -d' ' -f1)
[[ $got == "$want" ]] || { echo "fetch-deb-file: $deb: sha256 $got, APT lists say $want" >&2; exit 1; }
dpkg-deb -x "$deb" "$work/pkg"
install -m 0755 "$work/pkg/$inner" "$out"
mkdir -p "$(dirname "$record")"
printf 'package=%s\nversion=%s\nsha256=%s\n' "$package" "$version" "$got" > "$record"
rm -rf "$work"
