#!/usr/bin/env bash
# Assembles Berth's read-only root tree and packs it as a compressed erofs image. Run by the
# `root_image` CMake target; everything it needs comes in as arguments. No root tricks: the
# image is made with mkfs.erofs --all-root from an ordinary directory.
#
#   make-root.sh --out DIR --image FILE --bin DIR --busybox F --dropbear F --udhcpc-script F --e2fsck F
#                --fsck-fat F --modules DIR
#                --version V --build-id ID --epoch SECONDS [--variant default|debug]
#                --update-keys DIR --compatible NAME
#
# --bin DIR holds berth-multicall and berthctl (static). --modules DIR is the host
# module tree (lib/modules/<release>/..., etc/berth/modules). The same inputs give the same
# image, byte for byte: fixed timestamps (--epoch), owners, UUID and ordering.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
variant=default
while (($#)); do
    case $1 in
        --out) out=$2 ;; --image) image=$2 ;; --bin) bin=$2 ;; --busybox) busybox=$2 ;;
        --dropbear) dropbear=$2 ;; --udhcpc-script) udhcpc_script=$2 ;; --e2fsck) e2fsck=$2 ;; --fsck-fat) fsck_fat=$2 ;; --modules) modules=$2 ;; --version) version=$2 ;;
        --build-id) build_id=$2 ;; --epoch) epoch=$2 ;; --variant) variant=$2 ;;
        --update-keys) update_keys=$2 ;; --compatible) compatible=$2 ;;
        *) echo "make-root.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift 2
done
for v in out image bin busybox dropbear udhcpc_script e2fsck fsck_fat modules version build_id epoch update_keys compatible; do
    [[ -n ${!v:-} ]] || { echo "make-root.sh: --${v//_/-} is required" >&2; exit 2; }
done
case $variant in default|debug) ;; *) echo "make-root.sh: --variant is default or debug, not '$variant'" >&2; exit 2 ;; esac

rm -rf "$out"
mkdir -p "$out"
cd "$out"

# --- the host root --------------------------------------------------------------------------
mkdir -p usr/bin usr/lib/berth/images etc/berth/services proc sys dev run tmp var efi root
ln -s usr/bin bin
ln -s usr/bin sbin
ln -s bin usr/sbin
ln -s usr/lib lib
chmod 0700 root
# One multi-call binary for Berth's four programs (it dispatches on the name it runs as).
install -m 0755 -s "$bin/berth-multicall" usr/bin/berth
for b in berth-init berthctl logd berth-update; do ln -s berth "usr/bin/$b"; done
install -m 0755 -s "$busybox" usr/bin/busybox
install -m 0755 -s "$dropbear" usr/bin/dropbearmulti
install -m 0755 "$e2fsck" usr/bin/e2fsck  # the initramfs checks the state partition with it
install -m 0755 "$fsck_fat" usr/bin/fsck.fat  # berth-init repairs the ESP with it (dirty bit set)
# The kernel modules the running host loads (the initramfs has its own, for the disks).
cp -a "$modules/lib/modules" usr/lib/
# Split at the "#@later" line of the module list: what boot needs, and what can load meanwhile.
sed '/^#@later/,$d' "$modules/etc/berth/modules" > etc/berth/modules
sed '0,/^#@later/d' "$modules/etc/berth/modules" > etc/berth/modules.later

# Updates: the public keys bundles must be signed with, and the image family they must name.
mkdir -p usr/lib/berth/update-keys
install -m 0644 "$update_keys"/*.pub usr/lib/berth/update-keys/
printf '%s\n' "$compatible" > usr/lib/berth/compatible

printf 'root:x:0:0:root:/root:/bin/sh\n' > etc/passwd
printf 'root:x:0:\ntty:x:5:\n' > etc/group
ln -s ../run/berth/net/resolv.conf etc/resolv.conf
cat > usr/lib/os-release <<EOF
NAME="Berth"
ID=berth
PRETTY_NAME="Berth $version"
VERSION_ID=$version
IMAGE_ID=berth${variant/#default/}
IMAGE_VERSION=$version
BUILD_ID=$build_id
VARIANT_ID=$variant
HOME_URL="https://github.com/berth-os/berth"
EOF
ln -s ../usr/lib/os-release etc/os-release
install -m 0644 "$here"/services/*.toml etc/berth/services/
if [[ $variant == debug ]]; then install -m 0644 "$here"/services-debug/*.toml etc/berth/services/; fi

# --- service images: read-only trees; shared binaries are hard links (stored once) ----------
applets=$(usr/bin/busybox --list | grep -vx busybox)
image_base() {  # NAME [busybox]
    local dir=usr/lib/berth/images/$1
    mkdir -p "$dir"/{bin,etc,proc,sys,dev,run,tmp,usr/bin}
    printf 'root:x:0:0:root:/root:/bin/sh\n' > "$dir/etc/passwd"
    printf 'root:x:0:\ntty:x:5:\n' > "$dir/etc/group"
    : > "$dir/etc/resolv.conf"  # mount point for the host's resolver
    if [[ ${2:-} == busybox ]]; then
        ln usr/bin/busybox "$dir/bin/busybox"
        for a in $applets; do ln -s busybox "$dir/bin/$a"; done
    fi
}

image_base logd
ln usr/bin/berth usr/lib/berth/images/logd/usr/bin/logd
mkdir -p usr/lib/berth/images/logd/var/log/berth

image_base netd busybox
install -m 0755 "$here/images/netd/netd" "$here/images/netd/netd-dhcp-event" usr/lib/berth/images/netd/usr/bin/
mkdir -p usr/lib/berth/images/netd/usr/share/udhcpc usr/lib/berth/images/netd/run/berth/net
install -m 0755 "$udhcpc_script" usr/lib/berth/images/netd/usr/share/udhcpc/default.script

image_base ntpd busybox
install -m 0755 "$here/images/ntpd/ntp-client" usr/lib/berth/images/ntpd/usr/bin/
mkdir -p usr/lib/berth/images/ntpd/run/berth/net

image_base admin busybox
admin=usr/lib/berth/images/admin
ln usr/bin/dropbearmulti "$admin/usr/bin/dropbearmulti"
for p in dropbear dropbearkey scp dbclient; do ln -s dropbearmulti "$admin/usr/bin/$p"; done
ln usr/bin/berth "$admin/usr/bin/berthctl"
mkdir -p "$admin/usr/lib/berth/update-keys"  # berthctl update verify checks bundles with them there too
cp usr/lib/berth/update-keys/*.pub "$admin/usr/lib/berth/update-keys/"
install -m 0755 "$here/images/admin/admin-sshd" "$admin/usr/bin/"
install -m 0644 "$here/images/admin/profile" "$admin/etc/profile"
install -m 0644 "$here/images/admin/motd" "$admin/etc/motd"
printf '/bin/sh\n' > "$admin/etc/shells"
mkdir -p "$admin/root/.ssh" "$admin/etc/dropbear" "$admin/run/berth" "$admin/run/admin" "$admin/var/log/berth"
: > "$admin/run/berth/control.sock"  # mount point for berth-init's control socket
chmod 0700 "$admin/root"

# A bad manifest fails the build, not the boot.
# Each service's seccomp filter is compiled here, once, not at every boot.
"$bin/berthctl" check --images usr/lib/berth/images --seccomp-cache usr/lib/berth/seccomp-cache etc/berth/services

# --- pack -----------------------------------------------------------------------------------
bash "$here/pack-root.sh" . "$image" "$epoch"
