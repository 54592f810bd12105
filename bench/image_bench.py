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

    python3 bench/image_bench.py [--build build/release] [--boots 3] [--out FILE.md]
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


def one_boot(image_dir, work, uefi, index):
    name = "%s-%d" % ("uefi" if uefi else "direct", index)
    key_holder = VM(image_dir, work, name, uefi=uefi)
    config = 'hostname = "bench"\n[ssh]\nauthorized_keys = ["%s"]\n' % key_holder.public_key
    vm = VM(image_dir, work, name, uefi=uefi, host_config=config)
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
        results.append({"firmware": max(0.0, host_elapsed - ready_at), "kernel": kernel, "userspace": userspace,
                        "total": host_elapsed, "services": int(m.group(1))})
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(REPO, "build/release"))
    parser.add_argument("--boots", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args()
    image_dir = os.path.join(args.build, "image")
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
