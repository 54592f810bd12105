#!/usr/bin/env bash
# Builds the manifest fuzzer with clang in its own build directory and runs it for a bounded
# time; exits non-zero if it finds a crash (the input is saved under <build>/artifacts/).
# Usage: init/fuzz/run_fuzzer.sh [SECONDS] (default 60). Needs clang and libclang-rt:
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
ninja -C "$build" manifest_fuzzer

# New inputs go to a scratch corpus; the committed seeds stay as they are.
work_corpus=$build/corpus
mkdir -p "$work_corpus" "$build/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
exec "$build/init/fuzz/manifest_fuzzer" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -dict="$root/init/fuzz/manifest.dict" \
  -artifact_prefix="$build/artifacts/" -print_final_stats=1 \
  "$work_corpus" "$root/init/fuzz/corpus"
