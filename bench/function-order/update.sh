#!/usr/bin/env bash
# Regenerates init/cli/pid1-functions.order: the functions berth-init runs as PID 1, those it runs
# once the boot has settled (idle, answering berthctl) first, then the others in the order of their
# first call. The release build links berth-init and the image's multi-call binary with
# this list (lld --symbol-ordering-file), so that PID 1's code sits together and its resident
# memory is the code it runs. A stale list only costs memory (functions it misses land among the
# cold code): run this after changes to what PID 1 runs, and compare with bench/init_bench.sh and
# the `init_resident_kib` of `berthctl status` on a booted image. Each called function is listed
# with all its names (aliases such as C1/C2 constructors).
#
# Two workloads are traced, each from start to idle and answering berthctl, and listed in this order:
#  1. the benchmark's: 10 busybox services;
#  2. the image's own services (logd, netd, sshd, ntpd from the built root tree: notify, file and
#     TCP readiness, log forwarding, volumes, devices, limits), in a private network namespace and
#     with tmpfs over /run/berth, /var/lib/berth and /var/log/berth, so that nothing touches this
#     machine's network or files.
# Tried and left out (docs/benchmarks.md): more workloads (restarts, health checks, privileged
# services) and every CPU's variants of libc's string functions saved the image's PID 1 ~200 KiB
# more but cost the benchmark ~60–130 KiB.
#
#   bash bench/function-order/update.sh [BUILD_DIR]   (as root; default build/release, after
#                                                       `cmake --build BUILD_DIR --target root_image`)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build/release}")
PROGRAM=$BUILD/init/cli/berth-multicall
CTL=$BUILD/init/cli/berthctl
TRACER=$BUILD/bench/trace_first_calls
TREE=$BUILD/rootfs/tree
OUT=$REPO/init/cli/pid1-functions.order
for b in "$PROGRAM" "$CTL" "$TRACER"; do [[ -x $b ]] || { echo "missing $b: cmake --build $BUILD" >&2; exit 1; }; done
[[ -d $TREE/etc/berth/services ]] || { echo "missing $TREE: cmake --build $BUILD --target root_image" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "needs root" >&2; exit 1; }

TMP=$(mktemp -d /tmp/berth-function-order.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# The multi-call binary, run as berth-init: the same functions as the berth-init binary, plus the
# dispatch on argv[0].
ln -s "$PROGRAM" "$TMP/berth-init"
nm -S --defined-only "$PROGRAM" | awk '$3 ~ /^[tTwWi]$/ && $2 !~ /^0+$/ { print $1, $4 }' > "$TMP/symbols"

# Traces berth-init --test with SERVICES (directories, colon-separated) and IMAGES until READY
# services are ready, idles, asks berthctl for status, services and the logs of LOG_SERVICE, writes
# the order to OUT, then powers berth-init off (shutdown is not part of the order).
trace() {  # SERVICES_DIR IMAGES READY LOG_SERVICE OUT [SOCKET]
    local socket=${6:-$TMP/control-$4.sock} log=$TMP/init-$4.log
    # Precompiled seccomp filters, as the image ships them: compiling one is not PID 1's everyday work.
    "$CTL" check --images "$2" --seccomp-cache /run/berth/.seccomp-cache "$1" >/dev/null
    "$TRACER" "$TMP/symbols" "$5" -- "$TMP/berth-init" --test --services "$1" --images "$2" \
        --state "$TMP/state-$4" --control-socket "$socket" 2>"$log" &
    local tracer=$! ready=0
    for _ in $(seq 1 600); do
        (( $("$CTL" --socket "$socket" --json services 2>/dev/null | grep -o '"state":"ready"' | wc -l) >= $3 )) && { ready=1; break; }
        sleep 0.1
    done
    ((ready)) || { echo "berth-init did not get $3 services ready under the tracer:" >&2; cat "$log" >&2; kill "$tracer"; exit 1; }
    sleep 3  # idle: probes, the loop's timer, the heap trim, and the boot's code unmapped
    # The steady state: what PID 1 runs from now on is listed first (it is what stays mapped).
    kill -USR2 "$tracer"
    sleep 2
    for request in status services "logs $4"; do
        # shellcheck disable=SC2086
        "$CTL" --socket "$socket" $request >/dev/null
        "$CTL" --socket "$socket" --json $request >/dev/null
    done
    sleep 1
    kill -USR1 "$tracer"
    for _ in $(seq 1 50); do [[ -s $5 ]] && break; sleep 0.1; done
    [[ -s $5 ]] || { echo "the tracer wrote no order" >&2; exit 1; }
    cp "$5" "$5.idle"
    cp "$5.steady" "$5.steady.idle"
    "$CTL" --socket "$socket" poweroff >/dev/null
    wait "$tracer" || true
    mv "$5.idle" "$5"
    mv "$5.steady.idle" "$5.steady"
}

IMG=$TMP/images/bb
mkdir -p "$IMG"/{bin,etc,proc,sys,dev,tmp} "$TMP/services"
cp /bin/busybox "$IMG/bin/"
for a in sleep sh test; do ln -sf busybox "$IMG/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$IMG/etc/passwd"
echo 'root:x:0:' > "$IMG/etc/group"
for i in $(seq 1 10); do
    printf '[container]\nimage = "bb"\ncommand = ["/bin/sleep", "1000"]\n[stop]\ntimeout = "1s"\n' > "$TMP/services/svc$i.toml"
done
trace "$TMP/services" "$TMP/images" 10 svc1 "$TMP/order-bench"

# The image's services, fenced off from this machine. netd finds no Ethernet interface in the
# empty network namespace and stays unready, and ntpd (after netd) waits: logd and sshd get ready.
export -f trace
export TMP CTL TRACER TREE
unshare --mount --net --propagation private bash -euo pipefail -c '
    for dir in /run/berth /var/lib/berth /var/log/berth; do mkdir -p "$dir"; mount -t tmpfs tmpfs "$dir"; done
    mkdir -p /run/berth/logd /run/berth/net /run/berth/syslog /var/lib/berth/ssh
    ip link set lo up
    trace "$TREE/etc/berth/services" "$TREE/usr/lib/berth/images" 2 logd "$TMP/order-image" /run/berth/control.sock
'

# Both workloads' steady states first, then the rest of each.
awk '!seen[$0]++' "$TMP/order-bench.steady" "$TMP/order-image.steady" "$TMP/order-bench" "$TMP/order-image" > "$OUT"
echo "$OUT: $(wc -l < "$OUT") names ($(wc -l < "$TMP/order-bench") from the benchmark's services," \
     "$(($(wc -l < "$OUT") - $(wc -l < "$TMP/order-bench"))) more from the image's;" \
     "$(awk '!seen[$0]++' "$TMP/order-bench.steady" "$TMP/order-image.steady" | wc -l) run once the boot has settled)"
