#!/usr/bin/env python3
"""QEMU tests of the Berth image: boot it as a user does and check, for real, through SSH into the
admin container and the serial console. Run by CTest (label qemu), one scenario per test:

    run_qemu_tests.py --image-dir build/release/image --work-dir DIR SCENARIO

Scenarios:
  lifecycle   direct -kernel boot with a host config: the root through dm-verity, services,
              isolation, cgroup limits, kill -9 of sshd, logs and host key across a reboot,
              orderly poweroff
  uefi        OVMF + systemd-boot: slot A boots through dm-verity with the root hash of its
              entry, every service ready; boot time split
  power-cut   QEMU killed while logs are written: the next boot checks the state partition,
              every service comes up, the host key is unchanged
  bad-root    a missing root partition, one byte of the root slot changed: a clear console
              message (dm-verity refused the block) and a reboot (boot counting then falls back
              to the other slot), never a hang and never a root with bad data
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from berth_vm import OVMF_CODE, OVMF_VARS, VM, TestFailure  # noqa: E402

DEFAULT_SERVICES = ["logd", "netd", "sshd", "ntpd"]

SKIP = 77  # CTest's SKIP_RETURN_CODE: this machine cannot run the scenario
TOOLS = ["qemu-system-x86_64", "qemu-img", "qemu-io", "ssh", "ssh-keygen", "ssh-keyscan", "sgdisk"]
SCENARIO_NEEDS = {"lifecycle": ["dumpe2fs"], "uefi": ["mmd", "mcopy", OVMF_CODE, OVMF_VARS]}

# Test services given through the host config, as a user would add theirs.
MEMHOG = '''
[container]
image = "admin"
command = ["/bin/sh", "-c", "echo memhog starting; sleep 2; exec dd if=/dev/zero of=/dev/null bs=64M count=1"]
[resources]
memory = "16Mi"
[restart]
policy = "on-failure"
delay = "1s"
'''
FORKBOMB = '''
[container]
image = "admin"
command = ["/bin/sh", "-c", "echo forkbomb starting; while :; do sleep 600 & done"]
[resources]
pids = 20
[restart]
policy = "no"
'''
BROKEN = '''
[container]
imagee = "admin"
command = ["/bin/true"]
'''

checks_failed = []


def check(name, condition, detail=""):
    print("%s: %s%s" % ("PASS" if condition else "FAIL", name, "" if condition else " -- " + str(detail)), flush=True)
    if not condition:
        checks_failed.append(name)


def started_cleanly(services):
    """wait_services() already saw them ready: what it did not check is that each got there
    without a restart, and has a process."""
    return all(services[n]["restarts"] == 0 and isinstance(services[n]["pid"], int) for n in DEFAULT_SERVICES)


def host_config(vm, extra=""):
    return ('hostname = "berth-test"\n[ssh]\nauthorized_keys = ["%s"]\n%s' % (vm.public_key, extra))


def toml_string(text):
    return "'''" + text + "'''"


def state_partition_clean(vm):
    """dumpe2fs of the state partition (read from the qcow2 overlay) after the VM is off."""
    raw = os.path.join(vm.dir, "disk.raw")
    subprocess.run(["qemu-img", "convert", "-O", "raw", vm.disk, raw], check=True)
    table = subprocess.run(["sgdisk", "-p", raw], capture_output=True, text=True, check=True).stdout
    m = re.search(r"^\s*\d+\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s+\S+\s+state\s*$", table, re.M)
    if not m:
        raise TestFailure("no state partition in:\n" + table)
    start, end = int(m.group(1)), int(m.group(2))
    part = os.path.join(vm.dir, "state.img")
    subprocess.run(["dd", "if=" + raw, "of=" + part, "bs=512", "skip=%d" % start, "count=%d" % (end - start + 1),
                    "status=none"], check=True)
    out = subprocess.run(["dumpe2fs", "-h", part], capture_output=True, text=True).stdout
    os.unlink(raw)
    os.unlink(part)
    m = re.search(r"^Filesystem state:\s*(.+)$", out, re.M)
    return m.group(1).strip() if m else "unknown: " + out[:300]


def image_verity(image_dir):
    """The slot's description the build wrote (image/make-slot.sh): root_hash, data_blocks, ..."""
    with open(os.path.join(image_dir, "root.verity")) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


