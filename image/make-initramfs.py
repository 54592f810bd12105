#!/usr/bin/env python3
"""Writes a reproducible initramfs: a newc cpio archive, compressed, with no root needed.

    make-initramfs.py --output initramfs.img [--compress zstd|gzip|none] [--mtime EPOCH]
                      [--file SRC:DEST[:MODE]]... [--tree DIR]... [--dir DEST]...
                      [--char DEST:MAJOR:MINOR:MODE]...

--file  one file (DEST is its path in the archive, MODE octal, default 0644 or 0755 if executable)
--tree  every file and directory under DIR, at the same relative paths (0644/0755 by executability)
--dir   an empty directory (0755)
--char  a character device node: the archive carries it, so no mknod (and no root) is needed

Every entry is owned by 0:0 and has mtime EPOCH (default: $SOURCE_DATE_EPOCH, else 0); entries are
sorted by path and parents are added for every path, so the same inputs give the same bytes.
Compression uses the zstd/gzip programs with fixed settings (no names or times in the stream).
"""
import argparse
import os
import stat
import subprocess
import sys

DEFAULT_DIR_MODE = 0o755


class Archive:
    def __init__(self):
        self.entries = {}  # path -> (kind, mode, data or (major, minor))

    def add_parents(self, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            if parent not in self.entries:
                self.entries[parent] = ("dir", DEFAULT_DIR_MODE, None)
            elif self.entries[parent][0] != "dir":
                sys.exit(f"make-initramfs: {parent} is both a file and a directory")

    def add(self, path, kind, mode, payload=None):
        path = path.strip("/")
        if not path:
            return
        if path in self.entries and not (kind == "dir" and self.entries[path][0] == "dir"):
            sys.exit(f"make-initramfs: {path} given twice")
        self.add_parents(path)
        self.entries[path] = (kind, mode, payload)

    def add_file(self, src, dest, mode=None):
        if mode is None:
            mode = 0o755 if os.stat(src).st_mode & stat.S_IXUSR else 0o644
        with open(src, "rb") as f:
            self.add(dest, "file", mode, f.read())

    def add_tree(self, root):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                self.add(rel, "dir", DEFAULT_DIR_MODE)
            for name in sorted(filenames):
                src = os.path.join(dirpath, name)
                dest = name if rel == "." else os.path.join(rel, name)
                if os.path.islink(src):
                    self.add(dest, "symlink", 0o777, os.readlink(src).encode())
                else:
                    self.add_file(src, dest)

    def newc(self, mtime):
        out = bytearray()

        def record(ino, mode, nlink, data, name, rdev=(0, 0)):
            name_bytes = name.encode() + b"\0"
            fields = [ino, mode, 0, 0, nlink, mtime, len(data), 0, 0, rdev[0], rdev[1], len(name_bytes), 0]
            out.extend(b"070701" + b"".join(b"%08X" % v for v in fields))
            out.extend(name_bytes)
            out.extend(b"\0" * (-len(out) % 4))
            out.extend(data)
            out.extend(b"\0" * (-len(out) % 4))

        for ino, path in enumerate(sorted(self.entries), start=1):
            kind, mode, payload = self.entries[path]
            if kind == "dir":
                record(ino, stat.S_IFDIR | mode, 2, b"", path)
            elif kind == "file":
                record(ino, stat.S_IFREG | mode, 1, payload, path)
            elif kind == "symlink":
                record(ino, stat.S_IFLNK | mode, 1, payload, path)
            elif kind == "char":
                record(ino, stat.S_IFCHR | mode, 1, b"", path, payload)
        record(0, 0, 1, b"", "TRAILER!!!")
        return bytes(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--output", required=True)
    ap.add_argument("--compress", choices=["zstd", "gzip", "none"], default="zstd")
    ap.add_argument("--mtime", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0))
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--tree", action="append", default=[])
    ap.add_argument("--dir", action="append", default=[])
    ap.add_argument("--char", action="append", default=[])
    args = ap.parse_args()

    archive = Archive()
    for tree in args.tree:
        archive.add_tree(tree)
    for spec in args.file:
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            ap.error(f"--file {spec}: want SRC:DEST[:MODE]")
        archive.add_file(parts[0], parts[1], int(parts[2], 8) if len(parts) == 3 else None)
    for d in args.dir:
        archive.add(d, "dir", DEFAULT_DIR_MODE)
    for spec in args.char:
        dest, major, minor, mode = spec.split(":")
        archive.add(dest, "char", int(mode, 8), (int(major), int(minor)))

    data = archive.newc(args.mtime)
    if args.compress == "zstd":
        data = subprocess.run(["zstd", "-q", "-19", "-T1", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
    elif args.compress == "gzip":
        data = subprocess.run(["gzip", "-n", "-9", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
    tmp = args.output + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.output)
    print(f"make-initramfs: {args.output}: {len(archive.entries)} entries, {len(data)} bytes ({args.compress})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
