#!/usr/bin/env bash
# berth-init benchmarks, in one run:
#  1. idle RSS of berth-init supervising 10 services (target <= 1.5 MiB), with its smaps breakdown;
#  2. time from berth-init's start to 50 busybox services ready, against
#  3. 50 containers started one by one with `berth run --detach` in a shell loop
#     (target: berth-init <= 0.5x the loop: it needs no process per start).
# Each of the RUNS rounds (default 3) measures all three, 2 and 3 back to back, so that load
# from other work on the machine hits both alike, with a pause (SETTLE seconds, default 2) after
# each so that one measurement's teardown does not run into the next; the report gives medians.
#
#   bash bench/init_bench.sh [BUILD_DIR] [OUT.md]        (as root; default build/release)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build/release}")
OUT_FILE=${2:-}
RUNS=${RUNS:-3}
INIT=$BUILD/init/cli/berth-init
CTL=$BUILD/init/cli/berthctl
BERTH=$BUILD/runtime/berth
for b in "$INIT" "$CTL" "$BERTH"; do [[ -x $b ]] || { echo "missing $b: cmake --preset release && cmake --build --preset release" >&2; exit 1; }; done
[[ $EUID -eq 0 ]] || { echo "needs root" >&2; exit 1; }

TMP=$(mktemp -d /tmp/berth-init-bench.XXXXXX)
INIT_PID=
cleanup() {
    [[ -n $INIT_PID ]] && kill -KILL "$INIT_PID" 2>/dev/null || true
    for d in "$TMP"/state/*/; do [[ -d $d ]] && "$BERTH" --root "$TMP/state" delete --force "$(basename "$d")" >/dev/null 2>&1; done
    rm -rf "$TMP"
}
trap cleanup EXIT

# A busybox image shared by every service and bundle.
IMG=$TMP/images/bb
mkdir -p "$IMG"/{bin,etc,proc,sys,dev,tmp}
cp /bin/busybox "$IMG/bin/"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -sf busybox "$IMG/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$IMG/etc/passwd"
echo 'root:x:0:' > "$IMG/etc/group"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

make_services() {  # DIR COUNT
    mkdir -p "$1"
    for i in $(seq 1 "$2"); do
        printf '[container]\nimage = "bb"\ncommand = ["/bin/sleep", "1000"]\n[stop]\ntimeout = "1s"\n' > "$1/svc$i.toml"
    done
}

# "Ready": berth-init's own "boot: all N services ready" line, read from its stderr as it is
# written (costs nothing while the services start); older builds without that line are polled
# through `berthctl --json services` every 10 ms (each poll costs CPU that the loop does not pay).
if grep -q 'services ready' "$INIT"; then READY_BY=${READY_BY:-log}; else READY_BY=poll; fi
mkfifo "$TMP/init.log"

# Starts berth-init in a fresh pid + mount namespace; sets INIT_PID (berth-init's host pid) and
# opens its stderr on fd 3.
start_init() {  # SERVICES_DIR SOCKET
    unshare --pid --mount --fork "$INIT" --test --services "$1" --images "$TMP/images" \
        --state "$TMP/svcstate" --control-socket "$2" 2>"$TMP/init.log" &
    local unshare_pid=$!
    exec 3<"$TMP/init.log"
    for _ in $(seq 1 500); do
        INIT_PID=$(cat "/proc/$unshare_pid/task/$unshare_pid/children" 2>/dev/null | awk '{print $1}')
        [[ -n $INIT_PID && -S $2 ]] && return 0
        sleep 0.005
    done
    echo "berth-init did not start" >&2; exit 1
}

ready_count() {  # SOCKET
    "$CTL" --socket "$1" --json services 2>/dev/null | grep -o '"state":"ready"' | wc -l
}

# Waits until COUNT services are ready.
wait_ready() {  # SOCKET COUNT
    if [[ $READY_BY == log ]]; then
        while IFS= read -r line <&3; do [[ $line == *"boot: all $2 services ready"* || $line == *"boot: settled"* ]] && break; done
    else
        until [[ $(ready_count "$1") -eq $2 ]]; do sleep 0.01; done
    fi
    cat <&3 >/dev/null &  # keep its stderr drained
    [[ $(ready_count "$1") -eq $2 ]] || { echo "berth-init reported ready, but not all $2 services are" >&2; exit 1; }
}

stop_init() {  # SOCKET
    "$CTL" --socket "$1" poweroff >/dev/null 2>&1 || true
    for _ in $(seq 1 500); do kill -0 "$INIT_PID" 2>/dev/null || break; sleep 0.02; done
    INIT_PID=
    exec 3<&-
}

# The kernel tears dead containers' namespaces down in the background (a network namespace
# takes a while); let that finish so it does not slow down the next measurement.
settle() { sleep "${SETTLE:-2}"; }

# Resident KiB per mapping kind of a process: text (file-backed, executable), other file-backed,
# heap, stack, other anonymous. Plus the Anonymous total.
smaps_breakdown() {  # PID
    awk '/^[0-9a-f]+-[0-9a-f]+ / { perms = $2; name = $6; next }
         /^Rss:/ {
             if (name == "[heap]") kind = "heap"
             else if (name == "[stack]") kind = "stack"
             else if (name ~ /^\// && perms ~ /x/) kind = "text"
             else if (name ~ /^\//) kind = "file data"
             else kind = "anon other"
             kb[kind] += $2
         }
         /^Anonymous:/ { anon += $2 }
         END { printf "text %d, file data %d, heap %d, stack %d, other anon %d (anonymous in all: %d)",
                      kb["text"], kb["file data"], kb["heap"], kb["stack"], kb["anon other"], anon }' "/proc/$1/smaps"
}

make_services "$TMP/s10" 10
make_services "$TMP/s50" 50
# Services load precompiled seccomp filters from /run/berth/.seccomp-cache; the image ships them,
# compiled at build time by this same command. Without it, the first round's berth-init would
# compile the filter (once per profile) and count that code in its resident memory.
"$CTL" check --images "$TMP/images" --seccomp-cache /run/berth/.seccomp-cache "$TMP/s10" >/dev/null
mkdir -p "$TMP/bundle"
"$BERTH" spec --bundle "$TMP/bundle"
sed -i 's#"path": "rootfs"#"path": "'"$IMG"'"#; s#"sh"#"/bin/sleep", "1000"#' "$TMP/bundle/config.json"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
RSS_LIST=() INIT_LIST=() LOOP_LIST=() RATIO_LIST=()
for run in $(seq 1 "$RUNS"); do
    # 1. Idle RSS with 10 services.
    start_init "$TMP/s10" "$TMP/c10.sock"
    wait_ready "$TMP/c10.sock" 10
    sleep 2
    RSS_LIST+=("$(awk '/^VmRSS/ {print $2}' "/proc/$INIT_PID/status")")
    [[ $run -eq 1 ]] && SMAPS=$(smaps_breakdown "$INIT_PID")
    stop_init "$TMP/c10.sock"
    settle

    # 2. berth-init: start to 50 services ready.
    t0=$(now_ms)
    start_init "$TMP/s50" "$TMP/c50.sock"
    wait_ready "$TMP/c50.sock" 50
    init_ms=$(( $(now_ms) - t0 ))
    stop_init "$TMP/c50.sock"
    settle

    # 3. The same 50 containers, one `berth run --detach` each.
    t0=$(now_ms)
    for i in $(seq 1 50); do "$BERTH" --root "$TMP/state" run --detach --bundle "$TMP/bundle" "r${run}c$i" >/dev/null; done
    loop_ms=$(( $(now_ms) - t0 ))
    for i in $(seq 1 50); do "$BERTH" --root "$TMP/state" delete --force "r${run}c$i" >/dev/null 2>&1 || true; done
    settle

    INIT_LIST+=("$init_ms") LOOP_LIST+=("$loop_ms")
    RATIO_LIST+=("$(awk -v a="$init_ms" -v b="$loop_ms" 'BEGIN { printf "%.2f", a / b }')")
    echo "run $run: rss ${RSS_LIST[-1]} KiB, init ${init_ms} ms, loop ${loop_ms} ms, ratio ${RATIO_LIST[-1]}" >&2
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

RSS_KB=$(printf '%s\n' "${RSS_LIST[@]}" | median)
INIT_MS=$(printf '%s\n' "${INIT_LIST[@]}" | median)
LOOP_MS=$(printf '%s\n' "${LOOP_LIST[@]}" | median)
RATIO=$(printf '%s\n' "${RATIO_LIST[@]}" | median)
RSS_MIB=$(awk -v k="$RSS_KB" 'BEGIN { printf "%.2f", k / 1024 }')
verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v <= t) ? "**met**" : "**not met**" }'; }
REPORT=$(cat <<MD
| measure (median of $RUNS runs) | value | target |
|---|---:|---|
| idle RSS of berth-init, 10 services | $RSS_KB KiB ($RSS_MIB MiB) | ≤ 1.5 MiB: $(verdict "$RSS_MIB" 1.5) |
| berth-init start → 50 services ready | $INIT_MS ms | |
| 50 × \`berth run --detach\` in a shell loop | $LOOP_MS ms | |
| ratio berth-init / loop (median of the per-run ratios) | ${RATIO}× | ≤ 0.5×: $(verdict "$RATIO" 0.5) |

- runs (RSS KiB / init ms / loop ms): $(for i in "${!INIT_LIST[@]}"; do printf '%s/%s/%s ' "${RSS_LIST[$i]}" "${INIT_LIST[$i]}" "${LOOP_LIST[$i]}"; done)
- resident KiB by mapping, run 1: $SMAPS
- ready detected by: $READY_BY; load average before / after: $LOAD_BEFORE / $LOAD_AFTER
MD
)
echo "$REPORT"
[[ -n $OUT_FILE ]] && echo "$REPORT" > "$OUT_FILE"
exit 0