def check_verified_root(vm, how):
    """The running root is the dm-verity device berth-init made over slot A, opened with the root
    hash the boot entry names, which is the one the build computed."""
    verity = image_verity(vm.image_dir)
    expected = verity["root_hash"]
    cmdline = vm.ssh("cat /proc/cmdline").stdout
    words = dict(w.split("=", 1) for w in cmdline.split() if "=" in w)
    check(how + ": the command line names the image's root hash", words.get("berth.verity") == expected,
          (cmdline, expected))
    m = re.search(r"root: /dev/(dm-\d+) \(dm-verity over /dev/vda2, root hash ([0-9a-f]{64}), PARTLABEL=root-a", vm.console())
    check(how + ": berth-init opened the root through dm-verity with that hash", m and m.group(2) == expected,
          vm.console()[-3000:])
    dm = m.group(1) if m else "dm-0"
    sysfs = vm.ssh("cd /sys/block/%s && cat dm/name dm/uuid ro size && ls slaves" % dm).stdout.split()
    check(how + ": the device-mapper device is read-only, over vda2, as long as the data",
          sysfs == ["root", "berth-verity-" + expected, "1", str(int(verity["data_blocks"]) * 8), "vda2"], sysfs)
    mounts = vm.ssh("cat /proc/mounts").stdout
    root = [l.split() for l in mounts.splitlines() if l.split()[1:2] == ["/"]]
    check(how + ": the root mounted is that device (erofs, read-only)",
          root and root[-1][0] == "/dev/" + dm and root[-1][2] == "erofs" and root[-1][3].split(",")[0] == "ro", mounts)


