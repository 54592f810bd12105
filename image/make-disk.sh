#!/usr/bin/env bash
# Builds Berth's UEFI A/B disk from a kernel, an initramfs and a root slot, with no root rights:
# no loop devices and no mounts (mkfs.vfat -C + mtools for the ESP, sgdisk on a plain file, dd at
# offsets). Run by the `image` CMake target (image/CMakeLists.txt); the layout is documented in
# docs/image.md.
#
#   make-disk.sh --out DIR --kernel VMLINUZ --initramfs IMG --root ROOT.EROFS --slot ROOT.SLOT
#                --verity ROOT.VERITY --version V
#                [--kernel-manifest F] [--sources-dir D] [--slot-b copy|empty] [--mtime EPOCH]
#                [--cmdline-extra "WORDS"] [--qcow2-compression zlib|zstd]
#                [--systemd-boot /usr/lib/systemd/boot/efi/systemd-bootx64.efi] [--host-config F]
#
# ROOT.SLOT and ROOT.VERITY are make-slot.sh's: the root image with its dm-verity hash tree, and
# their description (the verity words of the boot entries come from it, through verity-cmdline.sh).
# Writes into DIR: disk.raw, disk.qcow2 (compressed), vmlinuz and cmdline (for direct -kernel
# boots of slot A: tests append to the cmdline), build-manifest.txt. The initramfs is expected to
# be DIR/initramfs.img already (it is copied there otherwise).
set -euo pipefail

# ---- The partition table (1 MiB aligned; sizes in MiB). ------------------------------------------
# Fixed GUIDs make the disk reproducible (every disk built from the same inputs is bit-identical;
# the GUIDs are the same on every machine installed from it, which nothing in Berth relies on:
# partitions are found by label). Root type = Discoverable Partitions "Root Partition (x86-64)".
disk_guid=1fac8190-ce66-4cc2-97c8-86ff8d0132ee
layout="
# n  label   type                                   MiB  partition GUID
1    esp     ef00                                   64   a18be6f3-abb4-47cc-b7a5-b4a85b81c115
2    root-a  4f68bce3-e8cd-4db1-96e7-fbcaf984b709   96   031705a1-da70-4cb7-a882-342425ae62b7
3    root-b  4f68bce3-e8cd-4db1-96e7-fbcaf984b709   96   ef5b66b6-a7fe-476e-a62f-3f1b0b1af28b
4    state   8300                                   128  eb6684a9-446c-499e-bf1a-42bc518cf9ea
"
first_mib=1        # the primary GPT lives in the first MiB
tail_mib=1         # room for the backup GPT (33 sectors) at the end
esp_volume_id=0xBE27E5B0

die() { echo "make-disk: $*" >&2; exit 1; }

out= kernel= initramfs= root= slot_image= verity= version= kernel_manifest= sources_dir= slot_b=copy cmdline_extra=
mtime=${SOURCE_DATE_EPOCH:-0} qcow2_compression=zlib
sdboot=/usr/lib/systemd/boot/efi/systemd-bootx64.efi host_config=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2 ;;
    --kernel) kernel=$2 ;;
    --initramfs) initramfs=$2 ;;
    --root) root=$2 ;;
    --slot) slot_image=$2 ;;
    --verity) verity=$2 ;;
    --version) version=$2 ;;
    --kernel-manifest) kernel_manifest=$2 ;;
    --sources-dir) sources_dir=$2 ;;
    --slot-b) slot_b=$2 ;;
    --mtime) mtime=$2 ;;
    --cmdline-extra) cmdline_extra=$2 ;;
    --qcow2-compression) qcow2_compression=$2 ;;
    --systemd-boot) sdboot=$2 ;;
    --host-config) host_config=$2 ;;
    *) die "unknown argument $1" ;;
  esac
  shift 2
