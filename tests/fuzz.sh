#!/usr/bin/env bash
# Fuzzes the file readers with terrain-fuzz (Fuzz/README.md), one target after another, on a copy
# of the seed corpus Fuzz/corpus/ (the repository is never written to).
#
#   bash tests/fuzz.sh smoke    BINARY [RUNS]      seeds + RUNS seeded mutations each (default 2000): make fuzz-smoke
#   bash tests/fuzz.sh libfuzzer BINARY [SECONDS]  libFuzzer, SECONDS each (default 60): make fuzz
#
# A target passes when its reader never crashes, traps, hangs or allocates without bound;
# libFuzzer's findings (crash-*, timeout-*, oom-*, leak-*) are kept in $FUZZ_ARTIFACTS
# (default fuzz-artifacts/) and named in the output; in the smoke run, the input a target failed on
# is kept there as smoke-crash, and a target still running after FUZZ_SMOKE_LIMIT seconds (300) has
# hung. FUZZ_TARGETS picks a subset.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
mode=${1:?mode: smoke or libfuzzer}
binary=${2:?the terrain-fuzz binary}
targets=${FUZZ_TARGETS:-idx cifar10 csv npy npz safetensors checkpoint onnx hdf5-surface}
artifacts=${FUZZ_ARTIFACTS:-fuzz-artifacts}
# Swift's own crash reporter would hold a crashing process for seconds; libFuzzer reports instead.
export SWIFT_BACKTRACE=enable=no
# Leaks are not what this run looks for, and Foundation leaks 4 KiB per empty file it reads.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

echo "fuzz ($mode):"
for target in $targets; do
  corpus="$work/corpus/$target"
  mkdir -p "$corpus"
  cp "$here/../Fuzz/corpus/$target/"* "$corpus/"
  # Inputs that once crashed or hung a reader run every time, before any mutation.
  if [ -d "$here/../Fuzz/regressions/$target" ]; then cp "$here/../Fuzz/regressions/$target/"* "$corpus/"; fi
  start=$SECONDS
  case $mode in
    smoke)
      runs=${3:-2000}
      # An HDF5 input is read by a child process (milliseconds, up to its one-second limit on a
      # file that makes libhdf5 loop): a tenth of the mutations keeps the smoke within minutes.
      [ "$target" = hdf5-surface ] && runs=$(( runs / 10 ))
      limit=${FUZZ_SMOKE_LIMIT:-300}
      before=$failed
      # A reader that loops forever on some input must fail the run, not wedge it.
      timeout -k 5 "$limit" "$binary" smoke "$target" "$corpus" -runs="$runs" -last-input="$work/last-input-$target" \
        >"$work/out" 2>&1
      rc=$?
      if [ $rc -eq 0 ]; then pass "$target ($runs mutations)"
      elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then fail "$target: still running after $limit s (a reader hangs)"
      elif [ $rc -gt 128 ]; then fail "$target: crashed (signal $((rc - 128)))"; sed 's/^/        /' "$work/out" | tail -20
      else fail "$target (exit $rc)"; sed 's/^/        /' "$work/out" | tail -20; fi
      if [ $failed -gt $before ] && [ -f "$work/last-input-$target" ]; then
        mkdir -p "$artifacts/$target" && cp "$work/last-input-$target" "$artifacts/$target/smoke-crash"
        echo "        the input it failed on: $artifacts/$target/smoke-crash"
      fi
      ;;
    libfuzzer)
      seconds=${3:-60}
      mkdir -p "$artifacts/$target"
      # -timeout: one input taking longer is a hang; -rss_limit_mb/-malloc_limit_mb: a reader
      # asking for more memory than any seed-sized input justifies is a bug. -detect_leaks=0:
      # Foundation's Data(contentsOf:) leaks a 4 KiB buffer on every empty file (not ours to fix),
      # and a leak is not what this run looks for.
      check "$target (${seconds} s)" "$binary" "$target" "$corpus" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$target/"
      for stat in number_of_executed_units average_exec_per_sec new_units_added peak_rss_mb; do
        grep -m1 "^stat::$stat:" "$work/out" | sed "s/^/        /"
      done
      ;;
    *) echo "unknown mode $mode"; exit 2 ;;
  esac
  echo "        $((SECONDS - start)) s"
done
finish fuzz
