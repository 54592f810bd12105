#!/usr/bin/env bash
# The README's test command: installs what it needs, builds the release (static) tree and the
# bootable image, the debug (ASan/UBSan) tree, fuzzes the manifest and host-config parsers and the
# control request handler for 90 s in all, and runs every test: unit, priv (root, namespaces,
# berth-init as PID 1), podman, qemu (the image booted under QEMU and checked through SSH and the
# serial console).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

cmake --preset release >/dev/null
cmake --build --preset release
cmake --build --preset release --target image
cmake --preset debug >/dev/null
cmake --build --preset debug --target runtime_unit_tests manifest_unit_tests supervisor_unit_tests \
  update_unit_tests pid1_unit_tests common_unit_tests logd_unit_tests logd_integration_tests logd

# The manifest, host config and control request fuzzers (libFuzzer) for a bounded time, from their seed corpora.
bash init/fuzz/run_fuzzer.sh "${BERTH_FUZZ_SECONDS:-90}"

# Unit tests under the sanitizers, then everything against the static release binaries.
ctest --preset debug
ctest --preset release
