#!/usr/bin/env bash
# The README's main command (until the bootable image exists): builds berth and runs a
# demo container from a busybox bundle with Berth's default isolation.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target berth

berth=build/release/runtime/berth
bundle=build/demo-bundle
rm -rf "$bundle" && mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -sf busybox "$bundle/rootfs/bin/$applet"; done
mkdir -p "$bundle/rootfs/proc" "$bundle/rootfs/sys" "$bundle/rootfs/dev" "$bundle/rootfs/tmp"
"$berth" spec --bundle "$bundle"
# Run a short script instead of the default interactive shell.
python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["process"]["args"] = ["/bin/sh", "-c",
    "echo \"hello from $(hostname), I am PID $$\"; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; "
    "touch /etc/x 2>&1 || true; ps"]
json.dump(config, open(path, "w"), indent=2)
PY
echo "+ $berth run --bundle $bundle demo"
"$berth" run --bundle "$bundle" "demo-$$"
