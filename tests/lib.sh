# Shared by the shell test scripts: a scratch folder, counters and the check helpers.
# Source it after setting -uo pipefail; call `finish NAME` at the end.
work=$(mktemp -d)
# The python that checks files (numpy, h5py): $TERRAIN_TEST_PYTHON when set (make test picks one
# that has both: Debian's python3-numpy and python3-h5py belong to /usr/bin/python3, and a python3
# earlier on PATH, such as pyenv's, may lack them), else python3 from the PATH.
if [ -n "${TERRAIN_TEST_PYTHON:-}" ]; then
  python3() { "$TERRAIN_TEST_PYTHON" "$@"; }
  export -f python3
  export TERRAIN_TEST_PYTHON
fi
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
pass() { echo "  ok    $1"; passed=$((passed + 1)); }
fail() { echo "  FAIL  $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: passes when the command succeeds; shows its output's tail otherwise.
check() { local name=$1; shift; if "$@" >"$work/out" 2>&1; then pass "$name"; else fail "$name"; sed 's/^/        /' "$work/out" | tail -20; fi; }
# rejects NAME PATTERN COMMAND...: the command must fail cleanly (exit 1..125, not a signal)
# with a message matching PATTERN.
rejects() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$work/out" 2>&1; local rc=$?
  if [ $rc -ge 1 ] && [ $rc -le 125 ] && grep -qiE "$pattern" "$work/out"; then pass "$name"
  else fail "$name (exit $rc)"; sed 's/^/        /' "$work/out" | tail -10; fi
}
# kill_run PID: SIGKILL a command started in the background with `&`, and what it started: a shell
# function run with `&` is a subshell that runs terrain as its child, and killing the subshell
# alone would leave terrain running (beside the resumed run a test starts next).
kill_run() {
  local pid=$1 stat line
  # Its children first, found by their parent in /proc/*/stat (the field after the name, which
  # is in parentheses and may hold spaces, is the state, then the parent's pid).
  for stat in /proc/[0-9]*/stat; do
    read -r line < "$stat" 2>/dev/null || continue
    line=${line##*) }
    set -- $line
    [ "${2:-}" = "$pid" ] && kill_run "${stat//[^0-9]/}"
  done
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  return 0
}
# skip WHAT: a check that cannot run for want of a tool. Under `make test`
# (TERRAIN_REQUIRE_CROSSCHECKS=1), whose set-up installs every tool, that is a failure: a
# comparison that was skipped checked nothing.
skip() {
  if [ "${TERRAIN_REQUIRE_CROSSCHECKS:-}" = 1 ]; then fail "$1 (make test installs what this needs)"
  else echo "  skip  $1"; fi
}
# finish NAME: the closing line CI reads, and the exit status.
finish() { echo "$1: $passed passed, $failed failed"; [ $failed -eq 0 ]; }

# $digits: a small real image set in scikit-learn's digits CSV layout (1797 rows of 8x8 pixels in
# 0..16, then the label), made from Debian's Fashion-MNIST by tests/data/fashion_digits.py: a
# user's clone has no copy of the digits beside it. Made once per script, in its scratch folder.
tests_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
digits=$work/digits.csv.gz
check "make the test images (Fashion-MNIST in the digits layout)" python3 "$tests_dir/data/fashion_digits.py" "$digits"
