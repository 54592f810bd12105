"""Boots a Berth image under QEMU (TCG) the way a user does, and talks to it through the serial
console (a file) and SSH into the admin container. Standard library only.

    vm = VM(image_dir, work_dir, name="lifecycle", uefi=False, host_config=...)
    vm.start(); vm.wait_console(r"all services ready"); vm.ssh("berthctl services")
"""
import json
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"


class TestFailure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_key(work_dir):
    key = os.path.join(work_dir, "id_ed25519")
    if not os.path.exists(key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "qemu-tests", "-f", key], check=True)
    with open(key + ".pub") as f:
        return key, f.read().strip()


class VM:
    def __init__(self, image_dir, work_dir, name, uefi=False, host_config=None, cmdline_extra="",
                 cmdline=None, memory=1024, disk=None, qemu_args=()):
        self.image_dir = image_dir
        self.dir = os.path.join(work_dir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.name = name
        self.uefi = uefi
        self.memory = memory
        self.qemu_args = list(qemu_args)
        self.console_path = os.path.join(self.dir, "console.log")
        self.monitor_path = os.path.join(self.dir, "monitor.sock")
        self.key, self.public_key = make_key(work_dir)
        self.port = free_port()
        self.proc = None
        self.console_history = ""  # the consoles of earlier starts of this VM
        self.stalls = 0            # power cycles after the emulated machine stalled (wait_console)
        self.disk = disk or os.path.join(self.dir, "disk.qcow2")
        with open(os.path.join(image_dir, "cmdline")) as f:
            base = f.read().strip()
        self.cmdline = cmdline if cmdline is not None else (base + " " + cmdline_extra).strip()
        self.host_config_path = None
        if host_config is not None:
            self.host_config_path = os.path.join(self.dir, "host.toml")
            with open(self.host_config_path, "w") as f:
                f.write(host_config)

    # ---- lifecycle ----
    def fresh_disk(self, size=None):
        """A copy-on-write overlay of the built disk: every test starts from a first boot. With
        `size` ("1G"), the disk is that large, as a server's disk is larger than the image."""
        if os.path.exists(self.disk):
            os.unlink(self.disk)
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b",
                        os.path.abspath(os.path.join(self.image_dir, "disk.qcow2")), self.disk] + ([size] if size else []),
                       check=True)
        vars_copy = os.path.join(self.dir, "OVMF_VARS.fd")
        shutil.copyfile(OVMF_VARS, vars_copy)

    def partition(self, label, disk=None):
        """(first sector, size in bytes) of the partition labelled `label` in a raw disk."""
        table = subprocess.run(["sgdisk", "-p", disk or os.path.join(self.image_dir, "disk.raw")],
                               capture_output=True, text=True, check=True).stdout
        first, last = map(int, re.search(r"^\s*\d+\s+(\d+)\s+(\d+)\s+.*\s%s\s*$" % label, table, re.M).groups())
        return first, (last - first + 1) * 512

    def edit_esp(self, change):
        """Changes the ESP of this VM's overlay as a user does on a machine's disk: the ESP of
        the overlay is copied out, `change(esp_image)` edits it with mtools, and it is written
        back at its offset."""
        first, size = self.partition("esp")
        esp = os.path.join(self.dir, "esp.img")
        raw = os.path.join(self.dir, "disk.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", self.disk, raw], check=True)
        with open(raw, "rb") as disk, open(esp, "wb") as out:
            disk.seek(first * 512)
            out.write(disk.read(size))
        os.unlink(raw)
        change(esp)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -s %s %d %d" % (esp, first * 512, size), self.disk],
                       check=True, capture_output=True)
        os.unlink(esp)

    def put_on_esp(self, path, content):
        """Writes a file onto the ESP (e.g. berth/config.toml, the host config baked into the image)."""
        local = os.path.join(self.dir, "esp-file")
        with open(local, "w") as f:
            f.write(content)

        def copy(esp):
            directory = os.path.dirname(path)
            if directory:
                subprocess.run(["mmd", "-D", "s", "-i", esp, "::/" + directory], capture_output=True)  # may exist
            subprocess.run(["mcopy", "-o", "-i", esp, local, "::/" + path], check=True)
        self.edit_esp(copy)

    def rename_on_esp(self, old, new):
        self.edit_esp(lambda esp: subprocess.run(["mmove", "-D", "o", "-i", esp, "::/" + old, "::/" + new], check=True))

    def boot_entries(self):
        """The file names in the ESP's loader/entries, read from the overlay (the VM is off)."""
        names = []
        def listing(esp):
            out = subprocess.run(["mdir", "-b", "-i", esp, "::/loader/entries"], capture_output=True, text=True,
                                 check=True).stdout
            names.extend(sorted(os.path.basename(l.strip()) for l in out.splitlines() if l.strip()))
        self.edit_esp(listing)
        return names

    def partition_sha256(self, label, disk=None):
        """SHA-256 of a partition's bytes: of this VM's overlay (the VM is off), or of `disk` (raw)."""
        raw = disk
        if raw is None:
            raw = os.path.join(self.dir, "disk.raw")
            subprocess.run(["qemu-img", "convert", "-O", "raw", self.disk, raw], check=True)
        first, size = self.partition(label, raw)
        digest = hashlib.sha256()
        with open(raw, "rb") as f:
            f.seek(first * 512)
            left = size
            while left:
                chunk = f.read(min(left, 1 << 20))
                digest.update(chunk)
                left -= len(chunk)
        if disk is None:
            os.unlink(raw)
        return digest.hexdigest()

    def state_file(self, path):
        """A file of the state partition (path inside it, e.g. /lib/berth/update/boot-a.json),
        read from the overlay with debugfs (the VM is off); None if it is not there."""
        raw = os.path.join(self.dir, "disk.raw")
        subprocess.run(["qemu-img", "convert", "-O", "raw", self.disk, raw], check=True)
        first, size = self.partition("state", raw)
        part = os.path.join(self.dir, "state.img")
        with open(raw, "rb") as disk, open(part, "wb") as out:
            disk.seek(first * 512)
            out.write(disk.read(size))
        os.unlink(raw)
        r = subprocess.run(["debugfs", "-R", "cat " + path, part], capture_output=True, text=True)
        os.unlink(part)
        return r.stdout if r.returncode == 0 and r.stdout else None

    def command(self):
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-m", str(self.memory), "-smp", "2",
               "-display", "none", "-serial", "file:" + self.console_path,
               "-monitor", "unix:%s,server=on,wait=off" % self.monitor_path,
               "-drive", "file=%s,if=virtio,format=qcow2,cache=writeback" % self.disk,
               "-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:%d-:22" % self.port,
               "-device", "virtio-net-pci,netdev=net0", "-device", "virtio-rng-pci"]
        if self.uefi:
            cmd += ["-drive", "if=pflash,format=raw,readonly=on,file=" + OVMF_CODE,
                    "-drive", "if=pflash,format=raw,file=" + os.path.join(self.dir, "OVMF_VARS.fd")]
        else:
            cmd += ["-kernel", os.path.join(self.image_dir, "vmlinuz"),
                    "-initrd", os.path.join(self.image_dir, "initramfs.img"), "-append", self.cmdline]
        if self.host_config_path:
            cmd += ["-fw_cfg", "name=opt/berth/config,file=" + self.host_config_path]
        return cmd + self.qemu_args

    def start(self, no_reboot=False):
        if not os.path.exists(self.disk):
            self.fresh_disk()
        if os.path.exists(self.console_path):
            self.console_history += self.console()
            os.rename(self.console_path, self.console_path + ".%d" % int(time.time() * 1000))
        cmd = self.command() + (["-no-reboot"] if no_reboot else [])
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "qemu.stderr"), "w"))

    def monitor(self, command):
        """One command to QEMU's human monitor (e.g. "sendkey ctrl-alt-delete")."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.monitor_path)
            s.settimeout(5)
            s.recv(4096)  # banner and prompt
            s.sendall(command.encode() + b"\n")
            time.sleep(0.5)
            return s.recv(4096).decode(errors="replace")

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("%s: QEMU still running after %d s" % (self.name, timeout))

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    # ---- console ----
    def console(self):
        try:
            with open(self.console_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def all_console(self):
        """Every console of this VM since it was made, earlier starts first."""
        return self.console_history + self.console()

    def wait_console(self, pattern, timeout=120, start=0, recover_stalls=0):
        """Waits for a regex in the console log (from offset `start`); returns the match.
        recover_stalls=N: QEMU's TCG here sometimes stalls for good early in a kernel's boot (seen
        after "Switched to clocksource hpet" and "IP idents hash table", on boots of any image):
        after N s without console output while the current boot's kernel has not yet started
        berth-init (once it has, a quiet console is a quiet host, or a hang the watchdog must catch),
        the machine is power-cycled and counted in self.stalls (the search goes on in the new console)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        last_size, last_change = -1, time.monotonic()
        while True:
            text = self.console()
            m = regex.search(text, start)
            if m:
                return m
            if len(text) != last_size:
                last_size, last_change = len(text), time.monotonic()
            elif (recover_stalls and time.monotonic() - last_change > recover_stalls and self.stalls < 3 and
                  text.rfind("Linux version") > text.rfind("berth-init starting")):
                print("%s: no console output for %d s: the emulated machine stalled; power-cycling it" %
                      (self.name, recover_stalls), flush=True)
                self.stalls += 1
                self.kill()
                self.start()
                start, last_size, last_change = 0, -1, time.monotonic()
                continue
            if self.proc.poll() is not None:
                raise TestFailure("%s: QEMU exited (%s) before the console showed /%s/; console tail:\n%s"
                                  % (self.name, self.proc.returncode, pattern, text[-3000:]))
            if time.monotonic() > deadline:
                raise TestFailure("%s: no /%s/ on the console after %d s; console tail:\n%s"
                                  % (self.name, pattern, timeout, text[-3000:]))
            time.sleep(0.2)

    # ---- ssh into the admin container ----
    def ssh_command(self, command):
        return ["ssh", "-i", self.key, "-p", str(self.port), "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                "-o", "ConnectTimeout=10", "root@127.0.0.1", command]

    def ssh(self, command, check=True, timeout=60, input_file=None):
        """Runs `command` in the admin container; input_file: a file given as its standard input
        (`ssh host berthctl update apply - < bundle`, as a user does)."""
        if input_file is not None:
            with open(input_file, "rb") as f:
                r = subprocess.run(self.ssh_command(command), stdin=f, capture_output=True, timeout=timeout)
            r.stdout, r.stderr = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")
        else:
            r = subprocess.run(self.ssh_command(command), capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise TestFailure("%s: ssh %r exited %d\nstdout: %s\nstderr: %s"
                              % (self.name, command, r.returncode, r.stdout, r.stderr))
        return r

    def wait_ssh(self, timeout=180):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise TestFailure("%s: QEMU exited before SSH came up; console tail:\n%s" % (self.name, self.console()[-3000:]))
            try:
                last = self.ssh("true", check=False, timeout=20)
                if last.returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(1)
        raise TestFailure("%s: no SSH login after %d s (%s); console tail:\n%s"
                          % (self.name, timeout, last.stderr.strip() if last else "", self.console()[-3000:]))

    def services(self):
        return json.loads(self.ssh("berthctl --json services").stdout)["services"]

    def service(self, name):
        for s in self.services():
            if s["name"] == name:
                return s
        raise TestFailure("%s: no service %r in berthctl services" % (self.name, name))

    def wait_services(self, names, state="ready", timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            services = {s["name"]: s for s in self.services()}
            missing = [n for n in names if services.get(n, {}).get("state") != state]
            if not missing:
                return services
            if time.monotonic() > deadline:
                raise TestFailure("%s: services not %s after %d s: %s\n%s" % (
                    self.name, state, timeout, missing, json.dumps(services, indent=1)))
            time.sleep(1)

    def host_key_fingerprint(self):
        r = subprocess.run(["ssh-keyscan", "-p", str(self.port), "-t", "ed25519", "127.0.0.1"],
                           capture_output=True, text=True, timeout=30)
        lines = [l for l in r.stdout.splitlines() if l and not l.startswith("#")]
        if not lines:
            raise TestFailure("%s: ssh-keyscan found no host key (%s)" % (self.name, r.stderr))
        fp = subprocess.run(["ssh-keygen", "-lf", "-"], input=lines[0] + "\n", capture_output=True, text=True)
        return fp.stdout.split()[1]
