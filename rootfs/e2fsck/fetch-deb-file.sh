#!/usr/bin/env bash
# Fetches one Debian binary package with `apt-get download`, checks it against the APT lists'
# sha256, and copies one file out of it. Records package, version and sha256 next to the file.
#
#   fetch-deb-file.sh PACKAGE PATH_IN_PACKAGE OUT_FILE RECORD_FILE [CACHE_DIR]
#
# CACHE_DIR (BERTH_DOWNLOAD_CACHE) keeps what was fetched, for rebuilds without the network: the
# .deb, and the file taken out of it with the .deb's sha256. Either is used instead of a download
# when that sha256 is the one the APT lists give for the version asked for.
set -euo pipefail
package=$1 inner=$2 out=$3 record=$4 cache=${5:-}
work=$(dirname "$out")/$package.work
rm -rf "$work" && mkdir -p "$work"
version=$(apt-cache show --no-all-versions "$package" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
[[ -n $version ]] || { echo "fetch-deb-file: APT does not know $package: run 'apt-get update'" >&2; exit 1; }
want=$(apt-cache show --no-all-versions "$package=$version" | sed -n 's/^SHA256: //p' | head -n1)
name=${package}_${version//:/%3a}_amd64.deb
extracted=$cache/${name%.deb}   # the file taken out of the .deb, and the .deb's sha256

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

if [[ -n $cache && ! -f $cache/$name && -f $extracted/sha256 && $(cat "$extracted/sha256") == "$want" ]]; then
  echo "fetch-deb-file: $package $version from $extracted"
  got=$want
  install -m 0755 "$extracted/$(basename "$inner")" "$out"
else
  if [[ -n $cache && -f $cache/$name && $(sha_of "$cache/$name") == "$want" ]]; then
    cp "$cache/$name" "$work/"
  else
    (cd "$work" && apt-get download -q "$package=$version" >/dev/null)
  fi
  deb=$(ls "$work"/*.deb)
  got=$(sha_of "$deb")
  [[ $got == "$want" ]] || { echo "fetch-deb-file: $deb: sha256 $got, APT lists say $want" >&2; exit 1; }
  dpkg-deb -x "$deb" "$work/pkg"
  install -m 0755 "$work/pkg/$inner" "$out"
  if [[ -n $cache ]]; then
    mkdir -p "$cache" "$extracted"
    [[ -f $cache/$name ]] || { cp "$deb" "$cache/.$name.tmp" && mv "$cache/.$name.tmp" "$cache/$name"; }
    install -m 0755 "$out" "$extracted/$(basename "$inner")" && echo "$got" > "$extracted/sha256"
  fi
fi
mkdir -p "$(dirname "$record")"
printf 'package=%s\nversion=%s\nsha256=%s\n' "$package" "$version" "$got" > "$record"
rm -rf "$work"