done
[ -n "$out" ] && [ -n "$kernel" ] && [ -n "$initramfs" ] && [ -n "$root" ] && [ -n "$slot_image" ] \
  && [ -n "$verity" ] && [ -n "$version" ] \
  || die "--out, --kernel, --initramfs, --root, --slot, --verity and --version are required"
for f in "$kernel" "$initramfs" "$root" "$slot_image" "$verity" "$sdboot"; do [ -f "$f" ] || die "missing input $f"; done
case "$slot_b" in copy|empty) ;; *) die "--slot-b must be copy or empty" ;; esac
export MTOOLS_SKIP_CHECK=1 SOURCE_DATE_EPOCH=$mtime TZ=UTC

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$out/disk.work
rm -rf "$work"
mkdir -p "$work"

# Kernel command line of one slot (slot-cmdline.sh says what each word is for).
cmdline_of() {  # cmdline_of SLOT
  bash "$(dirname "$0")/slot-cmdline.sh" "$1" "$verity" "$cmdline_extra"
}

# ---- Partition offsets from the table. -----------------------------------------------------------
declare -A start size type guid num
labels=()
next=$first_mib
while read -r n label ptype mib pguid; do
  case "$n" in ''|'#'*) continue ;; esac
  labels+=("$label")
  num[$label]=$n start[$label]=$next size[$label]=$mib type[$label]=$ptype guid[$label]=$pguid
  next=$((next + mib))
done <<<"$layout"
total_mib=$((next + tail_mib))

# ---- ESP: systemd-boot, loader.conf, one Boot Loader Spec entry and kernel + initramfs per slot. ---
tree=$work/esp
mkdir -p "$tree/EFI/BOOT" "$tree/loader/entries"
cp "$sdboot" "$tree/EFI/BOOT/BOOTX64.EFI"
# No menu (hold a key to get one). `default berth-*` picks the first Berth entry in systemd-boot's
# order: sort-key, then version (newest first), with entries whose boot counter reached +0 last;
# a pattern naming one slot would defeat the rollback that ordering gives. No editor: the command
# line of an appliance is not edited at the console.
cat >"$tree/loader/loader.conf" <<EOF
timeout 0
default berth-*
editor no
auto-entries no
auto-firmware no
EOF
slots=(a)
[ "$slot_b" = copy ] && slots+=(b)
for slot in "${slots[@]}"; do
  mkdir -p "$tree/berth/$slot"
  cp "$kernel" "$tree/berth/$slot/vmlinuz"
  cp "$initramfs" "$tree/berth/$slot/initramfs.img"
  entry_version=$version
  # A fresh disk carries the same image in both slots; slot B's copy is the fallback, so its entry
  # sorts below slot A's ("~" sorts before anything, even the end of the string). An update writes
  # its own entry with its own version.
  [ "$slot" = b ] && entry_version="$version~fallback"
  cat >"$tree/loader/entries/berth-$slot.conf" <<EOF
title      Berth $version (slot ${slot^^})
version    $entry_version
sort-key   berth
linux      /berth/$slot/vmlinuz
initrd     /berth/$slot/initramfs.img
options    $(cmdline_of "$slot")
EOF
done
# A host config baked into the image (docs/host-config.md): berth-init reads /efi/berth/config.toml
# when QEMU's fw_cfg has none.
if [ -n "$host_config" ]; then
  [ -f "$host_config" ] || die "missing host config $host_config"
  cp "$host_config" "$tree/berth/config.toml"
fi
find "$tree" -exec touch -h -d "@$mtime" {} +

esp_img=$work/esp.img
mkfs.vfat -C --invariant -i "$esp_volume_id" -n ESP -F 32 -S 512 -s 1 "$esp_img" $((size[esp] * 1024)) >/dev/null
# Directories, then files, each in sorted order (not readdir's): the FAT layout, and so the disk's
# bytes, depend only on the inputs. -m keeps the staged mtimes; mtools takes SOURCE_DATE_EPOCH for
# the directory entries it creates.
(cd "$tree" && find . -mindepth 1 -type d | LC_ALL=C sort | sed 's|^\./|::/|' | xargs mmd -i "$esp_img")
(cd "$tree" && find . -type f | LC_ALL=C sort | while read -r f; do mcopy -m -Q -i "$esp_img" "$f" "::/${f#./}"; done)

