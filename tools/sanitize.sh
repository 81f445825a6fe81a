#!/usr/bin/env bash
# `make sanitize` and `make fuzz`: one clang build folder ($SAN_BUILD_DIR, default build-san) with
# every target of ours built with AddressSanitizer + UndefinedBehaviorSanitizer (CLINTORCH_SANITIZE)
# and libFuzzer coverage (CLINTORCH_FUZZ). LibTorch itself is not instrumented.
#
#   tools/sanitize.sh sanitize          the C++ suite (GoogleTest) and the fuzz corpus replay
#   tools/sanitize.sh fuzz [SECONDS]    each fuzz target for SECONDS (default 60), then a table
#
# SANITIZE_TESTS: a CTest -R regex selecting the C++ tests to run (default: all but py.*), and
# SANITIZE_TARGETS the targets to build first (default: clintorch_tests clintorch_fuzz_replay).
# CI runs the short form: SANITIZE_TARGETS=clintorch_fuzz_replay SANITIZE_TESTS='^fuzz\.replay$'
# (every parser of untrusted files on every committed seed and past finding).
# FUZZ_TARGETS: the targets to fuzz (default: all). New corpus inputs go to $SAN_BUILD_DIR/fuzz,
# crashes to $SAN_BUILD_DIR/fuzz/findings/<target>/ (copy one into tests/fuzz/corpus/<target>/ as
# crash-<name> once fixed: the replay in `make test` keeps it fixed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=${1:-sanitize}
SAN_BUILD_DIR=${SAN_BUILD_DIR:-build-san}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
say() { printf '[%s] %s\n' "$mode" "$*"; }

bash tools/setup.sh >/dev/null  # venv (LibTorch) and the Debian packages of the main build
if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    say "installing clang (Debian) for the sanitizers and libFuzzer"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
  else
    say "clang is missing: sudo apt-get install clang"
    exit 1
  fi
fi
if [[ ! -f "$SAN_BUILD_DIR/CMakeCache.txt" ]]; then
  say "configuring $SAN_BUILD_DIR (clang, ASan + UBSan, libFuzzer)"
  # -O1 with line tables: the usual sanitizer build, and much quicker to compile than -O2 -g.
  CC=clang CXX=clang++ cmake -S . -B "$SAN_BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
    -DCLINTORCH_PYTHON="$root/.venv/bin/python" -DCLINTORCH_SANITIZE=ON -DCLINTORCH_FUZZ=ON \
    -DCLINTORCH_WERROR=OFF -DCLINTORCH_BUILD_BENCH=OFF >/dev/null
fi
# Leaks are reported; LibTorch's own start-up allocations that live until exit are not ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

case "$mode" in
  sanitize)
    targets=${SANITIZE_TARGETS:-clintorch_tests clintorch_fuzz_replay}
    say "building $targets ($JOBS jobs)"
    # shellcheck disable=SC2086
    cmake --build "$SAN_BUILD_DIR" -j "$JOBS" --target $targets
    filter=${SANITIZE_TESTS:-}
    start=$(date +%s)
    if [[ -n "$filter" ]]; then
      ctest --test-dir "$SAN_BUILD_DIR" --output-on-failure --no-tests=error -j "$JOBS" -R "$filter"
    else
      ctest --test-dir "$SAN_BUILD_DIR" --output-on-failure --no-tests=error -j "$JOBS" -E '^py\.'
    fi
    say "ASan + UBSan: clean ($(($(date +%s) - start)) s of tests)"
    ;;
  fuzz)
    seconds=${2:-${FUZZ_SECONDS:-60}}
    say "building the fuzz targets ($JOBS jobs)"
    cmake --build "$SAN_BUILD_DIR" -j "$JOBS" --target clintorch_fuzz_all
    targets=${FUZZ_TARGETS:-$(ls tests/fuzz/corpus)}
    table="| target | seconds | executions | exec/s | corpus | crashes |\n|---|---|---|---|---|---|\n"
    failed=0
    for t in $targets; do
      work="$SAN_BUILD_DIR/fuzz/corpus/$t"
      findings="$SAN_BUILD_DIR/fuzz/findings/$t"
      mkdir -p "$work" "$findings"
      log="$SAN_BUILD_DIR/fuzz/$t.log"
      touch "$SAN_BUILD_DIR/fuzz/$t.start"  # findings of this run: files newer than it
      say "$t: ${seconds} s"
      rc=0
      "$SAN_BUILD_DIR/tests/fuzz/clintorch_fuzz_$t" -max_total_time="$seconds" -max_len=8192 \
        -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$findings/" \
        "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
      execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
      rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
      crashes=$(find "$findings" -type f -newer "$SAN_BUILD_DIR/fuzz/$t.start" | wc -l)
      table+="| $t | $seconds | ${execs:-0} | ${rate:-0} | $(ls "$work" | wc -l) | $crashes |\n"
      if ((rc != 0)); then
        failed=1
        say "$t FAILED (exit $rc): see $log and $findings"
        grep -m3 -E 'ERROR|SUMMARY|invariant|terminate' "$log" || true
      fi
    done
    printf "\n$table"
    exit $failed
    ;;
  *)
    echo "usage: $0 sanitize | fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
