#!/usr/bin/env bash
# Makes another version of a built image, for the update tests: the same root tree with another
# version string (and, for a deliberately broken version, extra services), packed, given its
# dm-verity tree and signed into a bundle with the build's key. The kernel and initramfs are the
# build's. Nothing is compiled: seconds, not a rebuild.
#
#   derive-version.sh --build BUILD_DIR --version V --out DIR [--service FILE.toml]...
#                     [--other-key] [--architecture A] [--root-bytes N] [--kernel-bytes N]
#                     [--cmdline-extra WORDS]
#
# The last four make bundles a host must refuse (tests): signed by a key the image does not trust,
# for another architecture, a root or kernel padded to N bytes. --cmdline-extra adds words to the
# version's kernel command line (a test hook such as berth.test.hang=after-ready: a PID 1 that hangs).
#
# Writes DIR/update.bundle (and DIR/root.erofs, root.slot, root.verity).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "derive-version: $*" >&2; exit 1; }

build= version= out= services=() other_key= architecture= root_bytes= kernel_bytes= cmdline_extra=
while [ $# -gt 0 ]; do
  case "$1" in
    --other-key) other_key=1; shift; continue ;;
    --build) build=$2 ;; --version) version=$2 ;; --out) out=$2 ;; --service) services+=("$2") ;;
    --architecture) architecture=$2 ;; --root-bytes) root_bytes=$2 ;; --kernel-bytes) kernel_bytes=$2 ;;
    --cmdline-extra) cmdline_extra=$2 ;;
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
kernel=$build/image/vmlinuz key=$BUNDLE_KEY
if [ -n "$root_bytes" ]; then truncate -s "$root_bytes" "$out/root.slot"; fi
if [ -n "$kernel_bytes" ]; then cp "$kernel" "$out/vmlinuz" && truncate -s "$kernel_bytes" "$out/vmlinuz" && kernel=$out/vmlinuz; fi
if [ -n "$other_key" ]; then "$BUNDLE_TOOL" keygen "$out/other.secret" "$out/other.pub" "a key no image trusts" >/dev/null && key=$out/other.secret; fi
bash "$here/make-bundle.sh" --tool "$BUNDLE_TOOL" --key "$key" $BUNDLE_DEVELOPMENT --out "$out/update.bundle" \
  --version "$version" --min-version "$BUNDLE_MIN_VERSION" --build-id "$BUNDLE_BUILD_ID" --compatible "$BUNDLE_COMPATIBLE" \
  --created "$BUNDLE_EPOCH" --slot "$out/root.slot" --verity "$out/root.verity" --kernel "$kernel" \
  --initramfs "$build/image/initramfs.img" --cmdline-extra "$BUNDLE_CMDLINE_EXTRA${cmdline_extra:+ $cmdline_extra}" ${architecture:+--architecture "$architecture"}
rm -rf "$tree"
