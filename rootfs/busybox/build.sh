#!/bin/sh
# Builds a static, stripped BusyBox with musl-gcc from an unpacked Debian source tree, with the
# checked-in config. Called by rootfs/busybox/CMakeLists.txt (target busybox_musl).
# Usage: build.sh SOURCE_DIR WORK_DIR CONFIG OUTPUT JOBS   (env: CC = musl-gcc)
set -eu
src=$1 work=$2 config=$3 out=$4 jobs=$5
cc=${CC:-musl-gcc}
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS CFLAGS LDFLAGS CPPFLAGS

changelog=$src/debian/changelog
version=$(dpkg-parsechangelog -l "$changelog" -SVersion)
# Reproducible: every timestamp is the Debian upload's, paths are relative to the tree.
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$changelog" -STimestamp)
export SOURCE_DATE_EPOCH KCONFIG_NOTIMESTAMP=1 LC_ALL=C TZ=UTC

rm -rf "$work"
mkdir -p "$work"
cp -a "$src/." "$work/src"

# musl-gcc does not search /usr/include: give it the kernel's uapi headers, nothing else.
kinc=$work/kernel-headers
mkdir -p "$kinc"
for d in linux asm-generic mtd; do
  ln -s "/usr/include/$d" "$kinc/$d"
done
ln -s "/usr/include/$(gcc -print-multiarch)/asm" "$kinc/asm"

cd "$work/src"
cp "$config" .config
# The config is complete: oldconfig must not change it (a new source version may add symbols;
# then regenerate busybox.config with the busybox_musl_config target).
yes "" | make -s oldconfig >/dev/null
if ! cmp -s "$config" .config; then
  diff -u "$config" .config >&2 || true
  echo "busybox.config does not match BusyBox $version: regenerate it (target busybox_musl_config)" >&2
  exit 1
fi

make -j"$jobs" CC="$cc" HOSTCC=gcc \
  EXTRA_CFLAGS="-isystem $kinc -ffile-prefix-map=$work/src/= -ffile-prefix-map=$kinc=/usr/include" \
  BB_EXTRA_VERSION="Debian $version" busybox >make.out 2>&1 ||
  { tail -n 60 make.out >&2; exit 1; }

if readelf -lW busybox | grep -q 'program interpreter'; then
  echo "busybox is not statically linked" >&2
  exit 1
fi
./busybox true
mkdir -p "$(dirname "$out")"
cp busybox "$out.tmp"
chmod 0755 "$out.tmp"
mv "$out.tmp" "$out"
