#!/usr/bin/env bash
# Real-client test: Debian's podman drives berth as its OCI runtime.
#
#   podman_test.sh /abs/path/to/berth
#
# Fully offline: the image is a busybox-static rootfs imported with
# `podman import`. Podman gets its own storage, runroot and tmpdir under a
# temp dir, and berth its own state dir, so nothing of the user's podman or
# /run/berth is touched. Exit 0 pass, 1 fail, 77 skip (no podman / not root).
# shellcheck disable=SC2016 # '$...' in container commands expands in the container
set -euo pipefail

BERTH=${1:?usage: podman_test.sh /abs/path/to/berth}

if [[ $EUID -ne 0 ]]; then echo "skip: podman_test needs root"; exit 77; fi
if ! command -v podman >/dev/null 2>&1; then echo "skip: podman is not installed"; exit 77; fi

PASSED=0
FAILED=0
pass() { echo "ok - $1"; PASSED=$((PASSED + 1)); }
fail() { echo "not ok - $1: $2"; FAILED=$((FAILED + 1)); }
finish() { echo "$PASSED passed, $FAILED failed"; [[ $FAILED -eq 0 ]]; }

BERTH=$(readlink -f "$BERTH")
if [[ ! -x $BERTH ]]; then fail setup "berth binary '$BERTH' is not executable"; finish; exit 1; fi
BUSYBOX=/bin/busybox
if ! "$BUSYBOX" --list >/dev/null 2>&1 || ldd "$BUSYBOX" >/dev/null 2>&1; then
    fail setup "$BUSYBOX missing or not static (apt-get install busybox-static)"; finish; exit 1
fi

TMP=$(mktemp -d /tmp/berth-podman.XXXXXX)
STATE=$TMP/berth-state
IMG=localhost/berth-test-bb:$$
DRIVER=overlay
# These machines cannot raise hard rlimits, and podman's defaults would try to.
# --network none keeps netavark from adding bridges/firewall rules to the host.
RUNOPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1000:1000 --network none)

# Podman 4.3 does not forward --runtime-flag to the `podman container cleanup`
# process conmon spawns, so a `--runtime-flag root=...` state dir would be
# missed by the final `delete`. A wrapper named "berth" pins the state dir on
# every call instead.
mkdir -p "$TMP/bin" "$STATE"
printf '#!/bin/sh\nexec "%s" --root="%s" "$@"\n' "$BERTH" "$STATE" >"$TMP/bin/berth"
chmod +x "$TMP/bin/berth"

pm() {
    timeout 120 podman --root "$TMP/storage" --runroot "$TMP/runroot" --tmpdir "$TMP/tmp" \
        --storage-driver "$DRIVER" --runtime "$TMP/bin/berth" "$@"
}

