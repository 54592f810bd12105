#!/usr/bin/env bash
# Builds the fuzzers (manifests, host config, control requests) with clang in their own build
# directory and runs each for its share of a bounded time; exits non-zero if one finds a crash (the input is saved
# under <build>/artifacts/<fuzzer>/).
# Usage: init/fuzz/run_fuzzer.sh [SECONDS] (default 60, split between the fuzzers). Needs clang
# and libclang-rt:
#   apt-get install clang-14 libclang-rt-14-dev
set -euo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BERTH_FUZZ_BUILD_DIR:-$root/build/fuzz}

# The newest clang found; clang-14 is Debian 12's default.
cxx="" cc=""
for version in 19 18 17 16 15 14; do
  if command -v "clang++-$version" >/dev/null && command -v "clang-$version" >/dev/null; then
    cxx=$(command -v "clang++-$version") cc=$(command -v "clang-$version")
    break
  fi
done
if [[ -z $cxx ]] && command -v clang++ >/dev/null && command -v clang >/dev/null; then
  cxx=$(command -v clang++) cc=$(command -v clang)
fi
if [[ -z $cxx || -z $cc ]]; then
  echo "run_fuzzer.sh: clang not found (apt-get install clang-14 libclang-rt-14-dev)" >&2
  exit 2
fi

# fuzzer-no-link everywhere: the libraries under test get coverage instrumentation too.
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DBERTH_SANITIZE=ON -DBERTH_TESTS=OFF >/dev/null
# fuzzer → its committed seed corpus and dictionary.
declare -A corpus=([manifest_fuzzer]=corpus [host_config_fuzzer]=corpus-host-config [control_fuzzer]=corpus-control)
declare -A dict=([manifest_fuzzer]=manifest.dict [host_config_fuzzer]=host_config.dict [control_fuzzer]=control.dict)
fuzzers=(manifest_fuzzer host_config_fuzzer control_fuzzer)
ninja -C "$build" "${fuzzers[@]}"

share=$(( seconds / ${#fuzzers[@]} ))
(( share > 0 )) || share=1
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
for fuzzer in "${fuzzers[@]}"; do
  # New inputs go to a scratch corpus; the committed seeds stay as they are.
  work_corpus=$build/corpus/$fuzzer
  mkdir -p "$work_corpus" "$build/artifacts/$fuzzer"
  echo "run_fuzzer.sh: $fuzzer for ${share}s"
  "$build/init/fuzz/$fuzzer" \
    -max_total_time="$share" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -dict="$root/init/fuzz/${dict[$fuzzer]}" \
    -artifact_prefix="$build/artifacts/$fuzzer/" -print_final_stats=1 \
    "$work_corpus" "$root/init/fuzz/${corpus[$fuzzer]}" || status=1
done
exit $status
