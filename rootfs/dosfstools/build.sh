#!/bin/sh
# Builds a static, stripped fsck.fat with musl-gcc from an unpacked Debian dosfstools source tree,
# and checks it on FAT32 images made with the host's mkfs.fat (package dosfstools): a clean one,
# and one with the dirty bit set and a leaked cluster, as a power cut during a write leaves the ESP.
# Called by rootfs/dosfstools/CMakeLists.txt (target dosfstools_musl).
# Usage: build.sh SOURCE_DIR WORK_DIR OUTPUT JOBS   (env: CC = musl-gcc)
set -eu
src=$1 work=$2 out=$3 jobs=$4
cc=${CC:-musl-gcc}
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS CFLAGS LDFLAGS CPPFLAGS

changelog=$src/debian/changelog
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$changelog" -STimestamp)
export SOURCE_DATE_EPOCH LC_ALL=C TZ=UTC

rm -rf "$work"
mkdir -p "$work"
cp -a "$src/." "$work/src"
cd "$work/src"

# iconv stays: musl's has CP850 (fsck.fat's default codepage, for names and the volume label) and
# CP437. dosfstools 4.2 uses no udev: its configure has no --without-udev to give.
./configure CC="$cc" CFLAGS="-Os -W -Wall -ffile-prefix-map=$work/src/=" LDFLAGS=-static \
  --disable-dependency-tracking --disable-compat-symlinks --disable-atari-check \
  >configure.out 2>&1 || { cat configure.out >&2; exit 1; }

# Only fsck.fat (not mkfs.fat, fatlabel or the tests).
make -C src -j"$jobs" fsck.fat >make.out 2>&1 || { tail -n 60 make.out >&2; exit 1; }

fsck=$work/fsck.fat
strip --strip-all -R .comment -R .note -o "$fsck" src/fsck.fat
if readelf -lW "$fsck" | grep -q 'program interpreter'; then
  echo "fsck.fat is not statically linked" >&2
  exit 1
fi

# Smoke tests (the host's mkfs.fat makes the images).
version=$(sed -n '1s/^[^(]*(\([^-)]*\).*/\1/p' "$changelog")
"$fsck" --help 2>&1 | grep -q '^Usage: .*fsck.fat' || { echo "fsck.fat --help fails" >&2; exit 1; }
if ! command -v mkfs.fat >/dev/null 2>&1; then  # /usr/sbin, not always on PATH
  PATH=$PATH:/usr/sbin:/sbin
fi
if ! command -v mkfs.fat >/dev/null 2>&1; then
  echo "mkfs.fat not found (scripts/install-deps.sh installs dosfstools)" >&2
  exit 1
fi
img=$work/smoke.img
rm -f "$img" "$img.label"
# FAT32 as the ESP is made (image/make-disk.sh): 512-byte sectors, one per cluster.
mkfs.fat -C --invariant -F 32 -S 512 -s 1 "$img" $((40 * 1024)) >/dev/null
# An empty environment: musl then takes C.UTF-8 for the names it prints.
env -i "$fsck" -n -v "$img" >"$work/smoke-clean.out" 2>&1 ||
  { cat "$work/smoke-clean.out" >&2; echo "fsck.fat -n: a fresh FAT32 is not clean" >&2; exit 1; }
grep -q "^fsck.fat $version " "$work/smoke-clean.out" ||
  { cat "$work/smoke-clean.out" >&2; echo "fsck.fat does not name version $version" >&2; exit 1; }

# The codepage (CP850, through musl's iconv): a label with byte 0x90 ('É') in the boot sector
# (byte 0x47 on FAT32) is printed as UTF-8. A broken iconv would make fsck.fat say so and fall
# back to its own CP850 table.
cp "$img" "$img.label"
printf 'ESP\220       ' | dd of="$img.label" bs=1 seek=$((0x47)) conv=notrunc status=none
env -i "$fsck" -n "$img.label" >"$work/smoke-label.out" 2>&1 || true
if grep -q 'internal CP850\|Cannot initialize\|Cannot convert' "$work/smoke-label.out" ||
   ! grep -q "Label 'ESPÉ'" "$work/smoke-label.out"; then
  cat "$work/smoke-label.out" >&2; echo "fsck.fat: the codepage conversion (iconv) does not work" >&2; exit 1
fi

# What a cut write leaves: the dirty bit (boot sector byte 0x41 on FAT32) and a cluster marked as
# used in both FATs that no file owns. -a -w repairs it (exit 1: errors corrected; -a salvages the
# lost chain into /FSCK0000.REC), after which it is clean.
reserved=$(od -An -tu2 -j14 -N2 "$img" | tr -d ' ')
fat_sectors=$(od -An -tu4 -j36 -N4 "$img" | tr -d ' ')
printf '\001' | dd of="$img" bs=1 seek=$((0x41)) conv=notrunc status=none
for fat in 0 1; do  # cluster 100: a chain of one (end of chain)
  printf '\377\377\377\017' |
    dd of="$img" bs=1 seek=$(((reserved + fat * fat_sectors) * 512 + 100 * 4)) conv=notrunc status=none
done
rc=0
env -i "$fsck" -a -w "$img" >"$work/smoke-repair.out" 2>&1 || rc=$?
if [ "$rc" -ne 1 ] || ! grep -q '^Dirty bit is set' "$work/smoke-repair.out" ||
   ! grep -q '^Reclaimed 1 unused cluster' "$work/smoke-repair.out"; then
  cat "$work/smoke-repair.out" >&2
  echo "fsck.fat -a -w: exit $rc, expected 1 with the dirty bit and the lost cluster repaired" >&2
  exit 1
fi
env -i "$fsck" -n "$img" >"$work/smoke-after.out" 2>&1 ||
  { cat "$work/smoke-after.out" >&2; echo "fsck.fat -n: not clean after -a -w" >&2; exit 1; }
rm -f "$img" "$img.label"

mkdir -p "$(dirname "$out")"
cp "$fsck" "$out.tmp"
chmod 0755 "$out.tmp"
mv "$out.tmp" "$out"
