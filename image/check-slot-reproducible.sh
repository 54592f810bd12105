#!/usr/bin/env bash
# Makes the slot twice more from the same root image, in other directories, and checks that both
# are byte-identical to the one the build made (root.slot and root.verity). Run by CTest.
#   check-slot-reproducible.sh ROOT.EROFS BUILT_ROOT.SLOT BUILT_ROOT.VERITY
set -euo pipefail
root=$1 built_slot=$2 built_verity=$3
for f in "$root" "$built_slot" "$built_verity"; do
  [ -f "$f" ] || { echo "missing $f: build the image first (--target image)"; exit 77; }
done
scratch=$(mktemp -d /tmp/berth-slot-repro.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
for i in 1 2; do
  mkdir "$scratch/$i"
  bash "$(dirname "$0")/make-slot.sh" --root "$root" --slot "$scratch/$i/root.slot" --verity "$scratch/$i/root.verity" >/dev/null
  cmp "$scratch/$i/root.slot" "$built_slot"
  cmp "$scratch/$i/root.verity" "$built_verity"
done
echo "root slot reproducible: $(sha256sum <"$built_slot" | cut -c1-16), $(grep '^root_hash=' "$built_verity")"
