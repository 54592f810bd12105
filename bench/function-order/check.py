#!/usr/bin/env python3
"""Checks that a binary was linked in PID 1's function order and that the list still fits it.

    check.py BINARY ORDER_FILE

Fails if fewer than 90% of the listed functions exist in BINARY (the list is stale: run
bench/function-order/update.sh), or if the listed functions do not sit together at the start of
the text (the ordering was not applied at link time).
"""
import subprocess
import sys

binary, order_file = sys.argv[1], sys.argv[2]
listed = [line.strip() for line in open(order_file) if line.strip()]
symbols = {}  # name -> (address, size)
for line in subprocess.run(["nm", "-S", "--defined-only", binary], capture_output=True, text=True,
                           check=True).stdout.splitlines():
    fields = line.split()
    if len(fields) == 4 and fields[2] in "tTwWi":
        symbols.setdefault(fields[3], (int(fields[0], 16), int(fields[1], 16)))
found = [symbols[name] for name in listed if name in symbols]
share = len(found) / len(listed)
print(f"{order_file}: {len(found)} of {len(listed)} functions found in {binary} ({share:.0%})")
if share < 0.9:
    sys.exit(f"the function order is stale: run bench/function-order/update.sh and commit {order_file}")
text_start = min(address for address, _ in symbols.values())
span = max(address + size for address, size in found) - text_start
code = sum(size for _, size in found)
print(f"the listed functions ({code // 1024} KiB) end {span // 1024} KiB into the text")
# Ordered, they lie together (plus alignment padding); unordered, they spread over megabytes.
if span > 2 * code + 64 * 1024:
    sys.exit(f"{binary} was not linked in the order of {order_file} (lld --symbol-ordering-file)")
