#!/usr/bin/env bash
# Prints the kernel command-line words that make berth-init open a slot through dm-verity, from
# the slot's description (root.verity, written by make-slot.sh):
#
#   verity-cmdline.sh ROOT.VERITY
#   → berth.verity=<root hash> berth.verity.salt=<hex> berth.verity.blocks=<data blocks>
#     berth.verity.hash_offset=<bytes>
#
# The one place these words are made: the disk's boot entries (make-disk.sh) and the update
# bundle's use it. berth-init reads them in init/pid1/src/early_boot.cpp; docs/image.md.
set -euo pipefail

die() { echo "verity-cmdline: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: verity-cmdline.sh ROOT.VERITY"
description=$1
[ -f "$description" ] || die "missing $description"

declare -A v
while IFS='=' read -r key value; do
  case "$key" in ''|'#'*) continue ;; esac
  v[$key]=$value
done <"$description"
need() {  # need KEY REGEX
  [[ "${v[$1]:-}" =~ ^$2$ ]] || die "$description: $1 is '${v[$1]:-}', expected /$2/"
}
need root_hash '[0-9a-f]{64}'
need salt '([0-9a-f]{2}){1,256}'
need data_blocks '[1-9][0-9]*'
need hash_offset '[1-9][0-9]*'
# berth-init builds its table for exactly this layout: anything else is a build error here, not
# a slot that does not boot.
need hash_algorithm sha256
need data_block_size 4096
need hash_block_size 4096
need superblock no
[ $((v[hash_offset] % 4096)) -eq 0 ] || die "hash_offset ${v[hash_offset]} is not a multiple of 4096"
[ "${v[hash_offset]}" -ge $((v[data_blocks] * 4096)) ] || die "hash_offset ${v[hash_offset]} lies inside the data"

echo "berth.verity=${v[root_hash]} berth.verity.salt=${v[salt]} berth.verity.blocks=${v[data_blocks]} berth.verity.hash_offset=${v[hash_offset]}"