cleanup() {
    set +e
    pm rm -af -t 0 >/dev/null 2>&1
    pm rmi -af >/dev/null 2>&1
    # Anything podman failed to remove: kill and delete it in berth directly.
    for id in $("$TMP/bin/berth" list --quiet 2>/dev/null); do
        "$TMP/bin/berth" kill --all "$id" KILL >/dev/null 2>&1
        "$TMP/bin/berth" delete --force "$id" >/dev/null 2>&1
    done
    # Overlay/shm mounts left under the storage would make rm -rf fail or
    # descend into lower layers: unmount deepest first.
    findmnt -rn -o TARGET | grep -F "$TMP/" | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # so a ctest timeout or ^C still runs cleanup

# run CMD...: stdout in OUT, stderr's tail (podman's "Error:" line is last) in
# ERR, exit code in RC.
run() {
    OUT=$("$@" 2>"$TMP/stderr") && RC=0 || RC=$?
    ERR=$(tr -d '\0' <"$TMP/stderr" | tr '\n' ' ' | tail -c 300)
}
# check NAME GOT WANT: pass when equal.
check() {
    if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "got '$2' want '$3' (rc=$RC${ERR:+, stderr: $ERR})"; fi
}
inspect_status() { pm inspect -f '{{.State.Status}}' "$1" 2>/dev/null || echo "(inspect failed)"; }

# --- image: busybox rootfs with applet symlinks, imported (no registry) ---
mkdir -p "$TMP/rootfs/bin"
cp "$BUSYBOX" "$TMP/rootfs/bin/busybox"
for applet in $("$BUSYBOX" --list); do
    [[ -e $TMP/rootfs/bin/$applet ]] || ln -s busybox "$TMP/rootfs/bin/$applet"
done
mkdir -p "$TMP/rootfs/"{dev,proc,sys,etc,tmp,root}
echo 'not a program' >"$TMP/rootfs/etc/motd" # exists, mode 0644: exec gives EACCES
chmod 0644 "$TMP/rootfs/etc/motd"
tar -C "$TMP/rootfs" -cf "$TMP/rootfs.tar" .

run pm import "$TMP/rootfs.tar" "$IMG"
if [[ $RC -ne 0 ]]; then
    # A nested overlay may be refused; vfs always works (just slower).
    rm -rf "$TMP/storage" "$TMP/runroot" "$TMP/tmp"
    DRIVER=vfs
    run pm import "$TMP/rootfs.tar" "$IMG"
fi
if [[ $RC -ne 0 ]]; then fail import "podman import failed (rc=$RC): $ERR"; finish; exit 1; fi
pass "import busybox image ($DRIVER)"

# --- one-shot containers ---
run pm run --rm "${RUNOPTS[@]}" "$IMG" sh -c 'echo hi; exit 7'
check "run: stdout and exit code" "$OUT/$RC" "hi/7"

# Podman maps the runtime's exec failure to docker's 127/126.
run pm run --rm "${RUNOPTS[@]}" "$IMG" /nonexistent
check "run: missing command exits 127" "$RC" 127
run pm run --rm "${RUNOPTS[@]}" "$IMG" /etc/motd
check "run: non-executable file exits 126" "$RC" 126
run pm run --rm "${RUNOPTS[@]}" "$IMG" /proc
check "run: directory as command exits 126" "$RC" 126

run pm run --rm "${RUNOPTS[@]}" "$IMG" cat /proc/self/status
check "run: podman default capabilities" "$(awk '/^CapEff:/ {print $2}' <<<"$OUT")" 00000000800405fb

run pm create "${RUNOPTS[@]}" "$IMG" hostname
C=${OUT:-no-container}
run pm start -a "$C"
check "run: hostname is the short container id" "$OUT" "${C:0:12}"
pm rm -f "$C" >/dev/null 2>&1 || true

run pm run --rm --hostname berth-pm-test "${RUNOPTS[@]}" "$IMG" hostname
check "run: --hostname" "$OUT" berth-pm-test

run pm run --rm -t "${RUNOPTS[@]}" "$IMG" tty </dev/null
check "run -t: stdout is a pty" "${OUT%$'\r'}" /dev/pts/0

run pm run --rm -i "${RUNOPTS[@]}" "$IMG" cat <<<"via-stdin"
check "run -i: stdin reaches the container" "$OUT" via-stdin

run pm run --rm --user 1000:1000 "${RUNOPTS[@]}" "$IMG" sh -c 'echo $(id -u):$(id -g)'
check "run: --user 1000:1000" "$OUT" 1000:1000

# The control run makes sure the failure below comes from --read-only.
run pm run --rm "${RUNOPTS[@]}" "$IMG" touch /x
check "run: rootfs writable by default" "$RC" 0
run pm run --rm --read-only "${RUNOPTS[@]}" "$IMG" touch /x
if [[ $RC -ne 0 && $ERR == *"Read-only file system"* ]]; then pass "run: --read-only rootfs"
else fail "run: --read-only rootfs" "touch /x gave rc=$RC stderr='$ERR'"; fi

# --- a long-running container: exec, top, ps, pause, stop, rm ---
run pm run -d "${RUNOPTS[@]}" "$IMG" sleep 1000
C=${OUT:-no-container} # a non-empty id keeps later filters from matching everything
if [[ $RC -eq 0 && -n $C ]]; then pass "run -d"; else fail "run -d" "rc=$RC stderr='$ERR'"; fi

run pm exec "$C" sh -c 'echo $((6*7))'
check "exec: stdout" "$OUT" 42
run pm exec "$C" sh -c 'exit 5'
check "exec: exit code" "$RC" 5
run pm exec -t "$C" tty </dev/null
check "exec -t: stdout is a pty" "${OUT%$'\r'}" /dev/pts/0

run pm top "$C"
if [[ $RC -eq 0 && $OUT == *"sleep 1000"* ]]; then pass "top: shows the process"
else fail "top: shows the process" "rc=$RC out='$OUT' stderr='$ERR'"; fi
run pm ps --filter "id=$C" --format '{{.ID}}'
check "ps: lists the container" "$OUT" "${C:0:12}"
check "inspect: running" "$(inspect_status "$C")" running

run pm pause "$C"
check "pause: podman state" "$(inspect_status "$C")" paused
check "pause: berth state" "$("$TMP/bin/berth" state "$C" 2>/dev/null | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')" paused
run pm unpause "$C"
check "unpause: podman state" "$(inspect_status "$C")" running
run pm exec "$C" echo alive
check "unpause: container works again" "$OUT" alive

# sleep as PID 1 ignores SIGTERM, so this also exercises the SIGKILL fallback.
run pm stop -t 2 "$C"
check "stop: state exited" "$(inspect_status "$C")" exited
run pm rm "$C"
if [[ $RC -eq 0 ]] && ! pm inspect "$C" >/dev/null 2>&1 && [[ ! -e $STATE/$C ]]; then pass "rm: container gone"
else fail "rm: container gone" "rc=$RC stderr='$ERR' state-dir-entry=$([[ -e $STATE/$C ]] && echo present || echo absent)"; fi

# start again after stop: berth must accept the same id once it was deleted.
run pm run -d "${RUNOPTS[@]}" "$IMG" sleep 1000
C=${OUT:-no-container}
pm stop -t 0 "$C" >/dev/null 2>&1 || true
run pm start "$C"
run pm exec "$C" echo again
check "start after stop: same id runs again" "$OUT" again
run pm restart -t 0 "$C"
run pm exec "$C" echo restarted
check "restart" "$OUT" restarted
pm rm -f -t 0 "$C" >/dev/null 2>&1 || true

# --- death by signal: 128+9 ---
# `sh -c 'kill -9 $$'` cannot do it: the kernel drops SIGKILL sent to a pid
# namespace's init from inside (runc gives 0 too), so kill from outside.
run pm run -d "${RUNOPTS[@]}" "$IMG" sleep 1000
C=${OUT:-no-container}
run pm kill -s KILL "$C"
run pm wait "$C"
check "kill -s KILL: exit code 137" "$OUT" 137
pm rm -f "$C" >/dev/null 2>&1 || true
# With podman's --init (catatonit) the shell is not PID 1 and can kill itself.
if [[ -x /usr/libexec/podman/catatonit ]]; then
    run pm run --rm --init "${RUNOPTS[@]}" "$IMG" sh -c 'kill -9 $$'
    check "run --init: shell killed by SIGKILL gives 137" "$RC" 137
fi

# --- nothing left behind ---
run pm ps -a -q
check "podman ps -a empty" "${OUT//$'\n'/ }" ""
# Only containers count: the seccomp program cache (a dot entry) is meant to stay.
check "berth state dir empty" "$(ls "$STATE")" ""

finish
