#!/usr/bin/env bash
# Regenerates init/cli/pid1-functions.order: the functions berth-init runs as PID 1 — start-up,
# 10 services started and ready, then idle and answering berthctl — in the order of their first
# call. The release build links berth-init and the image's multi-call binary with this list
# (lld --symbol-ordering-file), so that PID 1's code sits together and its resident memory is the
# code it runs. A stale list only costs memory (functions it misses land among the cold code):
# run this after changes to what PID 1 runs, and compare with bench/init_bench.sh.
#
#   bash bench/function-order/update.sh [BUILD_DIR]        (as root; default build/release)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build/release}")
PROGRAM=$BUILD/init/cli/berth-multicall
CTL=$BUILD/init/cli/berthctl
TRACER=$BUILD/bench/trace_first_calls
OUT=$REPO/init/cli/pid1-functions.order
for b in "$PROGRAM" "$CTL" "$TRACER"; do [[ -x $b ]] || { echo "missing $b: cmake --build $BUILD" >&2; exit 1; }; done
[[ $EUID -eq 0 ]] || { echo "needs root" >&2; exit 1; }

TMP=$(mktemp -d /tmp/berth-function-order.XXXXXX)
TRACER_PID=
cleanup() {
    [[ -n $TRACER_PID ]] && kill -TERM "$TRACER_PID" 2>/dev/null && wait "$TRACER_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

IMG=$TMP/images/bb
mkdir -p "$IMG"/{bin,etc,proc,sys,dev,tmp}
cp /bin/busybox "$IMG/bin/"
for a in sleep sh test; do ln -sf busybox "$IMG/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$IMG/etc/passwd"
echo 'root:x:0:' > "$IMG/etc/group"
mkdir -p "$TMP/services"
for i in $(seq 1 10); do
    printf '[container]\nimage = "bb"\ncommand = ["/bin/sleep", "1000"]\n[stop]\ntimeout = "1s"\n' > "$TMP/services/svc$i.toml"
done

# Precompiled seccomp filters, as the image ships them: compiling one is not PID 1's everyday work.
"$CTL" check --images "$TMP/images" --seccomp-cache /run/berth/.seccomp-cache "$TMP/services" >/dev/null

# The multi-call binary, run as berth-init: the same functions as the berth-init binary, plus the
# dispatch on argv[0].
ln -s "$PROGRAM" "$TMP/berth-init"
nm -S --defined-only "$PROGRAM" | awk '$3 ~ /^[tTwWi]$/ && $2 !~ /^0+$/ { print $1, $4 }' > "$TMP/symbols"
SOCKET=$TMP/control.sock
"$TRACER" "$TMP/symbols" "$TMP/order" -- "$TMP/berth-init" --test --services "$TMP/services" \
    --images "$TMP/images" --state "$TMP/state" --control-socket "$SOCKET" 2>"$TMP/init.log" &
TRACER_PID=$!

ready=0
for _ in $(seq 1 ${WAIT_TENTHS:-600}); do
    if grep -q 'boot: all 10 services ready' "$TMP/init.log" 2>/dev/null; then ready=1; break; fi
    sleep 0.1
done
((ready)) || { echo "berth-init did not get 10 services ready under the tracer:" >&2; cat "$TMP/init.log" >&2; exit 1; }
sleep 2  # idle: the loop's timer, the heap trim
for request in status services "logs svc1"; do
    # shellcheck disable=SC2086
    "$CTL" --socket "$SOCKET" $request >/dev/null
    "$CTL" --socket "$SOCKET" --json $request >/dev/null
done
sleep 1
kill -USR1 "$TRACER_PID"
for _ in $(seq 1 50); do [[ -s $TMP/order ]] && break; sleep 0.1; done
[[ -s $TMP/order ]] || { echo "the tracer wrote no order" >&2; exit 1; }
cp "$TMP/order" "$OUT"
echo "$OUT: $(wc -l < "$OUT") functions"
