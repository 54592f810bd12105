#!/usr/bin/env python3
"""Figures of the Berth image, in one run (docs/benchmarks.md):
  - root image size, with and without the kernel modules (target: <= 8 MiB without);
  - compressed qcow2 size (target: <= 40 MiB);
  - boot time under QEMU TCG, split into firmware (+ boot loader), kernel, and userspace up to
    every service ready (target userspace: <= 1 s), for UEFI (OVMF + systemd-boot) and direct
    -kernel boots; medians of N boots.

Firmware = QEMU start -> kernel start, from the host's clock and the guest's uptime at the
ready line; kernel = the guest's uptime when it ran /init (the kernel's own timestamp);
userspace = berth-init's "all services ready" line, which carries CLOCK_BOOTTIME.

    python3 bench/image_bench.py [--build build/release] [--boots 3] [--out FILE.md] [--verity-compare]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "qemu-tests"))
from berth_vm import VM  # noqa: E402

MiB = 1024 * 1024


def erofs_size_without_modules(tree):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "root.erofs")
        subprocess.run(["mkfs.erofs", "--quiet", "-zlz4hc,12", "-C65536", "--all-root",
                        "--exclude-regex=^usr/lib/modules", out, tree], check=True, capture_output=True)
        return os.path.getsize(out)


def one_boot(image_dir, work, uefi, index, cmdline=None, label=None):
    name = "%s-%d" % (label or ("uefi" if uefi else "direct"), index)
    key_holder = VM(image_dir, work, name, uefi=uefi)
    config = 'hostname = "bench"\n[ssh]\nauthorized_keys = ["%s"]\n' % key_holder.public_key
    vm = VM(image_dir, work, name, uefi=uefi, host_config=config, cmdline=cmdline)
    vm.fresh_disk()
    # A second, later boot is the steady state: the first one formats the state partition.
    results = []
    for boot in range(2):
        vm.start()
        m = vm.wait_console(r"boot: all (\d+) services ready at ([\d.]+) s \(userspace ([\d.]+) s\)", timeout=300)
        host_elapsed = time.monotonic() - vm.started_at
        ready_at, userspace = float(m.group(2)), float(m.group(3))
        kernel_m = re.search(r"\[\s*([\d.]+)\] Run /init as init process", vm.console())
        kernel = float(kernel_m.group(1)) if kernel_m else ready_at - userspace
        # The initramfs's part: /init to the root mounted (modules, disks, dm-verity, the mount).
        root_m = re.search(r"\[\s*([\d.]+)\] berth: (?:info|warning): root: ", vm.console())
        results.append({"firmware": max(0.0, host_elapsed - ready_at), "kernel": kernel, "userspace": userspace,
                        "total": host_elapsed, "services": int(m.group(1)),
                        "init_to_root": float(root_m.group(1)) - kernel if root_m else float("nan")})
        # berth-init's own resident memory once the boot has settled (the status request itself
        # runs PID 1's control path, as any berthctl does).
        vm.wait_ssh()
        time.sleep(3)
        status = json.loads(vm.ssh("berthctl --json status").stdout)
        results[-1]["init_kib"] = status.get("init_resident_kib", 0)
        # An orderly poweroff between boots, as a user would.
        vm.ssh("berthctl poweroff", check=False, timeout=20)
        vm.wait_exit(120)
    return results


def without_verity(cmdline):
    """The same entry, unverified: its berth.verity* words dropped."""
    return " ".join(w for w in cmdline.split() if not w.startswith("berth.verity"))


def verity_compare(args, image_dir):
    """Interleaved direct boots of the same disk, verified and not: what dm-verity costs."""
    with open(os.path.join(image_dir, "root.verity")) as f:
        verity = dict(line.strip().split("=", 1) for line in f if "=" in line)
    data, slot = int(verity["data_bytes"]), int(verity["slot_bytes"])
    with open(os.path.join(image_dir, "cmdline")) as f:
        verified = f.read().strip()
    modes = {"verity": verified, "no verity": without_verity(verified)}
    if modes["verity"] == modes["no verity"]:
        sys.exit("image/cmdline has no berth.verity words: nothing to compare")
    work = tempfile.mkdtemp(prefix="berth-verity-bench-")
    runs = {mode: {"first": [], "later": []} for mode in modes}
    for i in range(args.boots):
        for mode, cmdline in modes.items():
            first, later = one_boot(image_dir, work, False, i, cmdline, mode.replace(" ", "-"))
            runs[mode]["first"].append(first)
            runs[mode]["later"].append(later)
            print("round %d, %s: userspace %.2f / %.2f s" % (i, mode, first["userspace"], later["userspace"]), flush=True)
    lines = ["| figure | verity | no verity | ratio |", "|---|---|---|---|"]
    for boot in ("first", "later"):
        for key, what in (("userspace", "userspace to ready"), ("init_to_root", "/init to root mounted"),
                          ("kernel", "kernel to /init")):
            v = statistics.median(r[key] for r in runs["verity"][boot])
            n = statistics.median(r[key] for r in runs["no verity"][boot])
            lines.append("| direct -kernel, %s boot: %s | %.2f s | %.2f s | %.3fx |" % (boot, what, v, n, v / n))
    both = [r["userspace"] for b in ("first", "later") for r in runs["verity"][b]]
    plain = [r["userspace"] for b in ("first", "later") for r in runs["no verity"][b]]
    ratio = statistics.median(both) / statistics.median(plain)
    lines.append("| userspace to ready, all boots | %.2f s | %.2f s | **%.3fx** (target <= 1.05x) |"
                 % (statistics.median(both), statistics.median(plain), ratio))
    # Neighbouring boots share the machine's load: the median of their ratios is steadier.
    pairs = [v["userspace"] / n["userspace"] for b in ("first", "later")
             for v, n in zip(runs["verity"][b], runs["no verity"][b])]
    lines.append("| userspace, median of the %d neighbouring pairs' ratios | | | %.3fx |"
                 % (len(pairs), statistics.median(pairs)))
    lines.append("| root slot: data / hash tree | %d B | %d B | tree = %.2f %% of the data |"
                 % (data, slot - data, 100.0 * (slot - data) / data))
    report = "\n".join(lines) + ("\n\nInterleaved (verity, no verity) x %d rounds, each a first and a later boot; "
                                 "medians; QEMU TCG, 2 vCPUs, 1 GiB.\n" % args.boots)
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(REPO, "build/release"))
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--out")
    parser.add_argument("--verity-compare", action="store_true",
                        help="only compare boots with and without dm-verity (same disk, interleaved)")
    args = parser.parse_args()
    image_dir = os.path.join(args.build, "image")
    if args.verity_compare:
        return verity_compare(args, image_dir)
    root = os.path.join(args.build, "rootfs/root.erofs")
    tree = os.path.join(args.build, "rootfs/tree")

    root_size = os.path.getsize(root)
    root_no_modules = erofs_size_without_modules(tree)
    qcow2 = os.path.getsize(os.path.join(image_dir, "disk.qcow2"))
    lines = ["| figure | value | target |", "|---|---|---|",
             "| root image (erofs, lz4hc), without kernel modules | %.2f MiB | <= 8 MiB |" % (root_no_modules / MiB),
             "| root image with the host's kernel modules | %.2f MiB | |" % (root_size / MiB),
             "| disk.qcow2 (compressed; ESP + both slots + empty state) | %.2f MiB | <= 40 MiB |" % (qcow2 / MiB)]

    work = tempfile.mkdtemp(prefix="berth-image-bench-")
    for uefi in (True, False):
        first, steady = [], []
        for i in range(args.boots):
            r = one_boot(image_dir, work, uefi, i)
            first.append(r[0])
            steady.append(r[1])
        for label, runs in (("first boot", first), ("later boot", steady)):
            med = {k: statistics.median(r[k] for r in runs) for k in ("firmware", "kernel", "userspace", "total")}
            lines.append("| %s, %s: firmware / kernel / userspace to %d services ready | %.2f / %.2f / %.2f s (QEMU start to ready %.2f s) | userspace <= 1 s |"
                         % ("UEFI (OVMF + systemd-boot)" if uefi else "direct -kernel", label, runs[0]["services"],
                            med["firmware"], med["kernel"], med["userspace"], med["total"]))
        init_kib = statistics.median(r["init_kib"] for r in first + steady)
        lines.append("| berth-init's resident memory in the %s guest, idle (`init_resident_kib`) | %d KiB (%.2f MiB) | |"
                     % ("UEFI" if uefi else "direct-boot", init_kib, init_kib / 1024))
    report = "\n".join(lines) + "\n\nMedians of %d boots each, QEMU TCG, 2 vCPUs, 1 GiB.\n" % args.boots
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
