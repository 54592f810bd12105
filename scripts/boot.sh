#!/usr/bin/env bash
# The README's main command: installs what it needs, builds the Berth image (if needed) and
# boots it under QEMU with UEFI (OVMF + systemd-boot), serial console on this terminal, SSH
# forwarded to 127.0.0.1:${BERTH_SSH_PORT:-2222} with a key generated for you.
#
#   bash scripts/boot.sh [--direct]     --direct: skip the firmware (-kernel boot, faster)
#
# The disk is a copy-on-write overlay in build/run/: the host keeps its state (SSH host key,
# logs) across runs until the image is rebuilt. Quit QEMU with Ctrl-A X.
set -euo pipefail
cd "$(dirname "$0")/.."

direct=0
for arg in "$@"; do
    case $arg in
        --direct) direct=1 ;;
        *) echo "usage: bash scripts/boot.sh [--direct]" >&2; exit 2 ;;
    esac
done

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target image

image=build/release/image
run=build/run
port=${BERTH_SSH_PORT:-2222}
mkdir -p "$run"
[[ -f $run/id_ed25519 ]] || ssh-keygen -q -t ed25519 -N "" -C "berth-admin" -f "$run/id_ed25519"
cat > "$run/host.toml" <<EOF
hostname = "berth"
[ssh]
authorized_keys = ["$(cat "$run/id_ed25519.pub")"]
EOF
# A new image starts a new overlay (and a fresh state partition).
if [[ ! -f $run/disk.qcow2 || $image/disk.qcow2 -nt $run/disk.qcow2 ]]; then
    rm -f "$run/disk.qcow2" "$run/OVMF_VARS.fd"
    qemu-img create -q -f qcow2 -F qcow2 -b "$(readlink -f "$image/disk.qcow2")" "$run/disk.qcow2"
fi
[[ -f $run/OVMF_VARS.fd ]] || cp /usr/share/OVMF/OVMF_VARS_4M.fd "$run/OVMF_VARS.fd"

boot=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
      -drive if=pflash,format=raw,file="$run/OVMF_VARS.fd")
if ((direct)); then
    boot=(-kernel "$image/vmlinuz" -initrd "$image/initramfs.img" -append "$(cat "$image/cmdline")")
fi

cat <<EOF

Booting Berth under QEMU (TCG). When the services are up, log in to the admin container with:

    ssh -i $run/id_ed25519 -p $port -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null root@127.0.0.1

and try: berthctl services, berthctl logs netd. Quit QEMU with Ctrl-A X.

EOF
exec qemu-system-x86_64 -accel tcg -machine q35 -m 1024 -smp 2 -nographic \
    "${boot[@]}" \
    -drive file="$run/disk.qcow2",if=virtio,format=qcow2,cache=writeback \
    -netdev user,id=net0,hostfwd=tcp:127.0.0.1:"$port"-:22 -device virtio-net-pci,netdev=net0 \
    -device virtio-rng-pci \
    -fw_cfg name=opt/berth/config,file="$run/host.toml"
