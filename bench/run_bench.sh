#!/usr/bin/env bash
# Runtime startup benchmark: `berth run` vs `runc run` (and `crun run` when it
# works on this host) of /bin/true in the same busybox bundle.
#
#   bash bench/run_bench.sh [BERTH] [OUT.md]      (RUNS=30 by default, >= 20)
#
# Writes a markdown report to stdout (and to OUT.md); progress goes to stderr.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BERTH=$(readlink -f "${1:-$REPO/build/release/runtime/berth}")
OUT_FILE=${2:-}
RUNS=${RUNS:-30}
WARMUP=3
export LC_ALL=C # EPOCHREALTIME must use '.' as decimal separator

log() { echo "bench: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root (containers with namespaces and mounts)"
[[ -x $BERTH ]] || die "berth binary '$BERTH' not found; build it: cmake --preset release && cmake --build --preset release"
((RUNS >= 20)) || die "RUNS must be >= 20 for a meaningful p90"
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    die "/bin/busybox must be static: apt-get install busybox-static"
fi
command -v runc >/dev/null || die "runc is not installed: apt-get install runc"

# Tools the measurement itself needs; these are plain Debian packages.
need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    log "installing $2"
    apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
}
need jq jq
[[ -x /usr/bin/time ]] || need /usr/bin/time time
need strace strace

TMP=$(mktemp -d /tmp/berth-bench.XXXXXX)
cleanup() {
    # A failed run may leave a container behind; remove it so the mounts go too.
    for rt in berth runc crun; do
        [[ -d $TMP/state-$rt ]] || continue
        for dir in "$TMP/state-$rt"/*; do
            [[ -d $dir ]] || continue
            id=${dir##*/}
            case $rt in
                berth) "$BERTH" --root "$TMP/state-$rt" delete --force "$id" ;;
                *) "$rt" --root "$TMP/state-$rt" delete --force "$id" ;;
            esac >/dev/null 2>&1 || true
        done
    done
    rm -rf "$TMP"
}
trap cleanup EXIT

# --- bundle: busybox-static rootfs + `berth spec` config running /bin/true ---
BUNDLE=$TMP/bundle
mkdir -p "$BUNDLE/rootfs/bin"
cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [[ -e $BUNDLE/rootfs/bin/$applet ]] || ln -s busybox "$BUNDLE/rootfs/bin/$applet"
done
"$BERTH" spec --bundle "$BUNDLE"
jq '.process.args = ["/bin/true"] | .process.terminal = false' "$BUNDLE/config.json" >"$TMP/config.json"
mv "$TMP/config.json" "$BUNDLE/config.json"
# Diagnostic twin without the seccomp profile, to attribute berth's cost.
NOSEC=$TMP/bundle-noseccomp
mkdir -p "$NOSEC"
ln -s "$BUNDLE/rootfs" "$NOSEC/rootfs"
jq 'del(.linux.seccomp)' "$BUNDLE/config.json" >"$NOSEC/config.json"

# run_rt NAME ID [BUNDLE]: one foreground container run; separate state dir per runtime.
run_rt() {
    local name=$1 id=$2 bundle=${3:-$BUNDLE} bin
    case $name in berth | berth-noseccomp) bin=$BERTH ;; *) bin=$name ;; esac
    "$bin" --root "$TMP/state-${name%%-*}" run --bundle "$bundle" "$id" </dev/null >/dev/null
}

# crun refuses cgroup-v1/v2 hybrid hosts; include it only if it really runs.
RUNTIMES=(berth runc)
CRUN_NOTE=""
if ! command -v crun >/dev/null 2>&1; then
    CRUN_NOTE="skipped: crun is not installed"
elif ! err=$(crun --root "$TMP/state-crun" run --bundle "$BUNDLE" "probe-$$" </dev/null 2>&1 >/dev/null); then
    CRUN_NOTE="skipped: \`crun run\` fails here: $(tail -n1 <<<"$err")"
else
    RUNTIMES+=(crun)
fi
ALL=("${RUNTIMES[@]}" berth-noseccomp)

bundle_for() { [[ $1 == berth-noseccomp ]] && echo "$NOSEC" || echo "$BUNDLE"; }

# --- wall time, interleaved so drift and noise hit every runtime alike ---
log "warm-up ($WARMUP runs each)"
for ((i = 0; i < WARMUP; i++)); do
    for rt in "${ALL[@]}"; do run_rt "$rt" "w$i-$$" "$(bundle_for "$rt")" || die "$rt run failed"; done
