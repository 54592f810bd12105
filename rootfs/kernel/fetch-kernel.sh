#!/usr/bin/env bash
# Fetches Debian's kernel package with `apt-get download`, checks it, unpacks it and records what it
# got. Run by the `kernel` CMake target (rootfs/kernel/CMakeLists.txt); see docs/image.md.
#
#   fetch-kernel.sh OUT_DIR FLAVOUR PACKAGE VERSION SHA256 [CACHE_DIR]
#
# FLAVOUR  cloud | generic: which metapackage names the kernel when PACKAGE is empty
#          (linux-image-cloud-amd64 | linux-image-amd64).
# PACKAGE  exact package (linux-image-6.1.0-57-cloud-amd64); empty = what the metapackage depends on.
# VERSION  exact package version (6.1.192-3); empty = the newest the APT lists know.
# SHA256   when not empty, the .deb must have this sha256 (pinning); the build fails otherwise.
# CACHE_DIR  BERTH_DOWNLOAD_CACHE: a downloaded .deb is kept there, and one there whose hash
#          matches is used instead of the network (a fresh build tree, a new clone, no network).
#
# Writes into OUT_DIR: the .deb (kept as a cache: a .deb of the requested name whose hash matches
# is used without the network, which also lets a pinned build use a .deb put there by hand once the
# archive has dropped that version), pkg/ (the unpacked package, plus modules.dep from depmod),
# vmlinuz, release (the kernel release string) and kernel.manifest (key=value).
set -euo pipefail

out=$1 flavour=$2 package=$3 version=$4 want_sha=$5 cache=${6:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)

die() { echo "fetch-kernel: $*" >&2; exit 1; }

case "$flavour" in
  cloud) meta=linux-image-cloud-amd64 ;;
  generic) meta=linux-image-amd64 ;;
  *) die "BERTH_KERNEL_FLAVOUR must be cloud or generic, not '$flavour'" ;;
esac

# Candidate field of one package from the APT lists (apt-cache show --no-all-versions = candidate).
field() {  # field PACKAGE[=VERSION] FIELD
  { apt-cache show --no-all-versions "$1" 2>/dev/null || true; } | sed -n "s/^$2: //p" | head -n1
}

if [ -z "$package" ]; then
  # "Depends: linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)"
  depends=$(field "$meta" Depends)
  [ -n "$depends" ] || die "APT does not know $meta: run 'apt-get update' (or set BERTH_KERNEL_PACKAGE)"
  package=$(echo "$depends" | sed -E 's/^([^ ,(]+).*/\1/')
fi
if [ -z "$version" ]; then
  version=$(field "$package" Version)
  [ -n "$version" ] || die "APT does not know $package: run 'apt-get update' or check BERTH_KERNEL_PACKAGE"
fi

deb="$out/${package}_${version//:/%3a}_amd64.deb"
apt_sha=$(field "$package=$version" SHA256)

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Whether FILE is the .deb asked for: the pinned hash, else the hash the APT lists give.
is_wanted() {
  [ -f "$1" ] || return 1
  local got
  got=$(sha_of "$1")
  if [ -n "$want_sha" ]; then [ "$got" = "$want_sha" ]; else [ -n "$apt_sha" ] && [ "$got" = "$apt_sha" ]; fi
}

have_cached=false
if is_wanted "$deb"; then
  have_cached=true
elif [ -n "$cache" ] && is_wanted "$cache/$(basename "$deb")"; then
  rm -f "$out"/*.deb
  cp "$cache/$(basename "$deb")" "$deb"
  have_cached=true
fi

if ! $have_cached; then
  [ -n "$apt_sha" ] || die "APT does not know $package=$version: run 'apt-get update'; an older pinned version
  that the archive dropped can be placed by hand as $deb"
  rm -f "$out"/*.deb
  echo "fetch-kernel: apt-get download $package=$version"
  # As root, apt drops privileges to _apt for downloads, which cannot write into a root-owned build
  # directory: download as the invoking user instead (the hash is still checked against the signed lists).
  (cd "$out" && apt-get download -q -o APT::Sandbox::User="$(id -un)" "$package=$version" >/dev/null) \
    || die "apt-get download $package=$version failed"
  [ -f "$deb" ] || die "apt-get download did not produce $deb"
  if [ -n "$cache" ]; then
    mkdir -p "$cache" && cp "$deb" "$cache/.$(basename "$deb").tmp" && mv "$cache/.$(basename "$deb").tmp" "$cache/$(basename "$deb")"
  fi
fi

sha=$(sha_of "$deb")
if [ -n "$want_sha" ] && [ "$sha" != "$want_sha" ]; then
  die "$deb has sha256 $sha, but BERTH_KERNEL_SHA256 pins $want_sha"
fi

rm -rf "$out/pkg"
dpkg-deb -x "$deb" "$out/pkg"
releases=("$out"/pkg/lib/modules/*)
[ ${#releases[@]} -eq 1 ] && [ -d "${releases[0]}" ] || die "expected one lib/modules/<release> in $deb"
release=$(basename "${releases[0]}")
[ -f "$out/pkg/boot/vmlinuz-$release" ] || die "no boot/vmlinuz-$release in $deb"
[ -f "$out/pkg/boot/config-$release" ] || die "no boot/config-$release in $deb"

# The package ships no modules.dep (its postinst runs depmod): make one, for the module selection.
depmod -b "$out/pkg" "$release"

cp "$out/pkg/boot/vmlinuz-$release" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$release" >"$out/release"
{
  echo "kernel.flavour=$flavour"
  echo "kernel.package=$package"
  echo "kernel.version=$version"
  echo "kernel.deb=$(basename "$deb")"
  echo "kernel.sha256=$sha"
  echo "kernel.release=$release"
  echo "kernel.vmlinuz.sha256=$(sha_of "$out/vmlinuz")"
} >"$out/kernel.manifest.tmp"
mv "$out/kernel.manifest.tmp" "$out/kernel.manifest"
echo "fetch-kernel: $package $version ($release), sha256 $sha"