def scenario_lifecycle(args):
    vm = VM(args.image_dir, args.work_dir, "lifecycle")
    extra = "[services]\nmemhog = %s\nforkbomb = %s\nbroken = %s\n" % (
        toml_string(MEMHOG), toml_string(FORKBOMB), toml_string(BROKEN))
    vm = VM(args.image_dir, args.work_dir, "lifecycle", host_config=host_config(vm, extra))
    vm.fresh_disk()
    vm.start()
    try:
        vm.wait_ssh()
        services = vm.wait_services(DEFAULT_SERVICES)
        check("every default service came up without a restart", started_cleanly(services), services)
        table = vm.ssh("berthctl services").stdout
        print(table)
        check("berthctl services shows the table", all(re.search(r"^%s\s+ready" % n, table, re.M) for n in DEFAULT_SERVICES), table)

        # Isolation: each service its own pid namespace and cgroup.
        pidns = {n: services[n].get("pid_namespace") for n in DEFAULT_SERVICES}
        cgroups = {n: services[n].get("cgroup") for n in DEFAULT_SERVICES}
        check("services run in separate pid namespaces", None not in pidns.values() and len(set(pidns.values())) == 4, pidns)
        check("services run in their own cgroups", all(cgroups[n] == "/berth/" + n for n in DEFAULT_SERVICES), cgroups)
        own = vm.ssh("cat /proc/1/cgroup; ls /proc | grep -c '^[0-9]'").stdout
        check("the admin container sees only its own processes", int(own.split()[-1]) < 20, own)

        # The host's hostname from the host config; the root is read-only.
        status = json.loads(vm.ssh("berthctl --json status").stdout)
        check("the host's root is read-only", status.get("root", {}).get("read_only") is True, status)
        check("booted from slot A", status.get("boot_slot") == "a", status)
        check_verified_root(vm, "direct boot")
        # The config came from fw_cfg: the ESP is mounted after the services, in the background.
        check("the ESP is mounted once the services are up", vm.wait_console(r"ESP /dev/vda1 mounted on /efi", timeout=60)
              and "host config from /sys/firmware/qemu_fw_cfg" in vm.console())
        # Expedited RCU grace periods speed up the boot only: normal ones once it has settled.
        deadline = time.monotonic() + 60
        while vm.ssh("cat /sys/kernel/rcu_expedited").stdout.strip() != "0" and time.monotonic() < deadline:
            time.sleep(1)
        check("RCU grace periods are normal again after the boot",
              vm.ssh("cat /sys/kernel/rcu_expedited").stdout.strip() == "0")
        # Once the boot has settled PID 1 unmaps the code it ran only then (pid1/src/resident_code.hpp):
        # what it maps is what it runs idle and answering (the figure is bench/image_bench.py's).
        settled = json.loads(vm.ssh("berthctl --json status").stdout)
        rss = settled.get("init_resident_kib")
        check(f"berth-init's resident memory is at most 1.5 MiB once the boot has settled ({rss} KiB)",
              isinstance(rss, int) and 64 < rss <= 1536, settled)
        ro = vm.ssh("touch /usr/x", check=False)
        check("the admin container's root is read-only", ro.returncode != 0 and "Read-only" in ro.stderr, ro.stderr)

        # A bad extra manifest is reported; the host still boots with every other service.
        broken = [s for s in vm.services() if s["name"] == "broken"]
        check("a bad manifest from the host config is reported", broken and broken[0]["state"] == "invalid"
              and "imagee" in (broken[0]["last_error"] or ""), broken)

        # cgroup v2 limits: the memory hog is OOM-killed (only it) and restarted.
        deadline = time.monotonic() + 90
        memhog = vm.service("memhog")
        while memhog["restarts"] < 1 and time.monotonic() < deadline:
            time.sleep(2)
            memhog = vm.service("memhog")
        check("memory limit: the service is OOM-killed and restarted",
              memhog["restarts"] >= 1 and (memhog["last_exit"] or {}).get("signal") == "SIGKILL", memhog)
        memlog = vm.ssh("berthctl logs memhog").stdout
        check("memory limit: the hog never finished its allocation", "records out" not in memlog, memlog)
        kernel = vm.ssh("cat /var/log/berth/kernel.log 2>/dev/null || true").stdout
        check("memory limit: the kernel logged a memory-cgroup OOM", "memory cgroup out of memory" in kernel.lower()
              or "oom" in kernel.lower(), kernel[-2000:])
        services = {s["name"]: s for s in vm.services()}
        check("memory limit: the other services were not touched",
              all(services[n]["state"] == "ready" and services[n]["restarts"] == 0 for n in DEFAULT_SERVICES), services)

        # pids limit: the fork bomb's forks are refused by the pids controller; the host goes on.
        deadline = time.monotonic() + 60
        bomb = vm.service("forkbomb")
        while bomb["state"] != "failed" and time.monotonic() < deadline:
            time.sleep(2)
            bomb = vm.service("forkbomb")
        bomb_log = vm.ssh("berthctl logs forkbomb").stdout
        kernel = vm.ssh("cat /var/log/berth/kernel.log").stdout
        check("pids limit: the fork bomb's forks are refused", "can't fork" in bomb_log, bomb_log[-1000:])
        check("pids limit: by the pids controller of its own cgroup",
              "fork rejected by pids controller in /berth/forkbomb" in kernel, kernel[-2000:])
        check("pids limit: the bomb ended and every default service is still ready", bomb["state"] == "failed" and all(
            s["state"] == "ready" for s in vm.services() if s["name"] in DEFAULT_SERVICES), bomb)

        # kill -9 of sshd: berth-init restarts it; we log in again.
        before = vm.service("sshd")
        fingerprint = vm.host_key_fingerprint()
        vm.ssh("berthctl kill sshd KILL", check=False, timeout=20)
        time.sleep(2)
        vm.wait_ssh(timeout=120)
        after = vm.wait_services(["sshd"])["sshd"]
        check("kill -9 of sshd: restarted with a new pid", after["restarts"] == before["restarts"] + 1
              and after["pid"] != before["pid"], (before, after))
        check("kill -9 of sshd: the same host key after the restart", vm.host_key_fingerprint() == fingerprint)

        # Logs survive a reboot; so does the SSH host key.
        marker = "berth-marker-%d" % int(time.time())
        vm.ssh("logger -t qemu-test %s" % marker)
        time.sleep(2)
        boot_id = vm.ssh("cat /proc/sys/kernel/random/boot_id").stdout.strip()
        # Ctrl-Alt-Del (the kernel turns it into SIGINT for PID 1): an orderly reboot.
        before_reboot = len(vm.console())
        vm.monitor("sendkey ctrl-alt-delete")
        m = vm.wait_console(r"berth-init starting", timeout=180, start=before_reboot)
        check("Ctrl-Alt-Del: services stopped before the reboot",
              re.search(r"all services stopped[\s\S]*rebooting", vm.console()[before_reboot:m.start()]) is not None,
              vm.console()[before_reboot:m.start()][-1500:])
        time.sleep(2)
        vm.wait_ssh()
        vm.wait_services(DEFAULT_SERVICES)
        check("the machine rebooted", vm.ssh("cat /proc/sys/kernel/random/boot_id").stdout.strip() != boot_id)
        logs = vm.ssh("cat /var/log/berth/syslog.log*").stdout
        check("syslog from before the reboot is still there", marker in logs, logs[-1500:])
        check("the SSH host key is the same after the reboot", vm.host_key_fingerprint() == fingerprint)

        # Orderly poweroff: services stop, the state filesystem is clean for the next boot.
        before_poweroff = len(vm.console())
        vm.ssh("berthctl poweroff", check=False, timeout=20)
        code = vm.wait_exit(120)
        console = vm.console()[before_poweroff:]
        check("poweroff: QEMU exited", code == 0, code)
        check("poweroff: berth-init stopped the services, then powered off",
              re.search(r"all services stopped[\s\S]*powering off", console) is not None, console[-2000:])
        state = state_partition_clean(vm)
        check("poweroff: the state filesystem is clean", state == "clean", state)
    finally:
        vm.kill()