# ---- The disk. --------------------------------------------------------------------------------------
slot_bytes=$(stat -c %s "$slot_image")
[ "$slot_bytes" = "$(sed -n 's/^slot_bytes=//p' "$verity")" ] || die "$slot_image is not the slot $verity describes"
[ "$slot_bytes" -le $((size[root-a] * 1048576)) ] \
  || die "root slot $slot_image (root image + hash tree) is $slot_bytes bytes, more than the ${size[root-a]} MiB slot: grow the slots in the layout"
raw=$work/disk.raw
truncate -s "${total_mib}M" "$raw"
args=(-o -a 2048 -U "$disk_guid")
for label in "${labels[@]}"; do
  n=${num[$label]} first=$((start[$label] * 2048)) last=$(((start[$label] + size[$label]) * 2048 - 1))
  args+=(-n "$n:$first:$last" -t "$n:${type[$label]}" -c "$n:$label" -u "$n:${guid[$label]}")
done
sgdisk "${args[@]}" "$raw" >/dev/null
put() {  # put IMAGE LABEL
  dd if="$1" of="$raw" bs=1M seek="${start[$2]}" conv=notrunc,sparse status=none
}
put "$esp_img" esp
put "$slot_image" root-a
[ "$slot_b" = copy ] && put "$slot_image" root-b
# state stays zero: berth-init formats it on first boot.

qemu-img convert -c -O qcow2 -o compression_type="$qcow2_compression" "$raw" "$work/disk.qcow2"
mv "$raw" "$out/disk.raw"
mv "$work/disk.qcow2" "$out/disk.qcow2"
cp "$kernel" "$out/vmlinuz"
[ "$(realpath "$initramfs")" = "$out/initramfs.img" ] || cp "$initramfs" "$out/initramfs.img"
cmdline_of a >"$out/cmdline"

# ---- The build manifest. -----------------------------------------------------------------------------
sha() { sha256sum "$1" | cut -d' ' -f1; }
{
  echo "# Berth build manifest"
  echo "berth.version=$version"
  echo "source_date_epoch=$mtime"
  [ -n "$kernel_manifest" ] && cat "$kernel_manifest"
  if [ -n "$sources_dir" ] && [ -d "$sources_dir" ]; then
    for f in $(find "$sources_dir" -maxdepth 1 -name '*.version' | sort); do
      echo "# $(basename "$f")"
      cat "$f"
    done
  fi
  echo "disk.guid=$disk_guid"
  echo "disk.size_mib=$total_mib"
  for label in "${labels[@]}"; do
    echo "disk.partition.${num[$label]}=$label type=${type[$label]} start_mib=${start[$label]} size_mib=${size[$label]} guid=${guid[$label]}"
  done
  echo "disk.slot_b=$slot_b"
  echo "cmdline.a=$(cmdline_of a)"
  echo "sha256.root.erofs=$(sha "$root")"
  echo "sha256.root.slot=$(sha "$slot_image")"
  sed 's/^/root.verity./' "$verity"
  echo "sha256.vmlinuz=$(sha "$out/vmlinuz")"
  echo "sha256.initramfs.img=$(sha "$out/initramfs.img")"
  echo "sha256.disk.raw=$(sha "$out/disk.raw")"
  echo "sha256.disk.qcow2=$(sha "$out/disk.qcow2")"
} >"$out/build-manifest.txt.tmp"
mv "$out/build-manifest.txt.tmp" "$out/build-manifest.txt"
rm -rf "$work"
echo "make-disk: $out/disk.raw (${total_mib} MiB), disk.qcow2 $(stat -c %s "$out/disk.qcow2") bytes"
