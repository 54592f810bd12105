#!/usr/bin/env bash
# Makes another version of a built image, for the update tests: the same root tree with another
# version string (and, for a deliberately broken version, extra services), packed, given its
# dm-verity tree and signed into a bundle with the build's key. The kernel and initramfs are the
# build's. Nothing is compiled: seconds, not a rebuild.
#
#   derive-version.sh --build BUILD_DIR --version V --out DIR [--service FILE.toml]...
#
# Writes DIR/update.bundle (and DIR/root.erofs, root.slot, root.verity).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "derive-version: $*" >&2; exit 1; }

build= version= out= services=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2 ;; --version) version=$2 ;; --out) out=$2 ;; --service) services+=("$2") ;;
    *) die "unknown argument $1" ;;
  esac
  shift 2
done
[ -n "$build" ] && [ -n "$version" ] && [ -n "$out" ] || die "--build, --version and --out are required"
env_file=$build/image/bundle.env
[ -f "$env_file" ] || die "$env_file is missing: build the update_bundle target first"
# shellcheck source=/dev/null
. "$env_file"   # BUNDLE_TOOL BUNDLE_KEY BUNDLE_DEVELOPMENT BUNDLE_COMPATIBLE BUNDLE_EPOCH BUNDLE_BUILD_ID BUNDLE_MIN_VERSION BUNDLE_CMDLINE_EXTRA

rm -rf "$out"
mkdir -p "$out"
tree=$out/tree
cp -a "$build/rootfs/tree" "$tree"
sed -i -e "s/^VERSION_ID=.*/VERSION_ID=$version/" -e "s/^IMAGE_VERSION=.*/IMAGE_VERSION=$version/" \
  -e "s/^PRETTY_NAME=.*/PRETTY_NAME=\"Berth $version\"/" "$tree/usr/lib/os-release"
for s in "${services[@]}"; do install -m 0644 "$s" "$tree/etc/berth/services/"; done
"$build/init/cli/berthctl" check --images "$tree/usr/lib/berth/images" "$tree/etc/berth/services" >/dev/null \
  || die "a service manifest does not check"
bash "$here/../rootfs/pack-root.sh" "$tree" "$out/root.erofs" "$BUNDLE_EPOCH"
bash "$here/make-slot.sh" --root "$out/root.erofs" --slot "$out/root.slot" --verity "$out/root.verity"
bash "$here/make-bundle.sh" --tool "$BUNDLE_TOOL" --key "$BUNDLE_KEY" $BUNDLE_DEVELOPMENT --out "$out/update.bundle" \
  --version "$version" --min-version "$BUNDLE_MIN_VERSION" --build-id "$BUNDLE_BUILD_ID" --compatible "$BUNDLE_COMPATIBLE" \
  --created "$BUNDLE_EPOCH" --slot "$out/root.slot" --verity "$out/root.verity" --kernel "$build/image/vmlinuz" \
  --initramfs "$build/image/initramfs.img" --cmdline-extra "$BUNDLE_CMDLINE_EXTRA"
rm -rf "$tree"
