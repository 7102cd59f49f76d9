#!/usr/bin/env bash
# Distributed surfaces for real: `terrain` (which loads Open MPI at run time) under
# `mpirun -n 2` must write exactly the bits one process writes, with one writer (no HDF5 lock
# errors) and resumably.
# Usage: tests/mpi.sh [path/to/terrain]   (default: .build/release/terrain)
set -uo pipefail
if ! command -v mpirun >/dev/null; then
  echo "mpi: skipped (no mpirun on PATH; install openmpi-bin, or run make deps)"
  # Under make test, whose set-up installs OpenMPI, a skipped check is a failure.
  [ "${TERRAIN_REQUIRE_CROSSCHECKS:-}" = 1 ] && { echo "mpi: 0 passed, 1 failed"; exit 1; }
  exit 0
fi
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
  terrain=$(realpath "$1")
else
  terrain=$(realpath .build/release/terrain) || exit 1
fi
[ -x "$terrain" ] || { echo "mpi: no terrain binary at $terrain"; exit 1; }
source tests/lib.sh
mpi() { mpirun --allow-run-as-root --oversubscribe -n 2 "$@"; }
hdf5_errors='HDF5-DIAG|unable to lock|H5F|H5D|HDF5 error|resource temporarily unavailable'

echo "terrain MPI checks ($(mpirun --version 2>/dev/null | head -1))"
check "train a tiny MLP" "$terrain" train --quiet --model mlp --hidden 16 --dataset "$digits" \
  --epochs 1 --out "$work/run"
ckpt="$work/run/final.safetensors"
surface() { "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:11 --y=-1:1:11 --data train,test "$@"; }

check "one process writes the surface" surface --out "$work/one.h5"
mpi "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:11 --y=-1:1:11 --data train,test --threads 1 \
  --out "$work/two.h5" >"$work/two.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then pass "mpirun -n 2 writes the surface"; else fail "mpirun -n 2 writes the surface (exit $rc)"; tail -20 "$work/two.log" | sed 's/^/        /'; fi
check "no HDF5 error text under mpirun" bash -c "! grep -qiE '$hdf5_errors' '$work/two.log'"
check "only rank 0 prints the summary" bash -c "[ \$(grep -c '^written to' '$work/two.log') -eq 1 ] && grep -q '2 ranks' '$work/two.log'"
check "no journal or partial file left" bash -c "! ls -a '$work' | grep -qE 'journal|partial'"
if python3 -c "import h5py" 2>/dev/null; then
  check "two ranks and one process: bit-identical datasets, no NaN" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/one.h5', 'r'), h5py.File('$work/two.h5', 'r')
for k in ['train_loss', 'train_acc', 'test_loss', 'test_acc']:
    assert b[k].shape == (11, 11), (k, b[k].shape)
    assert not np.isnan(b[k][:]).any(), k
    assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), k
assert np.array_equal(a['xcoordinates'][:], b['xcoordinates'][:]) and np.array_equal(a['ycoordinates'][:], b['ycoordinates'][:])"
  check "the directions rank 0 wrote equal one process's" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/one.directions.h5', 'r'), h5py.File('$work/two.directions.h5', 'r')
for g in ['xdirection', 'ydirection']:
    assert list(a[g]) == list(b[g])
    for k in a[g]: assert np.array_equal(a[g][k][:], b[g][k][:]), (g, k)"
else
  skip "h5py checks (python3 h5py not installed)"
fi

# A distributed run killed mid-way (kill -9 of its ranks) and started again resumes from rank 0's
# file and journal and ends with the uninterrupted single-process bits.
big() { "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:41 --y=-1:1:41 --data train "$@"; }
check "one process writes a 41x41 surface" big --out "$work/big1.h5"
# mpirun itself in the background (not through a function, whose $! would be a subshell's).
mpirun --allow-run-as-root --oversubscribe -n 2 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:41 --y=-1:1:41 \
  --data train --threads 1 --out "$work/big2.h5" >"$work/killed.log" 2>&1 &
pid=$!
# Kill once rank 0's journal holds a few points (polling, so the test does not race).
for _ in $(seq 300); do
  [ "$(stat -c %s "$work/big2.h5.journal" 2>/dev/null || echo 0)" -gt 200 ] && break
  sleep 0.05
done
ranks=$(pgrep -P $pid)
kill -9 $ranks 2>/dev/null; wait $pid 2>/dev/null
# Gone: no such process, or a zombie nobody reaped (a container's init may not).
alive() { local p; for p in "$@"; do case "$(ps -o stat= -p "$p" 2>/dev/null)" in ""|Z*) ;; *) return 0;; esac; done; return 1; }
if [ -n "$ranks" ] && ! alive $ranks; then pass "the killed run's ranks ($(echo $ranks)) are gone"
else fail "the killed run's ranks ($(echo $ranks)) are gone"; fi
mpi "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:41 --y=-1:1:41 --data train --threads 1 \
  --out "$work/big2.h5" >"$work/resumed.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then pass "a killed distributed run resumes under mpirun"; else fail "a killed distributed run resumes (exit $rc)"; tail -20 "$work/resumed.log" | sed 's/^/        /'; fi