STATIC_NETWORK = """[network]
dns = ["10.0.2.3"]
[[network.static]]
interface = "eth0"
address = "10.0.2.15/24"
gateway = "10.0.2.2"
"""


def scenario_uefi(args):
    # Through the firmware and systemd-boot, as a bare machine boots: the host config is on the
    # ESP (no fw_cfg), with static addressing (QEMU's user network is 10.0.2.0/24; its gateway
    # 10.0.2.2 and resolver 10.0.2.3).
    vm = VM(args.image_dir, args.work_dir, "uefi", uefi=True)
    vm.fresh_disk()
    vm.put_on_esp("berth/config.toml", host_config(vm, STATIC_NETWORK))
    vm.start()
    try:
        vm.wait_ssh(timeout=240)
        services = vm.wait_services(DEFAULT_SERVICES)
        check("UEFI boot: every default service came up without a restart", started_cleanly(services), services)
        status = json.loads(vm.ssh("berthctl --json status").stdout)
        check("UEFI boot: systemd-boot picked slot A", status.get("boot_slot") == "a", status)
        check_verified_root(vm, "UEFI boot")
        netd = vm.ssh("berthctl logs netd").stdout
        check("static network: netd configured eth0 from the host config", "eth0: static 10.0.2.15/24 via 10.0.2.2" in netd
              and "DHCP" not in netd, netd)
        addr = vm.ssh("ip -4 addr show eth0; ip route").stdout
        check("static network: the address and default route are set", "inet 10.0.2.15/24" in addr
              and "default via 10.0.2.2" in addr, addr)
        resolv = vm.ssh("cat /etc/resolv.conf").stdout
        check("static network: containers get the configured resolver", "nameserver 10.0.2.3" in resolv, resolv)
        check("the hostname comes from the host config", vm.ssh("cat /proc/sys/kernel/hostname").stdout.strip() == "berth-test")
        console = vm.console()
        check("the host config was read from the ESP", "host config from /efi/berth/config.toml" in console, console[-3000:])
        check("efivarfs is mounted on a UEFI boot", vm.wait_console(r"efivarfs mounted on /sys/firmware/efi/efivars", timeout=60))
        print("console:\n" + vm.console()[-1500:])
    finally:
        vm.kill()


