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
  update      OVMF + systemd-boot: bad bundles over SSH refused with slot B unchanged (by hash);
              N+1 applied from standard input, booted and blessed; a broken N+2 tried and rolled
              back with no user action, then refused unless forced
  blessing    OVMF + systemd-boot with boot counting: a healthy trial boot is blessed (entry
              renamed, record); a failing critical service reboots until the tries are spent and
              slot B boots, which records slot A's failure; a hung PID 1 is reset by the watchdog
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
SCENARIO_NEEDS = {"lifecycle": ["dumpe2fs"], "uefi": ["mmd", "mcopy", OVMF_CODE, OVMF_VARS],
                  "update": ["mmd", "mdir", "veritysetup", "mkfs.erofs", OVMF_CODE, OVMF_VARS],
                  "update-faults": ["mmd", "mdir", "veritysetup", "mkfs.erofs", OVMF_CODE, OVMF_VARS],
                  "blessing": ["mmove", "mdir", "mcopy", "debugfs", OVMF_CODE, OVMF_VARS]}

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


# A trial boot's health window, short for the tests.
SHORT_TRIAL = """[update]
health_window = "3s"
"""
# A critical service that always fails: the trial boots of its slot fail.
DOOMED = """critical = true
[container]
image = "admin"
command = ["/bin/sh", "-c", "echo doomed; exit 3"]
[restart]
policy = "no"
"""


def boot_record(vm, slot):
    text = vm.state_file("/lib/berth/update/boot-%s.json" % slot)
    return json.loads(text) if text else None


def poweroff(vm):
    vm.ssh("berthctl poweroff", check=False, timeout=20)
    return vm.wait_exit(120)


def scenario_blessing(args):
    # (a) Slot A's entry as an update leaves it (berth-a+3.conf): systemd-boot counts the try
    # (berth-a+2-1.conf), berth-init blesses the boot once healthy for the window.
    vm = VM(args.image_dir, args.work_dir, "bless", uefi=True)
    vm = VM(args.image_dir, args.work_dir, "bless", uefi=True, host_config=host_config(vm, SHORT_TRIAL))
    vm.fresh_disk()
    vm.rename_on_esp("loader/entries/berth-a.conf", "loader/entries/berth-a+3.conf")
    vm.start()
    try:
        m = vm.wait_console(r"trial boot of slot (\w+) \((\S+), (\d+) tries left", timeout=240)
        check("a trial boot: slot A's counted entry, 2 tries left after this one",
              m.groups() == ("a", "berth-a+2-1.conf", "2"), m.group(0))
        m = vm.wait_console(r"boot blessed: (\S+) is now (\S+) \((.*)\)", timeout=120)
        check("blessed after the health window", m.groups() == ("berth-a+2-1.conf", "berth-a.conf",
                                                                "every critical service healthy for 3s"), m.group(0))
        check("the watchdog is armed", "watchdog /dev/watchdog0 armed: 30 s" in vm.console(), vm.console()[-2000:])
        vm.wait_ssh()
        check("poweroff after the blessing", poweroff(vm) == 0)
        entries = vm.boot_entries()
        check("the entry lost its counter on the ESP", entries == ["berth-a.conf", "berth-b.conf"], entries)
        record = boot_record(vm, "a")
        check("the record says slot A was blessed", record is not None and
              (record["outcome"], record["slot"], record["entry"], record["tries_left"], record["step"]) ==
              ("blessed", "a", "berth-a+2-1.conf", 2, "healthy") and record["version"] != "", record)
    finally:
        vm.kill()

    # (b) A critical service that always fails, slot A's entry with 2 tries: A reboots itself
    # twice, then slot B (the fallback, no counter) boots and records why A failed.
    vm = VM(args.image_dir, args.work_dir, "rollback", uefi=True)
    vm = VM(args.image_dir, args.work_dir, "rollback", uefi=True,
            host_config=host_config(vm, SHORT_TRIAL + "[services]\ndoomed = " + toml_string(DOOMED)))
    vm.fresh_disk()
    vm.rename_on_esp("loader/entries/berth-a.conf", "loader/entries/berth-a+2.conf")
    vm.start()
    try:
        m = vm.wait_console(r"slot a failed \(tries spent\): (.*)", timeout=420)
        console = vm.console()
        failures = re.findall(r"trial boot failed \(critical service\): critical service 'doomed' failed", console)
        check("slot A was tried twice, each try ended in a reboot", len(failures) == 2 and
              len(re.findall(r"berth-init starting", console[:m.start()])) == 3, console[-3000:])
        check("slot B's boot says why slot A failed",
              m.group(1).startswith("critical service: critical service 'doomed' failed") and
              m.group(1).strip().endswith("slot b booted instead"), m.group(0))
        check("slot B's entry has no counter: nothing to bless",
              "boot entry berth-b.conf has no boot counter: nothing to bless" in console[m.start():],
              console[-3000:])
        vm.wait_ssh()
        status = json.loads(vm.ssh("berthctl --json status").stdout)
        check("slot B is up", status.get("boot_slot") == "b", status)
        check("poweroff on slot B", poweroff(vm) == 0)
        entries = vm.boot_entries()
        check("slot A's entry has spent its tries", entries == ["berth-a+0-2.conf", "berth-b.conf"], entries)
        record = boot_record(vm, "a")
        check("the record says slot A failed, tries spent, and why", record is not None and
              (record["outcome"], record["entry"], record["tries_left"], record["step"]) ==
              ("failed", "berth-a+0-2.conf", 0, "tries spent") and "'doomed' failed" in record["reason"], record)
    finally:
        vm.kill()

    # (c) A hung PID 1 (test hook): the watchdog resets the machine (a second boot on the console).
    vm = VM(args.image_dir, args.work_dir, "watchdog", cmdline_extra="berth.test.hang=after-ready",
            qemu_args=["-device", "i6300esb", "-action", "watchdog=reset"])
    vm.fresh_disk()
    vm.start()
    try:
        m = vm.wait_console(r"watchdog /dev/watchdog0 armed: (\d+) s", timeout=180)
        hung = vm.wait_console(r"PID 1 hangs now", timeout=180, start=m.end())
        started = time.monotonic()
        again = vm.wait_console(r"berth-init starting", timeout=120, start=hung.end())
        waited = time.monotonic() - started
        check("the hung PID 1 was reset by the watchdog, after about its timeout",
              again is not None and 20 <= waited <= 100, "%.0f s" % waited)
        check("a reset, not an orderly reboot", "rebooting" not in vm.console()[hung.end():again.start()],
              vm.console()[hung.end():again.start()][-1500:])
    finally:
        vm.kill()


SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
def derive(args, version, *extra):
    """Another version of the built image, signed into a bundle (image/derive-version.sh)."""
    out = os.path.join(args.work_dir, "version-" + version + ("-" + "-".join(e.strip("-") for e in extra if e.startswith("--")) if extra else ""))
    build = os.path.dirname(os.path.abspath(args.image_dir))
    subprocess.run(["bash", os.path.join(SOURCE_DIR, "image", "derive-version.sh"), "--build", build, "--version", version,
                    "--out", out] + list(extra), check=True, capture_output=True)
    return os.path.join(out, "update.bundle")


def bundle_layout(path):
    """Offsets of a bundle's parts: (header bytes, {part: (offset, size)})."""
    with open(path, "rb") as f:
        head = f.read(16)
        manifest_len = int.from_bytes(head[12:16], "little")
        manifest = f.read(manifest_len).decode()
        count = int.from_bytes(f.read(4), "little")
    header = 16 + manifest_len + 4 + 96 * count
    sizes = dict(re.findall(r"^(root|kernel|initramfs)\.size = (\d+)$", manifest, re.M))
    parts, at = {}, header
    for name in ("root", "kernel", "initramfs"):
        parts[name] = (at, int(sizes[name]))
        at += int(sizes[name])
    return header, parts


def altered(path, out, flip=None, keep=None):
    """A copy of a bundle with one byte flipped, or cut after `keep` bytes."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    if flip is not None:
        data[flip] ^= 1
    if keep is not None:
        data = data[:keep]
    with open(out, "wb") as f:
        f.write(data)
    return out


def update_status(vm):
    return json.loads(vm.ssh("berthctl --json update status").stdout)


def built_version(args):
    """The version of the image under test (its build manifest)."""
    with open(os.path.join(args.image_dir, "build-manifest.txt")) as f:
        return re.search(r"^berth\.version=(\S+)$", f.read(), re.M).group(1)


def uefi_trial_vm(args, name):
    """A UEFI machine on a fresh disk whose trial boots are blessed after a 3 s health window."""
    vm = VM(args.image_dir, args.work_dir, name, uefi=True)
    vm = VM(args.image_dir, args.work_dir, name, uefi=True, host_config=host_config(vm, SHORT_TRIAL))
    vm.fresh_disk()
    return vm


def scenario_update(args):
    """N on a fresh disk; bad bundles refused with slot B unchanged; N+1 applied over SSH from
    standard input, booted and blessed; N+2 (a critical service that fails) applied, tried and
    rolled back with no user action; N+2 refused afterwards unless forced."""
    base = built_version(args)
    n1, n2 = base + ".1", base + ".2"
    good = derive(args, n1)
    broken_service = os.path.join(args.work_dir, "broken.toml")
    with open(broken_service, "w") as f:
        f.write(DOOMED)  # a version whose critical service never comes up
    broken = derive(args, n2, "--service", broken_service)
    header, parts = bundle_layout(good)
    bad = {
        "a bad signature": (altered(good, os.path.join(args.work_dir, "bad-signature"), flip=header - 5),
                            "does not match the manifest"),
        "an unknown key": (derive(args, n1, "--other-key"), "not trusted here"),
        "a flipped byte in the root": (altered(good, os.path.join(args.work_dir, "flip-root"), flip=parts["root"][0] + 12345),
                                       "part root: its SHA-256"),
        "a flipped byte in the kernel": (altered(good, os.path.join(args.work_dir, "flip-kernel"), flip=parts["kernel"][0] + 999),
                                         "part kernel: its SHA-256"),
        "a flipped byte in the initramfs": (altered(good, os.path.join(args.work_dir, "flip-initramfs"),
                                                    flip=sum(parts["initramfs"]) - 1), "part initramfs: its SHA-256"),
        "a truncated stream": (altered(good, os.path.join(args.work_dir, "truncated"), keep=parts["root"][0] + parts["root"][1] // 2),
                               "truncated bundle"),
        "the wrong architecture": (derive(args, n1, "--architecture", "aarch64"), "the bundle is for aarch64, this host is x86_64"),
        "an older version": (derive(args, "0.0.1"), "is not newer than the running " + base),
        "a root one byte bigger than its slot": (derive(args, n1, "--root-bytes", str(96 * 1048576 + 1)),
                                                 "its slot only 100663296"),
        "an ESP too full for the kernel": (derive(args, n1, "--kernel-bytes", str(60 * 1048576)), "on the ESP, which has"),
    }

    vm = uefi_trial_vm(args, "update")
    vm.start()
    try:
        vm.wait_ssh()
        vm.wait_services(DEFAULT_SERVICES)
        status = update_status(vm)
        check("a fresh disk: slot A booted and good, slot B the fallback",
              status["booted_slot"] == "a" and status["slots"]["a"]["state"] == "good" and
              status["slots"]["b"]["version"] == base + "~fallback", status)
        for what, (bundle, says) in bad.items():
            r = vm.ssh("berthctl update apply -", check=False, timeout=300, input_file=bundle)
            check("refused: %s (%s)" % (what, says), r.returncode == 1 and says in r.stderr and "nothing was written" in r.stderr,
                  r.stderr[-600:])
        check("poweroff after the bad bundles", poweroff(vm) == 0)
    finally:
        vm.kill()
    check("slot B's bytes are unchanged by every bad bundle",
          vm.partition_sha256("root-b") == vm.partition_sha256("root-b", os.path.join(args.image_dir, "disk.raw")))
    entries = vm.boot_entries()
    check("the ESP's entries are unchanged", entries == ["berth-a.conf", "berth-b.conf"], entries)

    vm.start()
    try:
        vm.wait_ssh()
        started = time.monotonic()
        r = vm.ssh("berthctl update apply -", check=False, timeout=600, input_file=good)
        applied = time.monotonic() - started
        print("apply of %s (%d bytes) over SSH: %.1f s" % (n1, os.path.getsize(good), applied), flush=True)
        check("N+1 applied over SSH from standard input",
              r.returncode == 0 and "installed %s in slot b (berth-b+3.conf)" % n1 in r.stdout, r.stdout + r.stderr)
        status = update_status(vm)
        check("status: slot B is trying N+1 with 3 tries", status["slots"]["b"]["state"] == "trying" and
              status["slots"]["b"]["version"] == n1 and status["slots"]["b"]["tries_left"] == 3 and
              status["last_update"]["outcome"] == "installed", status)
        mark = len(vm.console())
        rebooted = time.monotonic()
        vm.ssh("berthctl reboot", check=False, timeout=20)
        m = vm.wait_console(r"boot blessed: (\S+) is now (\S+)", timeout=400, start=mark, recover_stalls=120)
        print("from reboot to N+1 blessed: %.1f s (UEFI, health window 3 s)" % (time.monotonic() - rebooted), flush=True)
        check("N+1 booted from slot B and was blessed", m.groups() == ("berth-b+2-1.conf", "berth-b.conf"), m.group(0))
        vm.wait_ssh()
        status = update_status(vm)
        check("status on N+1: booted slot B, running N+1, both slots good",
              status["booted_slot"] == "b" and status["running_version"] == n1 and
              status["slots"]["b"]["state"] == "good" and status["slots"]["a"]["state"] == "good", status)

        r = vm.ssh("berthctl update apply -", check=False, timeout=600, input_file=broken)
        check("N+2 (broken) applied to slot A", r.returncode == 0 and "in slot a (berth-a+3.conf)" in r.stdout, r.stdout + r.stderr)
        mark, stalls = len(vm.all_console()), vm.stalls
        rebooted = time.monotonic()
        vm.ssh("berthctl reboot", check=False, timeout=20)
        m = vm.wait_console(r"slot a failed \(tries spent\): (.*)", timeout=900, start=len(vm.console()), recover_stalls=120)
        print("from reboot into N+2 to back on N+1 (3 tries): %.1f s" % (time.monotonic() - rebooted), flush=True)
        console = vm.all_console()[mark:]
        failed = len(re.findall(r"trial boot failed \(critical service\)", console))
        check("N+2 was tried 3 times, each try failed its critical service (or stalled the emulator: %d)" % (vm.stalls - stalls),
              failed >= 1 and failed + vm.stalls - stalls == 3, console[-3000:])
        vm.wait_ssh()
        status = update_status(vm)
        check("back on N+1 in slot B, with no user action", status["booted_slot"] == "b" and status["running_version"] == n1, status)
        record = status["boots"].get("a", {})
        check("status says N+2 failed in slot A, and why",
              status["slots"]["a"]["state"] == "bad" and record.get("outcome") == "failed" and
              record.get("version") == n2 and "critical service" in record.get("reason", "") and n2 in status["failed_versions"],
              status)
        r = vm.ssh("berthctl update apply -", check=False, timeout=300, input_file=broken)
        check("N+2 is not applied again unforced", r.returncode == 1 and "already failed to boot on this host (--force" in r.stderr,
              r.stderr[-600:])
        check("poweroff on N+1", poweroff(vm) == 0)
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


def state_bytes(vm):
    return json.loads(vm.ssh("berthctl --json status").stdout).get("state", {}).get("bytes", 0)


def scenario_power_cut(args):
    vm = VM(args.image_dir, args.work_dir, "power-cut")
    vm = VM(args.image_dir, args.work_dir, "power-cut", host_config=host_config(vm))
    vm.fresh_disk(size="1G")  # a disk larger than the image: the state partition takes the rest
    vm.start()
    try:
        vm.wait_ssh()
        vm.wait_services(DEFAULT_SERVICES)
        check("first boot on a 1 GiB disk: the state partition grew to its end",
              re.search(r"state partition /dev/vda4 grown to the end of /dev/vda: 128 MiB -> 766 MiB", vm.console()) is not None,
              vm.console()[-3000:])
        first = state_bytes(vm)
        check(f"the state filesystem spans the grown partition ({first >> 20} MiB)", first > 700 << 20, first)
        fingerprint = vm.host_key_fingerprint()
        # Writes in flight when the power goes: a busy writer on the state partition (logs).
        vm.ssh("(i=0; while [ $i -lt 100000 ]; do logger -t flood line-$i; i=$((i+1)); done) >/dev/null 2>&1 &",
               check=False, timeout=20)
        time.sleep(3)
        vm.kill()  # SIGKILL of QEMU: what the guest had not written is lost
        # Meanwhile the disk was enlarged (as a cloud volume is): partition and filesystem follow.
        subprocess.run(["qemu-img", "resize", "-q", vm.disk, "1536M"], check=True)
        vm.start()
        vm.wait_console(r"berth-init starting", timeout=180)
        console = vm.console()
        check("after a power cut the state partition is checked before use",
              re.search(r"state was not cleanly unmounted, check forced", console) is not None, console[-3000:])
        check("after a power cut the host boots without the tmpfs fallback", "nothing will persist" not in console)
        check("the enlarged disk: partition and filesystem grew (online resize)",
              "grown to the end of /dev/vda: 766 MiB -> 1278 MiB" in console and "state filesystem grown" in console,
              console[-3000:])
        vm.wait_ssh()
        services = vm.wait_services(DEFAULT_SERVICES)
        check("after a power cut every default service came up without a restart", started_cleanly(services), services)
        check("after a power cut the SSH host key is the same", vm.host_key_fingerprint() == fingerprint)
        second = state_bytes(vm)
        check(f"the state filesystem is larger after the resize ({second >> 20} MiB)", second > first + (400 << 20), (first, second))
    finally:
        vm.kill()


# The steps of an apply at which the power-cut matrix cuts (update::kApplySteps after the first,
# which writes nothing), in order. Up to entry-synced the target slot must end without an entry.
CUT_STEPS = ["target-cleared", "root-started", "root-half", "root-written", "root-verified", "kernel-synced",
             "initramfs-synced", "entry-synced", "entry-renamed", "installed"]
# A privileged one-shot service that writes the same number of bytes an apply writes to the same
# partition with dd conv=fsync, timed in the guest (from /proc/uptime, 10 ms).
DD_BENCH = """description = "dd of an update's bytes to the inactive slot, for the apply figure"
privileged = true
[container]
image = "admin"
command = ["/bin/sh", "-c", "read a x </proc/uptime; dd if=%(source)s of=%(target)s bs=4096 count=%(blocks)d conv=fsync 2>/dev/null; read b x </proc/uptime; echo dd-seconds $a $b"]
[restart]
policy = "no"
"""


def cold_boot(vm, timeout=300):
    """A new QEMU process on the same disk (no kexec, no warm reset): after a power cut."""
    vm.start()
    vm.wait_console(r"berth-init starting", timeout=timeout, recover_stalls=120)


def cut_power_at(vm, bundle, step, flags=""):
    """`berthctl update apply --pause-at STEP -` over SSH; when the job says it is paused there, the
    power goes (SIGKILL of QEMU: what the guest had not written is lost)."""
    mark = len(vm.console())
    with open(bundle, "rb") as f:
        client = subprocess.Popen(vm.ssh_command("berthctl update apply %s --pause-at %s -" % (flags, step)), stdin=f,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        vm.wait_console(r"paused at step %s " % re.escape(step), timeout=300, start=mark)
    finally:
        vm.kill()
        client.kill()
        client.wait()


def scenario_update_faults(args):
    """The update's faults: the power cut at 10 steps of an apply and 2 of the new slot's first
    boots (each followed by a cold boot that must come up on a working slot, with `update status`
    telling what happened), apply against dd, a byte flipped in the freshly written slot
    (dm-verity), and a version whose PID 1 hangs: both rolled back within the tries."""
    base = built_version(args)
    n1, n2, n3 = base + ".1", base + ".2", base + ".3"
    good, second, hanging = derive(args, n1), derive(args, n2), derive(args, n3, "--cmdline-extra", "berth.test.hang=after-ready")

    vm = uefi_trial_vm(args, "update-faults")
    vm.start()
    try:
        vm.wait_ssh()
        booted, running = "a", base
        # (1) Power cuts during the apply: each a cold boot on a working slot; the status says how far it got.
        for step in CUT_STEPS:
            target = "b" if booted == "a" else "a"
            cut_power_at(vm, good, step, "--allow-downgrade")
            cold_boot(vm)
            if step == "installed":
                break  # the new slot's first boots are cut below
            vm.wait_ssh()
            status = update_status(vm)
            last = status.get("last_update") or {}
            installed = status["slots"][target]["state"] != "empty"
            if step == "entry-renamed" and installed:
                # The rename made it to the disk before the power went (it was not yet synced): the slot is complete.
                check("cut at %s: the renamed entry survived: slot %s boots %s on trial" % (step, target, n1),
                      status["booted_slot"] == target and status["running_version"] == n1 and
                      last.get("outcome") == "installed" and last.get("interrupted") is True, status)
                vm.wait_console(r"boot blessed: ", timeout=120, start=0)
                booted, running = target, n1
                continue
            check("cut at %s: slot %s still boots %s; slot %s has no entry; status: interrupted, and why" % (step, booted, running, target),
                  status["booted_slot"] == booted and status["running_version"] == running and
                  status["slots"][booted]["state"] == "good" and status["slots"][target]["state"] == "empty" and
                  last.get("outcome") == "interrupted" and last.get("version") == n1 and
                  last.get("slot_state") == "no bootable system until the next update" and
                  "cut off (power loss or a kill) while it wrote slot %s" % target in last.get("reason", ""), status)
        target = "b" if booted == "a" else "a"
        # (2) The cut after "installed": this cold boot is the new slot's first (trial) boot; cut it
        # before the blessing, then the next one while it blesses (after its "blessing" line: the
        # rename may or may not reach the disk).
        m = vm.wait_console(r"trial boot of slot (\w+) \((\S+), (\d+) tries left", timeout=240, recover_stalls=120)
        check("cut at installed: the next boot is slot %s's first trial" % target,
              m.groups() == (target, "berth-%s+2-1.conf" % target, "2"), m.group(0))
        vm.kill()
        cold_boot(vm)
        m = vm.wait_console(r"trial boot of slot (\w+) \((\S+), (\d+) tries left", timeout=240, recover_stalls=120)
        check("after a cut during the first boot: slot %s tried again, one try less" % target,
              m.groups() == (target, "berth-%s+1-2.conf" % target, "1"), m.group(0))
        vm.wait_console(r"boot healthy \(.*\): blessing ", timeout=120, start=m.end())
        vm.kill()
        cold_boot(vm)
        vm.wait_ssh()
        m = vm.wait_console(r"boot blessed: |has no boot counter: nothing to bless", timeout=120, start=0)
        status = update_status(vm)
        last = status.get("last_update") or {}
        # (Cut in the middle of the blessing, the entry may have been renamed without its record written.)
        check("after cuts during the first boots: %s runs in slot %s, blessed; status tells the interrupted job completed" % (n1, target),
              status["booted_slot"] == target and status["running_version"] == n1 and
              status["slots"][target]["state"] == "good" and status["boots"].get(target, {}).get("outcome", "blessed") == "blessed" and
              last.get("outcome") == "installed" and last.get("interrupted") is True and last.get("version") == n1, status)
        booted, other = target, ("b" if target == "a" else "a")

        # (3) Apply against dd of as many bytes to the same partition (the other slot), interleaved, in this guest.
        header, parts = bundle_layout(second)
        payload = sum(size for _, size in parts.values())
        vm.ssh("cat > /tmp/update.bundle", input_file=second, timeout=120)
        dd_service = DD_BENCH % {"source": "/dev/vda%d" % (2 if booted == "a" else 3),
                                 "target": "/dev/vda%d" % (2 if other == "a" else 3), "blocks": (payload + 4095) // 4096}
        vm.ssh("cat > /tmp/ddbench.toml", input_file=write_file(os.path.join(args.work_dir, "ddbench.toml"), dd_service))
        ratios = []
        for i in range(3):
            vm.ssh("berthctl add /tmp/ddbench.toml" if i == 0 else "berthctl start ddbench", timeout=60)
            deadline = time.monotonic() + 120
            while True:
                logs = vm.ssh("berthctl logs ddbench", check=False).stdout
                runs = re.findall(r"dd-seconds (\d+\.\d+) (\d+\.\d+)", logs)
                if len(runs) > i or time.monotonic() > deadline:
                    break
                time.sleep(1)
            check("dd run %d finished" % (i + 1), len(runs) > i, logs[-1000:])
            dd_seconds = float(runs[i][1]) - float(runs[i][0])
            r = vm.ssh("berthctl --json update apply --allow-downgrade /tmp/update.bundle", check=False, timeout=300)
            lines = [json.loads(l) for l in r.stdout.strip().splitlines() if l.startswith("{")]
            answer = lines[-1] if lines else {}
            # Where the time went: the first progress line of each phase, with the job's clock.
            phases = {}
            for line in lines[:-1]:
                p = line.get("progress", {})
                phases.setdefault(p.get("phase"), p.get("seconds"))
            print("  apply phases (s from the job's start): " + ", ".join("%s %.2f" % (k, v) for k, v in phases.items() if v is not None),
                  flush=True)
            check("apply %d of %s to slot %s" % (i + 1, n2, other), r.returncode == 0 and answer.get("done") is True, r.stdout[-600:] + r.stderr)
            ratios.append(answer.get("seconds", 0) / dd_seconds)
            print("apply %.2f s, dd conv=fsync of the same %d bytes %.2f s: %.2fx" % (answer.get("seconds", 0), payload, dd_seconds, ratios[-1]), flush=True)
        vm.ssh("berthctl remove ddbench", check=False)
        print("apply / dd (median of 3, interleaved): %.2fx" % sorted(ratios)[1], flush=True)

        # (4) Verity: one byte of the slot just written changes on the disk (power off, then the
        # overlay edited); the slot must never run, and the machine ends on the old slot with the reason.
        check("poweroff before the byte is flipped", poweroff(vm) == 0)
        first, _ = vm.partition("root-" + other)
        offset = first * 512 + 512
        raw = os.path.join(vm.dir, "disk.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", vm.disk, raw], check=True)
        with open(raw, "rb") as f:
            f.seek(offset)
            original = f.read(1)[0]
        os.unlink(raw)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P %d %d 1" % (original ^ 0xFF, offset), vm.disk], check=True,
                       capture_output=True)
        mark, stalls = len(vm.all_console()), vm.stalls
        vm.start()
        m = vm.wait_console(r"slot %s failed \(tries spent\): (.*)" % other, timeout=900, recover_stalls=120)
        console = vm.all_console()[mark:]
        refused = len(re.findall(r"early boot failed: the root slot cannot be read or does not match its root hash \(dm-verity\)", console))
        check("the slot with a flipped byte never ran: dm-verity refused its root at each of its tries (stalls: %d)" % (vm.stalls - stalls),
              refused >= 1 and refused + vm.stalls - stalls == 3 and "root: /dev/dm-0 (dm-verity over /dev/vda%d" % (2 if other == "a" else 3) not in console,
              console[-3000:])
        check("the boot of slot %s says why slot %s failed: its root, dm-verity" % (booted, other),
              m.group(1).startswith("its root could not be mounted: the root slot cannot be read or does not match its root hash (dm-verity)"),
              m.group(0))
        vm.wait_ssh()
        status = update_status(vm)
        record = status["boots"].get(other, {})
        check("status: back on %s in slot %s; slot %s bad, %s failed, the reason dm-verity's" % (n1, booted, other, n2),
              status["booted_slot"] == booted and status["running_version"] == n1 and status["slots"][other]["state"] == "bad" and
              record.get("outcome") == "failed" and record.get("version") == n2 and "dm-verity" in record.get("reason", "") and
              n2 in status["failed_versions"], status)

        # (5) A version whose PID 1 hangs once its services are ready (test hook): the watchdog resets
        # each try, and the tries run out back to the good slot.
        r = vm.ssh("berthctl update apply -", check=False, timeout=600, input_file=hanging)
        check("%s (PID 1 hangs) applied to slot %s" % (n3, other), r.returncode == 0, r.stdout + r.stderr)
        mark, stalls = len(vm.all_console()), vm.stalls
        rebooted = time.monotonic()
        vm.ssh("berthctl reboot", check=False, timeout=20)
        m = vm.wait_console(r"slot %s failed \(tries spent\): (.*)" % other, timeout=1200, start=len(vm.console()), recover_stalls=120)
        print("from reboot into %s (PID 1 hangs) to back on %s: %.1f s" % (n3, n1, time.monotonic() - rebooted), flush=True)
        console = vm.all_console()[mark:]
        hangs = len(re.findall(r"PID 1 hangs now", console))
        check("each try of the hanging version hung and was reset by the watchdog (or stalled the emulator: %d)" % (vm.stalls - stalls),
              hangs >= 1 and hangs + vm.stalls - stalls == 3 and "boot blessed" not in console, console[-3000:])
        vm.wait_ssh()
        status = update_status(vm)
        record = status["boots"].get(other, {})
        check("status: back on %s; %s failed in slot %s, tries spent with no verdict (hang or reset)" % (n1, n3, other),
              status["booted_slot"] == booted and status["running_version"] == n1 and status["slots"][other]["state"] == "bad" and
              record.get("outcome") == "failed" and record.get("version") == n3 and "reached a verdict" in record.get("reason", "") and
              n3 in status["failed_versions"], status)
        check("poweroff at the end", poweroff(vm) == 0)
    finally:
        vm.kill()


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


SCENARIOS = {"update": scenario_update, "lifecycle": scenario_lifecycle, "uefi": scenario_uefi, "bad-root": scenario_bad_root,
             "power-cut": scenario_power_cut, "blessing": scenario_blessing, "update-faults": scenario_update_faults}


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