grep -h '^resumed' "$work/resumed.log" | sed 's/^/        /'
check "no HDF5 error text in the killed or resumed run" bash -c "! grep -qiE '$hdf5_errors' '$work/killed.log' '$work/resumed.log'"
if python3 -c "import h5py" 2>/dev/null; then
  check "the resumed distributed surface is bit-identical to one process's" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/big1.h5', 'r'), h5py.File('$work/big2.h5', 'r')
print('resumed points:', b.attrs['terrain.resumed_points'])
r = b.attrs['terrain.resumed_points']
assert 0 < r < 41 * 41, 'the first run was not killed mid-way: %d points resumed' % r
for k in ['train_loss', 'train_acc']:
    assert not np.isnan(b[k][:]).any(), k
    assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), k"
fi

# An ensemble (--repeats) is one grid of K x P points: split over the ranks like any surface.
"$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:7 --y=-1:1:5 --subset 200 --repeats 3 --out "$work/rep1.h5" > /dev/null
mpi "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:7 --y=-1:1:5 --subset 200 --repeats 3 --threads 1 --out "$work/rep2.h5" > "$work/rep2.log" 2>&1
if python3 -c "import h5py" 2>/dev/null; then
  check "an ensemble under mpirun -n 2: every member, mean and std bit-identical to one process's" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/rep1.h5', 'r')['repeats'], h5py.File('$work/rep2.h5', 'r')['repeats']
for k in ['0', '1', '2', 'mean', 'std', 'count']:
    for q in ['train_loss', 'train_acc']:
        assert np.array_equal(a[k][q][:].view(np.uint64), b[k][q][:].view(np.uint64)), (k, q)"
fi

# A sampled surface (--data-tolerance) under mpirun -n 2: each rank evaluates the pilot and its
# share of the points; the bits of one process.
sampled() { "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:7 --y=-1:1:7 --data train --data-tolerance 20% --data-min-samples 256 "$@"; }
sampled --out "$work/sampled1.h5" > /dev/null
mpi "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:7 --y=-1:1:7 --data train --data-tolerance 20% --data-min-samples 256 \
  --threads 1 --out "$work/sampled2.h5" > "$work/sampled2.log" 2>&1
if python3 -c "import h5py" 2>/dev/null; then
  check "a sampled surface under mpirun -n 2: loss, SE and sample counts bit-identical to one process's" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/sampled1.h5', 'r'), h5py.File('$work/sampled2.h5', 'r')
for k in ['train_loss', 'train_acc', 'train_loss_stderr', 'train_loss_samples']:
    assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), k
assert a.attrs['terrain.sampling.samples_evaluated'] == b.attrs['terrain.sampling.samples_evaluated']
assert (b['train_loss_samples'][:] < b.attrs['terrain.sampling.train_samples_total']).any(), 'no point sampled a prefix'"
fi

# A refused start (a different request in the output) stops every rank cleanly, without abort.
mpi "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:5 --data train --threads 1 --out "$work/two.h5" >"$work/refused.log" 2>&1
rc=$?
check "a refused start exits non-zero on every rank with rank 0's message" bash -c "
  [ $rc -ne 0 ] && grep -q 'different request' '$work/refused.log' && ! grep -q 'MPI_ABORT' '$work/refused.log'"

# A process a launcher started that cannot use Open MPI says why and stops, instead of running on
# as one of N copies that each write the whole surface. A library with the right name but none of
# MPI's symbols stands in for a broken installation.
if command -v cc >/dev/null; then
  mkdir -p "$work/fake-mpi" && cc -shared -fPIC -o "$work/fake-mpi/libmpi.so.40" -x c /dev/null
  OMPI_COMM_WORLD_SIZE=2 LD_LIBRARY_PATH="$work/fake-mpi" "$terrain" surface --quiet --checkpoint "$ckpt" \
    --x=-1:1:5 --data train --out "$work/fake.h5" >"$work/fake.log" 2>&1
  rc=$?
  check "a launched process without a usable Open MPI stops with the reason" bash -c "
    [ $rc -eq 69 ] && grep -q 'has no symbol MPI_Initialized' '$work/fake.log' && [ ! -e '$work/fake.h5' ]"
fi

finish mpi
