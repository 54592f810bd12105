#!/usr/bin/env bash
# Builds the root image twice from the same inputs, in two different directories, and checks
# that the images are byte-identical (and identical to the one the build made). Run by CTest.
#   check-reproducible.sh BUILT_IMAGE make-root.sh ARGS...   (ARGS without --out and --image)
set -euo pipefail
built=$1 script=$2
shift 2
scratch=$(mktemp -d /tmp/berth-repro.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
for i in 1 2; do
    bash "$script" --out "$scratch/tree$i" --image "$scratch/root$i.erofs" "$@" >/dev/null
done
sha256sum "$scratch/root1.erofs" "$scratch/root2.erofs" "$built"
cmp "$scratch/root1.erofs" "$scratch/root2.erofs"
cmp "$scratch/root1.erofs" "$built"
echo "root image reproducible: $(sha256sum < "$built" | cut -c1-16)"
