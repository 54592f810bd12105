#!/usr/bin/env bash
# Installs the Debian 12 packages Berth builds and tests with. Idempotent; quick when
# everything is already there.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config
  libtomlplusplus-dev catch2 libseccomp-dev libcap-dev nlohmann-json3-dev libexpected-dev
  # update bundles: Ed25519 signatures (libsodium) and SHA-256 (OpenSSL's libcrypto, for the CPU's
  # SHA extensions), both linked statically
  libsodium-dev libssl-dev
  # GPT checksums when the state partition grows (CRC32)
  zlib1g-dev
  # the release link of berth-init: PID 1's functions placed together (lld --symbol-ordering-file)
  lld
  # tests and demo: busybox rootfs, real clients and reference runtimes
  busybox-static iproute2 podman runc crun uidmap fuse-overlayfs slirp4netns
  # fuzzing (libFuzzer)
  clang-14 libclang-rt-14-dev
  # benchmarks and the demo
  time strace python3
  # kernel, initramfs and A/B disk (rootfs/kernel/, image/): depmod, ESP, GPT, erofs, qcow2
  kmod systemd-boot-efi dosfstools mtools gdisk erofs-utils qemu-utils zstd
  # the dm-verity hash tree of each root slot (image/make-slot.sh: veritysetup format)
  cryptsetup-bin
  # BusyBox and dropbear for the root image: Debian source packages built with musl (rootfs/)
  musl-tools dpkg-dev linux-libc-dev
  # booting and testing the image: QEMU with UEFI firmware, SSH client, dumpe2fs
  qemu-system-x86 ovmf openssh-client e2fsprogs
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then echo "run as root to install packages" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