done
declare -A WALL
log "timing $RUNS runs each of: ${ALL[*]}"
for ((i = 0; i < RUNS; i++)); do
    order=("${ALL[@]}")
    # Alternate the order so no runtime always runs right after another.
    if ((i % 2)); then
        rev=()
        for ((j = ${#order[@]} - 1; j >= 0; j--)); do rev+=("${order[j]}"); done
        order=("${rev[@]}")
    fi
    for rt in "${order[@]}"; do
        b=$(bundle_for "$rt") # outside the timed region: $(...) forks
        t0=$EPOCHREALTIME
        run_rt "$rt" "t$i-$$" "$b" || die "$rt run failed (run $i)"
        t1=$EPOCHREALTIME
        WALL[$rt]+="$(( ${t1/./} - ${t0/./} )) " # microseconds
    done
done

# --- peak RSS (separate pass: /usr/bin/time would add its own fork to the timing) ---
declare -A RSS
log "peak RSS ($RUNS runs each)"
for ((i = 0; i < RUNS; i++)); do
    for rt in "${RUNTIMES[@]}"; do
        bin=$BERTH
        [[ $rt == berth ]] || bin=$rt
        /usr/bin/time -f %M -o "$TMP/rss" "$bin" --root "$TMP/state-$rt" run --bundle "$BUNDLE" "m$i-$$" \
            </dev/null >/dev/null || die "$rt run failed under /usr/bin/time"
        RSS[$rt]+="$(tail -n1 "$TMP/rss") "
    done
done

# stat_of KIND VALUES...: median or p90 (nearest rank) of integers.
stat_of() {
    local kind=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v kind="$kind" '
        { v[NR] = $1 }
        END {
            if (kind == "median") print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            else { r = int(0.9 * NR); if (r < 0.9 * NR) r++; print v[r] }
        }'
}
ms() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1000 }'; }
declare -A MED P90 RSSMED
for rt in "${ALL[@]}"; do
    # shellcheck disable=SC2086 # word splitting of the sample list is intended
    MED[$rt]=$(stat_of median ${WALL[$rt]})
    # shellcheck disable=SC2086
    P90[$rt]=$(stat_of p90 ${WALL[$rt]})
done
for rt in "${RUNTIMES[@]}"; do
    # shellcheck disable=SC2086
    RSSMED[$rt]=$(stat_of median ${RSS[$rt]})
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# --- where berth's time goes: traced runs split into phases ---
# --seccomp-bpf makes strace stop only on the traced syscalls, keeping its
# overhead low; the phase boundaries are the syscalls named in each row.
# A single trace is noisy on a 2-core box, so take the median of TRACES runs.
TRACES=5
log "tracing $TRACES berth runs"
for ((k = 0; k < TRACES; k++)); do
    strace --seccomp-bpf -f -ttt -o "$TMP/strace.txt" \
        -e trace=clone,clone3,execve,mount,pivot_root,seccomp,wait4,exit_group \
        "$BERTH" --root "$TMP/state-berth" run --bundle "$BUNDLE" "s$k-$$" </dev/null >/dev/null 2>&1 ||
        log "traced run $k failed; phase table may be incomplete"
    # One line per run: the 7 phase durations and the total, in ms.
    awk '
        function t(s) { return s + 0 }
        NR == 1 { main = $1; start = t($2) }
        $1 == main && /clone3?\(/ && !clone { clone = t($2) }
        $1 != main && /mount\(/ && !mount1 { mount1 = t($2) }
        $1 != main && /mount\(|pivot_root\(/ && !exec2 { lastmount = t($2) }
        $1 != main && /seccomp\(/ && !seccomp1 { seccomp1 = t($2) }
        $1 != main && /seccomp\(SECCOMP_SET_MODE_FILTER/ && !exec2 { seccompN = t($2) }
        $1 != main && /execve\(/ { exec2 = t($2) }
        $1 != main && /exit_group\(/ && exec2 && !cexit { cexit = t($2) }
        $1 == main && /\+\+\+ exited/ { end = t($2) }
        END {
            if (!seccomp1) { seccomp1 = lastmount; seccompN = lastmount }
            printf "%.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", (clone - start) * 1000, (mount1 - clone) * 1000,
                (seccomp1 - mount1) * 1000, (seccompN - seccomp1) * 1000, (exec2 - seccompN) * 1000,
                (cexit - exec2) * 1000, (end - cexit) * 1000, (end - start) * 1000
        }' "$TMP/strace.txt" >>"$TMP/phases.txt"
done
PHASES=$(for col in 1 2 3 4 5 6 7 8; do
    # shellcheck disable=SC2046 # one word per traced run
    stat_of median $(awk -v c="$col" '{ print $c }' "$TMP/phases.txt")
done | awk '
    BEGIN {
        split("parent: start, parse config, prepare (execve -> clone)|" \
              "clone + namespaces + child setup -> first mount|" \
              "rootfs: mounts, pivot_root, masked/readonly paths|" \
              "seccomp: build + load the filter (first seccomp() -> last)|" \
              "hand-off: caps, sync with parent -> execve(/bin/true)|" \
              "workload: /bin/true runs -> exit_group|" \
              "reap + state cleanup -> berth exits", name, "|")
    }
    { d[NR] = $1 }
    END {
        for (i = 1; i <= 7; i++) printf "| %s | %.1f | %.0f%% |\n", name[i], d[i], 100 * d[i] / d[8]
        printf "| **total (under strace)** | **%.1f** | |\n", d[8]
    }')

# perf, when the kernel lets us sample: which functions burn berth's CPU.
PERF=""
# shellcheck disable=SC2016 # $1..$3 expand in the inner bash
if command -v perf >/dev/null 2>&1 &&
    perf record -q -e cpu-clock -F 10000 -o "$TMP/perf.data" -- bash -c '
        for i in $(seq 20); do "$1" --root "$2" run --bundle "$3" "p$i-$$" </dev/null >/dev/null; done' \
        _ "$BERTH" "$TMP/state-berth" "$BUNDLE" >/dev/null 2>&1; then
    PERF=$(perf report -i "$TMP/perf.data" --no-children --comm berth --sort dso,sym -q -g none \
        --percent-limit 1.5 2>/dev/null |
        awk 'NF { $1 = $1; printf "    %s\n", substr($0, 1, 90) }' | head -n 12)
fi

# --- report ---
BERTH_MED=${MED[berth]}
RUNC_MED=${MED[runc]}
RATIO=$(ratio "$BERTH_MED" "$RUNC_MED")
RSS_KIB=${RSSMED[berth]}
met() { if [[ $1 == 1 ]]; then echo "**met**"; else echo "**not met**"; fi; }
report() {
    echo "| runtime | median (ms) | p90 (ms) | vs runc (median) | peak RSS, median |"
    echo "|---|---:|---:|---:|---:|"
    for rt in "${RUNTIMES[@]}"; do
        echo "| $rt | $(ms "${MED[$rt]}") | $(ms "${P90[$rt]}") | $(ratio "${MED[$rt]}" "$RUNC_MED")× |" \
            "$(awk -v k="${RSSMED[$rt]}" 'BEGIN { printf "%d KiB (%.2f MiB)", k, k / 1024 }') |"
    done
    [[ -n $CRUN_NOTE ]] && echo "| crun | — | — | — | $CRUN_NOTE |"
    echo "| *berth, bundle without \`linux.seccomp\` (diagnostic)* | *$(ms "${MED[berth-noseccomp]}")* |" \
        "*$(ms "${P90[berth-noseccomp]}")* | *$(ratio "${MED[berth-noseccomp]}" "$RUNC_MED")×* | |"
    echo
    echo "$RUNS interleaved runs per runtime after $WARMUP warm-up runs; wall time of the whole"
    echo "\`RUNTIME --root DIR run --bundle B ID\` (fresh id per run, one state dir per runtime)."
    echo
    echo "Targets:"
    echo
    echo "- berth ≤ 0.25× runc wall time: ${RATIO}× — $(met "$(awk -v r="$RATIO" 'BEGIN { print (r <= 0.25) }')")"
    if [[ -n $CRUN_NOTE ]]; then
        echo "- ahead of crun: not measurable — crun $CRUN_NOTE"
    else
        echo "- ahead of crun: $(ms "$BERTH_MED") ms vs $(ms "${MED[crun]}") ms —" \
            "$(met "$(awk -v a="$BERTH_MED" -v b="${MED[crun]}" 'BEGIN { print (a < b) }')")"
    fi
    echo "- peak RSS ≤ 3 MiB: $(awk -v k="$RSS_KIB" 'BEGIN { printf "%.2f MiB", k / 1024 }') —" \
        "$(met "$(awk -v k="$RSS_KIB" 'BEGIN { print (k <= 3072) }')")"
    echo
    echo "Where a \`berth run\` spends its time (median of $TRACES strace-timed runs; strace slows every phase,"
    echo "so the total exceeds the untraced median; medians per row need not add up to the total):"
    echo
    echo "| phase | ms | share |"
    echo "|---|---:|---:|"
    echo "$PHASES"
    echo
    # The two biggest phases, and the no-seccomp twin as an independent check.
    echo "$PHASES" | grep -v total | sort -t'|' -k3 -rn | head -n 2 |
        awk -F'|' '{ gsub(/^ +| +$/, "", $2); gsub(/ /, "", $4); printf "- %s phase: %s of the traced run\n", $2, $4 }'
    awk -v a="$BERTH_MED" -v b="${MED[berth-noseccomp]}" 'BEGIN {
        printf "- dropping linux.seccomp from the bundle saves %.1f ms (%.0f%%) of the median berth run\n", (a - b) / 1000, 100 * (a - b) / a }'
    if [[ -n $PERF ]]; then
        echo
        echo "Hottest functions in the berth processes (perf, cpu-clock, 20 runs, self time, % of all samples):"
        echo
        echo "$PERF"
    fi
}
REPORT=$(report)
echo "$REPORT"
if [[ -n $OUT_FILE ]]; then echo "$REPORT" >"$OUT_FILE"; fi
