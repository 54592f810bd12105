#!/bin/sh
# Builds a static, stripped dropbearmulti (dropbear dropbearkey scp dbclient) with musl-gcc from an
# unpacked Debian source tree and the checked-in localoptions.h. Called by
# rootfs/dropbear/CMakeLists.txt (target dropbear_musl).
# Usage: build.sh SOURCE_DIR WORK_DIR LOCALOPTIONS OUTPUT JOBS   (env: CC = musl-gcc)
set -eu
src=$1 work=$2 localoptions=$3 out=$4 jobs=$5
cc=${CC:-musl-gcc}
unset MAKEFLAGS MFLAGS MAKELEVEL GNUMAKEFLAGS CFLAGS LDFLAGS CPPFLAGS

changelog=$src/debian/changelog
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$changelog" -STimestamp)
export SOURCE_DATE_EPOCH LC_ALL=C TZ=UTC

rm -rf "$work"
mkdir -p "$work"
cp -a "$src/." "$work/src"
cp "$localoptions" "$work/src/localoptions.h"
cd "$work/src"

# Bundled libtomcrypt/libtommath (musl has no system copy); no zlib, PAM, shadow or login
# records. Syslog stays (dropbear -E logs to stderr instead).
./configure CC="$cc" CFLAGS="-Os -W -Wall -ffile-prefix-map=$work/src/=" \
  --enable-static --enable-bundled-libtom \
  --disable-zlib --disable-pam --disable-shadow \
  --disable-lastlog --disable-utmp --disable-utmpx --disable-wtmp --disable-wtmpx \
  --disable-loginfunc --disable-pututline --disable-pututxline >configure.out 2>&1 ||
  { cat configure.out >&2; exit 1; }

make -j"$jobs" PROGRAMS="dropbear dropbearkey scp dbclient" MULTI=1 STATIC=1 >make.out 2>&1 ||
  { tail -n 60 make.out >&2; exit 1; }

strip --strip-all -R .comment -R .note -o dropbearmulti.stripped dropbearmulti
if readelf -lW dropbearmulti.stripped | grep -q 'program interpreter'; then
  echo "dropbearmulti is not statically linked" >&2
  exit 1
fi
# Smoke test: version, and an ed25519 key.
./dropbearmulti.stripped dropbear -V 2>&1 | grep -q '^Dropbear v'
./dropbearmulti.stripped dropbearkey -t ed25519 -f "$work/smoke_ed25519" >/dev/null 2>&1
mkdir -p "$(dirname "$out")"
cp dropbearmulti.stripped "$out.tmp"
chmod 0755 "$out.tmp"
mv "$out.tmp" "$out"