def scenario_bad_root(args):
    vm = VM(args.image_dir, args.work_dir, "bad-root")
    vm = VM(args.image_dir, args.work_dir, "bad-root",
            cmdline_extra="berth.rootwait=2",
            cmdline=re.sub(r"root=\S+", "root=PARTLABEL=root-x", open(os.path.join(args.image_dir, "cmdline")).read().strip())
            + " berth.rootwait=2")
    vm.fresh_disk()
    vm.start(no_reboot=True)
    try:
        m = vm.wait_console(r"early boot failed: (.*)", timeout=120)
        check("a missing root partition is named on the console",
              "root partition 'PARTLABEL=root-x' not found" in m.group(1) and "root-a" in m.group(1), m.group(0))
        code = vm.wait_exit(60)
        after = vm.console()[m.end():]
        check("then berth-init reboots the machine (QEMU -no-reboot exits), no kernel panic",
              code == 0 and "rebooting in 10 s" in after and "Kernel panic" not in after, (code, after[-1500:]))
    finally:
        vm.kill()

    # One byte of slot A changed in the overlay: byte 512 of the erofs data, in the block the
    # mount reads first (the superblock's), and one erofs itself never looks at, so only dm-verity
    # can tell. The slot must never run: its mount is an I/O error, berth-init says so and reboots.
    vm = VM(args.image_dir, args.work_dir, "bad-root-verity", cmdline_extra="berth.rootwait=2")
    vm.fresh_disk()
    raw = os.path.join(args.image_dir, "disk.raw")
    table = subprocess.run(["sgdisk", "-p", raw], capture_output=True, text=True).stdout
    start = int(re.search(r"^\s*\d+\s+(\d+)\s+\d+\s+\S+\s+\S+\s+\S+\s+root-a\s*$", table, re.M).group(1))
    offset = start * 512 + 512
    with open(raw, "rb") as f:
        f.seek(offset)
        original = f.read(1)[0]
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P %d %d 1" % (original ^ 0xFF, offset), vm.disk], check=True,
                   capture_output=True)
    expected = image_verity(args.image_dir)["root_hash"]
    vm.start(no_reboot=True)
    try:
        m = vm.wait_console(r"early boot failed: (.*)", timeout=120)
        check("a changed byte of the root slot: the mount is refused as dm-verity's I/O error, named on the console",
              m.group(1).rstrip().startswith("the root slot cannot be read or does not match its root hash (dm-verity): "
                                    "mount root /dev/dm-0 (erofs, dm-verity over /dev/vda2, root hash %s, " % expected)
              and m.group(1).rstrip().endswith("Input/output error"), m.group(0))
        before = vm.console()[:m.start()]
        check("the kernel names the block that does not verify (data block 0)",
              re.search(r"verity: \d+:\d+: data block 0 is corrupted", before) is not None, before[-2000:])
        check("the slot never ran (no root mounted)", "root: /dev/" not in before, before[-2000:])
        code = vm.wait_exit(60)
        after = vm.console()[m.end():]
        check("then berth-init reboots the machine, no kernel panic",
              code == 0 and "rebooting in 10 s" in after and "Kernel panic" not in after, (code, after[-1500:]))
    finally:
        vm.kill()


def scenario_power_cut(args):
    vm = VM(args.image_dir, args.work_dir, "power-cut")
    vm = VM(args.image_dir, args.work_dir, "power-cut", host_config=host_config(vm))
    vm.fresh_disk()
    vm.start()
    try:
        vm.wait_ssh()
        vm.wait_services(DEFAULT_SERVICES)
        fingerprint = vm.host_key_fingerprint()
        # Writes in flight when the power goes: a busy writer on the state partition (logs).
        vm.ssh("(i=0; while [ $i -lt 100000 ]; do logger -t flood line-$i; i=$((i+1)); done) >/dev/null 2>&1 &",
               check=False, timeout=20)
        time.sleep(3)
        vm.kill()  # SIGKILL of QEMU: what the guest had not written is lost
        vm.start()
        vm.wait_console(r"berth-init starting", timeout=180)
        console = vm.console()
        check("after a power cut the state partition is checked before use",
              re.search(r"state was not cleanly unmounted, check forced", console) is not None, console[-3000:])
        check("after a power cut the host boots without the tmpfs fallback", "nothing will persist" not in console)
        vm.wait_ssh()
        services = vm.wait_services(DEFAULT_SERVICES)
        check("after a power cut every default service came up without a restart", started_cleanly(services), services)
        check("after a power cut the SSH host key is the same", vm.host_key_fingerprint() == fingerprint)
    finally:
        vm.kill()


SCENARIOS = {"lifecycle": scenario_lifecycle, "uefi": scenario_uefi, "bad-root": scenario_bad_root,
             "power-cut": scenario_power_cut}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    missing = [t for t in TOOLS + SCENARIO_NEEDS.get(args.scenario, []) if not (shutil.which(t) or os.path.exists(t))]
    if missing:
        print("SKIP: %s needs %s" % (args.scenario, ", ".join(missing)))
        return SKIP
    for f in ("disk.qcow2", "vmlinuz", "initramfs.img", "cmdline"):
        if not os.path.exists(os.path.join(args.image_dir, f)):
            print("missing %s/%s: build the image first (cmake --build build/release --target image)" % (args.image_dir, f))
            return 2
    os.makedirs(args.work_dir, exist_ok=True)
    try:
        SCENARIOS[args.scenario](args)
    except TestFailure as e:
        print("FAIL: %s" % e, flush=True)
        checks_failed.append(args.scenario)
    print("%s: %d check(s) failed" % (args.scenario, len(checks_failed)) if checks_failed else "%s: all checks passed" % args.scenario)
    return 1 if checks_failed else 0


if __name__ == "__main__":
    sys.exit(main())
