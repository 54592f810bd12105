#!/usr/bin/env bash
# Makes the bytes of a root slot from the root image: the erofs data padded to 4096 bytes, then
# its dm-verity hash tree (sha256, 4096-byte data and hash blocks, no verity superblock), and a
# description of both that the boot entries and the update bundle read. docs/image.md, "Slots".
#
#   make-slot.sh --root ROOT.EROFS --slot ROOT.SLOT --verity ROOT.VERITY
#
# ROOT.VERITY holds key=value lines: data_bytes, data_blocks, data_block_size, hash_block_size,
# hash_offset (bytes from the start of ROOT.SLOT), hash_algorithm, root_hash, salt (hex),
# slot_bytes, superblock. The salt is the sha256 of the padded data: the same root image gives
# the same slot, bit for bit.
set -euo pipefail

die() { echo "make-slot: $*" >&2; exit 1; }

root= slot= verity=
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2 ;;
    --slot) slot=$2 ;;
    --verity) verity=$2 ;;
    *) die "unknown argument $1" ;;
  esac
  shift 2
done
[ -n "$root" ] && [ -n "$slot" ] && [ -n "$verity" ] || die "--root, --slot and --verity are required"
[ -f "$root" ] || die "missing root image $root"
command -v veritysetup >/dev/null || die "veritysetup is missing (package cryptsetup-bin; bash scripts/install-deps.sh)"

block=4096
work=$(mktemp -d "$(dirname "$slot")/make-slot.XXXXXX")
trap 'rm -rf "$work"' EXIT

root_bytes=$(stat -c %s "$root")
[ "$root_bytes" -gt 0 ] || die "root image $root is empty"
data_bytes=$(((root_bytes + block - 1) / block * block))
cp "$root" "$work/data"
truncate -s "$data_bytes" "$work/data"
salt=$(sha256sum "$work/data" | cut -c1-64)
verity_args=(--no-superblock --hash=sha256 --data-block-size=$block --hash-block-size=$block --salt="$salt")
veritysetup format "${verity_args[@]}" --root-hash-file="$work/root_hash" "$work/data" "$work/tree" >/dev/null
root_hash=$(cat "$work/root_hash")
[[ "$root_hash" =~ ^[0-9a-f]{64}$ ]] || die "veritysetup wrote no sha256 root hash: '$root_hash'"
# Read back: the tree must verify the data it was made from.
veritysetup verify "${verity_args[@]}" "$work/data" "$work/tree" "$root_hash" \
  || die "the hash tree veritysetup wrote does not verify the data"
cat "$work/data" "$work/tree" >"$work/slot"

cat >"$work/verity" <<EOF
data_bytes=$data_bytes
data_blocks=$((data_bytes / block))
data_block_size=$block
hash_block_size=$block
hash_offset=$data_bytes
hash_algorithm=sha256
root_hash=$root_hash
salt=$salt
slot_bytes=$(stat -c %s "$work/slot")
superblock=no
EOF
mv "$work/slot" "$slot"
mv "$work/verity" "$verity"
echo "make-slot: $slot: $data_bytes bytes of data + $(stat -c %s "$work/tree") bytes of hash tree, root hash $root_hash"
