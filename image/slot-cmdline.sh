#!/usr/bin/env bash
# Prints a slot's kernel command line: the one place it is made, for the disk's boot entries
# (make-disk.sh) and an update bundle's (make-bundle.sh, with @SLOT@ for the slot letter).
#
#   slot-cmdline.sh SLOT ROOT.VERITY [EXTRA WORDS]
#
# root=PARTLABEL=root-<slot> and berth.slot: which slot berth-init opens; berth.verity*: through
# dm-verity with this root hash (verity-cmdline.sh); ro: the root is read-only erofs; the console
# on the serial port; panic=-1 reboots at once on a panic, so the boot counter moves on.
set -euo pipefail
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: slot-cmdline.sh SLOT ROOT.VERITY [EXTRA]" >&2; exit 2; }
slot=$1 verity=$2 extra=${3:-}
verity_words=$(bash "$(dirname "${BASH_SOURCE[0]}")/verity-cmdline.sh" "$verity")
echo "root=PARTLABEL=root-$slot berth.slot=$slot $verity_words ro console=ttyS0,115200 panic=-1${extra:+ $extra}"
