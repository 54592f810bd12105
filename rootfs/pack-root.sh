#!/usr/bin/env bash
# Packs a root tree as Berth's erofs image: fixed owners, timestamps and UUID, lz4hc (the kernel
# decompresses lz4), so the same tree gives the same bytes. Used by make-root.sh, and by
# image/derive-version.sh for the versions the update tests build from one tree.
#
#   pack-root.sh TREE IMAGE EPOCH
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: pack-root.sh TREE IMAGE EPOCH" >&2; exit 2; }
tree=$1 image=$2 epoch=$3
mkdir -p "$(dirname "$image")"
image=$(cd "$(dirname "$image")" && pwd)/$(basename "$image")
cd "$tree"
find . -exec touch -h -d "@$epoch" {} +
rm -f "$image"
mkfs.erofs --quiet -zlz4hc,12 -C65536 -T"$epoch" --all-root -U 6c0a3b7e-4f1d-4c55-9b0e-b3e7a0c0ffee "$image" . >/dev/null
echo "root image: $image ($(stat -c %s "$image") bytes)"
