#!/usr/bin/env bash
# Apply of the build's update bundle against dd conv=fsync of as many bytes to the same target, on
# this machine's own CPU and disk, interleaved (the QEMU scenario update-faults measures the same
# ratio in a TCG guest, where the emulated CPU makes hashing cost far more than it does here).
# The update job runs as on a host (its sandbox, its checks, staged in memory, the root flushed and
# read back, kernel and initramfs written and renamed durably); the slots are files, the ESP a
# directory, on the filesystem that holds WORK_DIR.
#
#   bench/update_bench.sh [BUILD_DIR (build/release)] [ROUNDS (5)] [WORK_DIR (/var/tmp)]
set -euo pipefail
build=${1:-build/release} rounds=${2:-5} under=${3:-/var/tmp}
bundle=$build/image/update.bundle
update=$build/init/cli/berth-update
[ -f "$bundle" ] && [ -x "$update" ] || { echo "update_bench: build the image first ($bundle, $update)" >&2; exit 1; }
# shellcheck source=/dev/null
. "$build/image/bundle.env"
work=$(mktemp -d "$under/berth-update-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/keys" "$work/esp/loader/entries" "$work/esp/berth/a" "$work/state"
cp "$build"/update-keys/*.pub "$work/keys/"
printf 'NAME=Berth\nVERSION_ID=0.0.1\n' >"$work/os-release"
echo "$BUNDLE_COMPATIBLE" >"$work/compatible"
echo a >"$work/boot-slot"
printf 'version 0.0.1\n' >"$work/esp/loader/entries/berth-a.conf"
truncate -s 96M "$work/root-a" "$work/root-b"
bytes=$(stat -c %s "$bundle")

now() { date +%s.%N; }
apply_once() {
  "$update" apply --allow-downgrade --esp "$work/esp" --state "$work/state" --keys "$work/keys" \
    --os-release "$work/os-release" --compatible "$work/compatible" --boot-slot "$work/boot-slot" \
    --device-a "$work/root-a" --device-b "$work/root-b" <"$bundle" >"$work/apply.out"
  tail -n1 "$work/apply.out" | grep -q '"done":true' || { cat "$work/apply.out" >&2; exit 1; }
}
dd_once() { dd if="$bundle" of="$work/root-b" bs=1M conv=fsync,notrunc status=none; }

apply_times=() dd_times=()
for _ in $(seq "$rounds"); do
  sync
  t0=$(now); dd_once; t1=$(now); dd_times+=("$(echo "$t1 - $t0" | bc)")
  sync
  t0=$(now); apply_once; t1=$(now); apply_times+=("$(echo "$t1 - $t0" | bc)")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
a=$(median "${apply_times[@]}") d=$(median "${dd_times[@]}")
printf 'bundle: %d bytes; %d rounds, interleaved, medians\n' "$bytes" "$rounds"
printf 'berth-update apply:  %.3f s  (%s)\n' "$a" "${apply_times[*]}"
printf 'dd conv=fsync:       %.3f s  (%s)\n' "$d" "${dd_times[*]}"
printf 'apply / dd:          %.2fx (target <= 1.3x)\n' "$(echo "$a / $d" | bc -l)"
