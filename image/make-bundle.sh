#!/usr/bin/env bash
# Writes a signed update bundle (docs/updates.md) from a slot image and its verity description, a
# kernel and an initramfs. Run by the `update_bundle` target for the build's own version, and by
# derive-version.sh for the versions the QEMU tests make from one build.
#
#   make-bundle.sh --tool BERTH_BUNDLE --key SECRET [--development-key] --out BUNDLE --version V
#                  --min-version V --build-id ID --compatible NAME --created EPOCH
#                  --slot ROOT.SLOT --verity ROOT.VERITY --kernel VMLINUZ --initramfs IMG
#                  [--cmdline-extra "WORDS"] [--architecture A (default: this machine's)]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "make-bundle: $*" >&2; exit 1; }

tool= key= development= out= version= min_version= build_id= compatible= created= slot= verity= kernel= initramfs= extra=
architecture=$(uname -m)
while [ $# -gt 0 ]; do
  case "$1" in
    --development-key) development=--development-key; shift; continue ;;
    --tool) tool=$2 ;; --key) key=$2 ;; --out) out=$2 ;; --version) version=$2 ;; --min-version) min_version=$2 ;;
    --build-id) build_id=$2 ;; --compatible) compatible=$2 ;; --created) created=$2 ;; --slot) slot=$2 ;;
    --verity) verity=$2 ;; --kernel) kernel=$2 ;; --initramfs) initramfs=$2 ;; --cmdline-extra) extra=$2 ;; --architecture) architecture=$2 ;;
    *) die "unknown argument $1" ;;
  esac
  shift 2
done
for v in tool key out version min_version build_id compatible created slot verity kernel initramfs; do
  [ -n "${!v}" ] || die "--${v//_/-} is required"
done

# The new slot's command line, as the disk's entries have it, @SLOT@ for the slot letter.
cmdline_file=$(mktemp)
trap 'rm -f "$cmdline_file"' EXIT
bash "$here/slot-cmdline.sh" @SLOT@ "$verity" "$extra" >"$cmdline_file"
"$tool" create --out "$out" --key "$key" $development --version "$version" --min-version "$min_version" \
  --build-id "$build_id" --architecture "$architecture" --compatible "$compatible" --created "$created" \
  --cmdline-file "$cmdline_file" --verity "$verity" --root "$slot" --kernel "$kernel" --initramfs "$initramfs"
