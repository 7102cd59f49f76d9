#!/usr/bin/env bash
# End-to-end checks of the `terrain` program: real runs, real files, bad input.
# Usage: tests/cli.sh path/to/terrain
set -uo pipefail
terrain=$(realpath "$1")
source "$(dirname "$0")/lib.sh"

echo "terrain CLI checks"
train() { "$terrain" train --quiet "$@"; }
check "train an MLP on the digits CSV" train --model mlp --hidden 32 --dataset "$digits" \
  --epochs 2 --batch-size 64 --lr 0.05 --save-every-iterations 10 --out "$work/digits"
for f in final.safetensors run.json metrics.csv metrics.jsonl iterations.csv checkpoints/epoch-0000.safetensors \
         checkpoints/epoch-0002.safetensors checkpoints/iter-00000010.safetensors; do
  check "run folder has $f" test -s "$work/digits/$f"
done
check "metrics.csv has a header and two epochs" bash -c "[ \$(wc -l < '$work/digits/metrics.csv') -eq 3 ]"
check "info describes the checkpoint" bash -c "'$terrain' info '$work/digits/final.safetensors' | grep -q 'model: mlp'"
check "evaluate --data test reports the test set alone, as the full report does" bash -c "
  one=\$('$terrain' evaluate '$work/digits/final.safetensors' --data test | grep -v '^normalization') &&
  both=\$('$terrain' evaluate '$work/digits/final.safetensors' | grep '^test: ') && [ \"\$one\" = \"\$both\" ]"
check "evaluate reproduces the final test accuracy" bash -c "
  acc=\$('$terrain' evaluate '$work/digits/final.safetensors' | sed -n 's/^test: .*accuracy \([0-9.]*\)%.*/\1/p')
  want=\$(python3 -c \"import json;print('%.2f' % json.load(open('$work/digits/run.json'))['final_test']['accuracy'])\")
  [ \"\$acc\" = \"\$want\" ]"

check "same seed, same checkpoint bytes" bash -c "
  '$terrain' train --quiet --model cnn --width 0.5 --dataset '$digits' --epochs 1 --out '$work/a' >/dev/null &&
  '$terrain' train --quiet --model cnn --width 0.5 --dataset '$digits' --epochs 1 --out '$work/b' >/dev/null &&
  cmp '$work/a/final.safetensors' '$work/b/final.safetensors'"
check "one thread and two threads give the same checkpoint bytes" bash -c "
  TERRAIN_THREADS=1 '$terrain' train --quiet --model cnn --width 0.5 --dataset '$digits' --epochs 1 --out '$work/t1' >/dev/null &&
  TERRAIN_THREADS=2 '$terrain' train --quiet --model cnn --width 0.5 --dataset '$digits' --epochs 1 --out '$work/t2' >/dev/null &&
  cmp '$work/t1/final.safetensors' '$work/t2/final.safetensors'"
check "regression on the noisy parabola with the classic 1-64-64-64-1 net" train --model mlp --hidden 64,64,64 --activation tanh \
  --dataset parabola --epochs 2 --optimizer adam --lr 0.01 --weight-decay 0 --out "$work/parabola"

# Surfaces: a 2D filter-normalized surface of the digits MLP, killed with SIGKILL mid-run and
# resumed, must end with exactly the values of an uninterrupted run.
ckpt="$work/digits/final.safetensors"
surface() { "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:41 --y -1:1:41 --data train,test "$@"; }
check "2D surface writes the reference's layout" surface --out "$work/whole.h5"
check "surface directions file exists" test -s "$work/whole.directions.h5"
check "1D interpolation between two checkpoints" "$terrain" interpolate --quiet "$work/digits/checkpoints/epoch-0000.safetensors" "$ckpt" \
  --steps 21 --range=-0.5:1.5 --out "$work/interp.h5"
surface --out "$work/killed.h5" > /dev/null 2>&1 &
pid=$!
sleep 1.5
kill_run $pid
check "a killed surface run resumes" surface --out "$work/killed.h5"
if python3 -c "import h5py" 2>/dev/null; then
  check "h5py reads the surface: shape (len(y), len(x)), no NaN left" python3 -c "
import h5py, numpy as np
f = h5py.File('$work/whole.h5', 'r')
assert f['train_loss'].shape == (41, 41) and f['xcoordinates'].shape == (41,), f['train_loss'].shape
assert not np.isnan(f['train_loss'][:]).any()
assert f['dir_file'][()].decode().endswith('whole.directions.h5')"
  check "resumed surface is bit-identical to the uninterrupted one" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/whole.h5', 'r'), h5py.File('$work/killed.h5', 'r')
print('resumed points:', b.attrs['terrain.resumed_points'])
for k in ['train_loss', 'train_acc', 'test_loss', 'test_acc']:
    assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), k"
  check "interpolation endpoints equal the checkpoints' own losses" python3 -c "
import h5py, numpy as np, json
f = h5py.File('$work/interp.h5', 'r'); x = f['xcoordinates'][:]; z = f['train_loss'][:]
assert x[0] == -0.5 and x[-1] == 1.5 and len(x) == 21
i1 = int(np.argmin(abs(x - 1))); assert x[i1] == 1.0
print('loss at alpha=1:', z[i1])"
else
  skip "h5py checks (python3 h5py not installed)"
fi

# terrain analyze: the topology of the 2D surface, printed and stored as analysis/<quantity>/,
# the rest of the file unchanged; a 1D file and a missing quantity are refused by name.
cp "$work/whole.h5" "$work/analyzed.h5"
check "analyze prints the critical points, the centre's basin and the roughness, and stores them" bash -c "
  '$terrain' analyze '$work/analyzed.h5' --levels 1.5 > '$work/analyze.txt' &&
  grep -qE '^critical points \(8-neighbourhood\): [0-9]+ minim(um|a), [0-9]+ saddles?, [0-9]+ maxim(um|a)$' '$work/analyze.txt' &&
  grep -q '^minima by persistence' '$work/analyze.txt' && grep -q '^basin of the centre (α ' '$work/analyze.txt' &&
  grep -q '^+25% of range ' '$work/analyze.txt' && grep -q '^absolute  *1.5 ' '$work/analyze.txt' &&
  grep -q '^roughness' '$work/analyze.txt' && grep -q 'stored in .*analyzed.h5 as analysis/train_loss/' '$work/analyze.txt'"
check "analyze --quantity test_loss is stored beside train_loss; --no-store leaves the file as it is" bash -c "
  '$terrain' analyze '$work/analyzed.h5' --quantity test_loss > /dev/null && cp '$work/analyzed.h5' '$work/analyzed-copy.h5' &&
  '$terrain' analyze '$work/analyzed.h5' --quantity train_acc --no-store > /dev/null && cmp '$work/analyzed.h5' '$work/analyzed-copy.h5'"
if python3 -c "import h5py" 2>/dev/null; then
  check "h5py: the analysis group, the surface unchanged, the minima those a brute-force 8-neighbour scan finds" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/whole.h5', 'r'), h5py.File('$work/analyzed.h5', 'r')
assert set(b.keys()) == set(a.keys()) | {'analysis'} and set(b['analysis'].keys()) == {'train_loss', 'test_loss'}
for k in a.keys():
    assert np.array_equal(a[k][()], b[k][()]), k
assert dict(a.attrs) == dict(b.attrs)
for q in ['train_loss', 'test_loss']:
    g = b['analysis'][q]; z = a[q][:]
    assert g.attrs['quantity'] == q and g['critical_kind'].shape == z.shape
    kind = g['critical_kind'][:]
    p = np.pad(z, 1, constant_values=np.inf)
    ring = [p[1 + dj:p.shape[0] - 1 + dj, 1 + di:p.shape[1] - 1 + di] for dj in (-1, 0, 1) for di in (-1, 0, 1) if (di, dj) != (0, 0)]
    minima = np.all([r > z for r in ring], axis=0)
    assert np.array_equal(minima, kind == 1), q
    assert g.attrs['minima'] == minima.sum() == len(g['minimum_value']), q
    assert np.isinf(g['minimum_death'][0]) and g['minimum_value'][0] == z.min(), q
    rise = ~np.isnan(g['basin_rise'][:])
    assert rise.sum() == 4 and np.all(np.diff(g['basin_area'][:][rise]) >= 0), q
assert b['analysis/train_loss/basin_level'][-1] == 1.5 and np.isnan(b['analysis/train_loss/basin_rise'][-1])
print('minima:', int(b['analysis/train_loss'].attrs['minima']), 'saddles:', int(b['analysis/train_loss'].attrs['saddles']))"
else
  skip "h5py checks of terrain analyze (python3 h5py not installed)"
fi
check "an analysed surface still plots" "$terrain" plot "$work/analyzed.h5" --kind contour --out "$work/analyzed-figures"
rejects "analyze: a 1D interpolation is refused, naming the file and what it holds" "interp.h5: holds a 1D curve of 21 points.*terrain interpolate" \
  "$terrain" analyze "$work/interp.h5"
rejects "analyze: a missing quantity is refused, listing those the file holds" "has no train_perplexity; it holds train_loss, train_acc, test_loss, test_acc" \
  "$terrain" analyze "$work/analyzed.h5" --quantity train_perplexity
rejects "analyze: a negative rise is refused" "rise takes fractions" "$terrain" analyze "$work/analyzed.h5" --rise=-0.1

# Adaptive refinement: the same 41x41 surface from a coarse lattice and the cells it leaves
# unresolved; computed points must be the full grid's bits, the rest marked in computed_mask.
# A killed adaptive run resumes to the same file.
check "adaptive surface: fewer points, the saving printed" bash -c "
  '$terrain' surface --quiet --checkpoint '$ckpt' --x=-1:1:41 --y -1:1:41 --data train,test --adaptive --out '$work/adaptive.h5' > '$work/adaptive.txt' &&
  grep -E 'computed [0-9]+ of 1681 points \([0-9]+% saved\)' '$work/adaptive.txt'"
surface --adaptive --out "$work/adaptive-killed.h5" > /dev/null 2>&1 &
pid=$!
sleep 1
kill_run $pid
check "a killed adaptive run resumes" surface --adaptive --out "$work/adaptive-killed.h5"
if python3 -c "import numpy" 2>/dev/null; then
  check "adaptive: computed points equal the full grid's bits, the rest marked 0; the resumed run's file is identical" bash -c "
  for n in whole adaptive adaptive-killed; do '$terrain' export '$work/'\$n.h5 '$work/'\$n.npz > /dev/null || exit 1; done
  python3 -c \"
import numpy as np
full, a, k = (np.load('$work/' + n + '.npz') for n in ('whole', 'adaptive', 'adaptive-killed'))
mask = a['computed_mask'].reshape(41, 41)
assert set(np.unique(mask)) <= {0.0, 1.0}
computed = int(mask.sum())
assert 0 < computed < 1681, computed
for q in ['train_loss', 'train_acc', 'test_loss', 'test_acc']:
    v, w = a[q], full[q]
    assert v.shape == (41, 41) and not np.isnan(v).any(), q
    assert np.array_equal(v[mask == 1].view(np.uint64), w[mask == 1].view(np.uint64)), q
    assert np.array_equal(v.view(np.uint64), k[q].view(np.uint64)), q
assert np.array_equal(a['computed_mask'], k['computed_mask'])
err = np.abs(a['train_loss'] - full['train_loss']).max()
print('computed', computed, 'of 1681; max |difference| to the full grid %.3g (range %.3g)' % (err, np.ptp(full['train_loss'])))
\""
else
  skip "numpy checks of the adaptive surface (python3 numpy not installed)"
fi
if python3 -c "import h5py" 2>/dev/null; then
  check "adaptive: the file's attributes and mask dataset" python3 -c "
import h5py
a = h5py.File('$work/adaptive.h5', 'r')
assert a['computed_mask'].shape == (41, 41)
assert a.attrs['terrain.adaptive.points_computed'] == a['computed_mask'][:].sum() and a.attrs['terrain.adaptive.points_total'] == 1681
assert a.attrs['terrain.adaptive.levels'] == 3 and a.attrs['terrain.adaptive.tolerance'] == 0.25"
else
  skip "h5py checks of the adaptive surface's attributes (python3 h5py not installed)"
fi
# Sampled surfaces (--data-tolerance): the same bits for 1 and 2 threads and after a kill; the
# saving printed, the per-point error and sample counts stored beside the losses.
sampled() { "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 --data train,test --data-tolerance 2% --data-min-samples 256 "$@"; }
check "sampled surface: the saving and the standard error printed" bash -c "
  TERRAIN_THREADS=1 '$terrain' surface --quiet --checkpoint '$ckpt' --x=-1:1:9 --y=-1:1:9 --data train,test --data-tolerance 2% \
    --data-min-samples 256 --out '$work/sampled1.h5' > '$work/sampled.txt' 2>&1 &&
  grep -E 'sampled [0-9]+ of [0-9]+ per-sample losses .*saved' '$work/sampled.txt' && grep -q '^train_loss: standard error at most' '$work/sampled.txt'"
TERRAIN_THREADS=2 sampled --out "$work/sampled2.h5" > /dev/null 2>&1
sampled --out "$work/sampled-killed.h5" > /dev/null 2>&1 &
pid=$!
sleep 1
kill_run $pid
check "a killed sampled run resumes" sampled --out "$work/sampled-killed.h5"
# Killed once its pilot is done (the surface's journal exists only after it; 41x41 on one thread
# leaves about a second of points after the pilot's 36): the resumed run reads the pilot back
# from S.h5.pilot.journal, removes it once complete, and gives an uninterrupted run's bits.
sampled41() { TERRAIN_THREADS=1 "$terrain" surface --checkpoint "$ckpt" --x=-1:1:41 --y=-1:1:41 --data train,test --data-tolerance 2% --data-min-samples 256 "$@"; }
sampled41 --quiet --out "$work/sampled-pilot.h5" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 3000); do [ -e "$work/sampled-pilot.h5.journal" ] && break; sleep 0.01; done
kill_run $pid
check "a sampled run killed after its pilot reads the pilot back instead of evaluating it again" bash -c "
  test -s '$work/sampled-pilot.h5.pilot.journal' &&
  TERRAIN_THREADS=1 '$terrain' surface --checkpoint '$ckpt' --x=-1:1:41 --y=-1:1:41 --data train,test --data-tolerance 2% \
    --data-min-samples 256 --out '$work/sampled-pilot.h5' 2>&1 | grep -q '36 of the pilot.s points read back' &&
  test ! -e '$work/sampled-pilot.h5.pilot.journal'"
sampled41 --quiet --out "$work/sampled-whole41.h5" > /dev/null 2>&1
# One process at a time on an output (OutputLock): a second is refused while the first runs (its
# pilot included; stopped there, so that it cannot finish first), and the lock file a killed run
# leaves holds nothing.
TERRAIN_THREADS=1 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:41 --y=-1:1:41 --data train,test --data-tolerance 2% \
  --data-min-samples 256 --out "$work/sampled-locked.h5" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 3000); do [ -s "$work/sampled-locked.h5.lock" ] && break; sleep 0.01; done
kill -STOP $pid
rejects "the same output while another process computes it is refused, naming that process" "is being computed by another process $pid on [^ ]+ now" \
  sampled41 --out "$work/sampled-locked.h5"
kill_run $pid
check "a killed run's lock file holds no lock: the same command resumes, and removes it" bash -c "
  test -e '$work/sampled-locked.h5.lock' &&
  TERRAIN_THREADS=1 '$terrain' surface --quiet --checkpoint '$ckpt' --x=-1:1:41 --y=-1:1:41 --data train,test --data-tolerance 2% \
    --data-min-samples 256 --out '$work/sampled-locked.h5' > /dev/null && test ! -e '$work/sampled-locked.h5.lock' &&
  python3 -c \"
import h5py, numpy as np
a, b = h5py.File('$work/sampled-locked.h5', 'r'), h5py.File('$work/sampled-whole41.h5', 'r')
assert np.array_equal(a['train_loss'][:].view(np.uint64), b['train_loss'][:].view(np.uint64))\""
rejects "sampled: an output of another request is refused before the pilot" "different request" \
  "$terrain" surface --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 --data train,test --data-tolerance 2% --data-seed 5 --out "$work/sampled1.h5"
check "a refused sampled run leaves no pilot journal" test ! -e "$work/sampled1.h5.pilot.journal"
# The same command again on a complete file (for its figures): no pilot, the file as it was.
cp "$work/sampled-whole41.h5" "$work/sampled-whole41.before.h5"
check "a complete sampled surface run again computes nothing, not even its pilot, and keeps its file" bash -c "
  sampled41() { TERRAIN_THREADS=1 '$terrain' surface --checkpoint '$ckpt' --x=-1:1:41 --y=-1:1:41 --data train,test --data-tolerance 2% --data-min-samples 256 \"\$@\"; }
  sampled41 --out '$work/sampled-whole41.h5' > '$work/again.txt' 2>&1 &&
  grep -q 'already holds every point of this request: nothing to compute' '$work/again.txt' &&
  grep -q 'sampled [0-9]* of [0-9]* per-sample losses' '$work/again.txt' &&
  ! grep -q 'pilot' '$work/again.txt' && test ! -e '$work/sampled-whole41.h5.pilot.journal' &&
  cmp '$work/sampled-whole41.h5' '$work/sampled-whole41.before.h5'"
rejects "sampled: a zero tolerance is refused" "data-tolerance" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:5 --data-tolerance 0 --out "$work/bad.h5"
rejects "sampled: --data-seed needs --data-tolerance" "go with --data-tolerance" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:5 --data-seed 3 --out "$work/bad.h5"
rejects "sampled: --data-pilot-stride needs --data-tolerance" "go with --data-tolerance" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:5 --data-pilot-stride 2 --out "$work/bad.h5"
rejects "sampled: a zero pilot stride is refused" "data-pilot-stride" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:5 --data-tolerance 1% --data-pilot-stride 0 --out "$work/bad.h5"
if python3 -c "import h5py" 2>/dev/null; then
  check "sampled: 1 and 2 threads and a resumed run give the same bits; SE and samples per point; SE 0 where the whole set was used" python3 -c "
import h5py, numpy as np
a = h5py.File('$work/sampled1.h5', 'r')
names = ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'train_loss_stderr', 'train_loss_samples', 'test_loss_stderr', 'test_loss_samples']
for other in ['sampled2', 'sampled-killed']:
    b = h5py.File('$work/' + other + '.h5', 'r')
    for k in names:
        assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), (other, k)
n, se = a['train_loss_samples'][:], a['train_loss_stderr'][:]
total = a.attrs['terrain.sampling.train_samples_total']
assert n.shape == (9, 9) and (n >= 256).all() and (n <= total).all() and (se[n == total] == 0).all() and (se[n < total] > 0).all()
assert (n < total).any(), 'no point sampled a prefix'
assert a.attrs['terrain.sampling.samples_evaluated'] <= a.attrs['terrain.sampling.samples_exact']
assert a.attrs['terrain.sampling.tolerance_unit'] == 'contour spacing' and a.attrs['terrain.sampling.tolerance'] == 0.02
# The pilot on 9 points a side: stride 2 (a quarter of the axis, at least 2), rows and columns 0, 2, ... 8, exact.
assert a.attrs['terrain.sampling.pilot_stride'] == 2 and a.attrs['terrain.sampling.pilot_stride_y'] == 2
assert a.attrs['terrain.sampling.pilot_points'] == 25 and (n[::2, ::2] == total).all()
print('samples a point:', int(n.min()), 'to', int(n.max()), 'of', int(total))"
  check "sampled: a run resumed after its pilot gives an uninterrupted run's bits" python3 -c "
import h5py, numpy as np
a, b = h5py.File('$work/sampled-whole41.h5', 'r'), h5py.File('$work/sampled-pilot.h5', 'r')
for k in ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'train_loss_stderr', 'train_loss_samples', 'test_loss_stderr', 'test_loss_samples']:
    assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), k
assert b.attrs['terrain.resumed_points'] < 41 * 41"
fi
rejects "adaptive: a 1D curve is refused" "2D" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:9 --adaptive --out "$work/bad.h5"
rejects "adaptive options need --adaptive" "go with --adaptive" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 \
  --adaptive-tolerance 0.1 --out "$work/bad.h5"
rejects "adaptive: a zero tolerance is refused" "tolerance" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 \
  --adaptive --adaptive-tolerance 0 --out "$work/bad.h5"
rejects "an adaptive file is not taken for a full grid's" "different request" surface --out "$work/adaptive.h5"

# bf16 (--precision): refused, saying why, under TERRAIN_DISABLE_BF16=1 on any CPU. Where the CPU
# has bf16, a run prints and stores its own error (PrecisionCheck), is another request than fp32's
# (its fingerprint), and a model on the layer-by-layer path is refused rather than run in fp32.
cnn="$work/a/final.safetensors"
rejects "--precision bf16 is refused under TERRAIN_DISABLE_BF16=1" "disabled by TERRAIN_DISABLE_BF16" \
  env TERRAIN_DISABLE_BF16=1 "$terrain" surface --checkpoint "$cnn" --x=-1:1:3 --precision bf16 --out "$work/bf16.h5"
if grep -qwE 'avx512_bf16|amx_bf16' /proc/cpuinfo && [ -z "${TERRAIN_DISABLE_BF16:-}" ]; then
  check "a bf16 surface prints and stores its error, and an fp32 run does not resume it" bash -c "
    '$terrain' surface --quiet --checkpoint '$cnn' --x=-1:1:5 --y=-1:1:5 --precision bf16 --out '$work/bf16.h5' | grep -q '^bf16 error' &&
    grep -q terrain.bf16.max_error_in_contour_spacings '$work/bf16.h5' &&
    '$terrain' surface --quiet --checkpoint '$cnn' --x=-1:1:5 --y=-1:1:5 --out '$work/bf16.h5' 2>&1 | grep -q 'different request'"
  check "the bf16 check times both precisions, stores the seconds and says how fast bf16 was" bash -c "
    '$terrain' surface --checkpoint '$cnn' --x=-1:1:5 --y=-1:1:5 --precision bf16 --out '$work/bf16-timed.h5' > '$work/bf16-timed.txt' 2>&1 &&
    grep -qE '^bf16 error.*; bf16 [0-9.]+x as fast as fp32 at those points' '$work/bf16-timed.txt' &&
    grep -q terrain.bf16.check_seconds_fp32 '$work/bf16-timed.h5' &&
    if grep -qw amx_bf16 /proc/cpuinfo; then ! grep -q 'without AMX' '$work/bf16-timed.txt'
    else grep -q '^note: bf16 runs here on AVX-512 BF16 without AMX' '$work/bf16-timed.txt'; fi"
  check "a complete bf16 surface run again keeps its stored check and says it again" bash -c "
    cp '$work/bf16.h5' '$work/bf16.before.h5' &&
    '$terrain' surface --checkpoint '$cnn' --x=-1:1:5 --y=-1:1:5 --precision bf16 --out '$work/bf16.h5' > '$work/bf16-again.txt' 2>&1 &&
    grep -q 'nothing to compute' '$work/bf16-again.txt' && grep -q '^bf16 error' '$work/bf16-again.txt' &&
    cmp '$work/bf16.h5' '$work/bf16.before.h5'"
  rejects "--precision bf16 is refused for a model evaluated layer by layer" "layer by layer" \
    env TERRAIN_EVALUATION=layers "$terrain" surface --checkpoint "$cnn" --x=-1:1:3 --precision bf16 --out "$work/bf16-layers.h5"
else
  echo "  skip  bf16 surfaces (this CPU has no bf16 instructions, or TERRAIN_DISABLE_BF16 is set)"
fi

check "trajectory: PCA of the run's checkpoints and a surface on that plane" "$terrain" trajectory --quiet --run "$work/digits" \
  --steps 5 --out "$work/traj.h5"
check "trajectory writes the projection file" test -s "$work/traj.projection.h5"
check "plane through three checkpoints" "$terrain" plane --quiet "$work/digits/checkpoints/epoch-0000.safetensors" \
  "$work/digits/checkpoints/iter-00000010.safetensors" "$ckpt" --x=-0.5:1.5:5 --y=-0.5:1.5:5 --out "$work/plane.h5"

# Mode connectivity: a curve between two MLPs trained from different seeds.
ends() { for seed in 1 2; do
  "$terrain" train --quiet --model mlp --hidden 32 --dataset "$digits" --epochs 4 --lr 0.05 --seed $seed --model-seed $seed \
    --out "$work/mode$seed" > /dev/null || return 1; done; }
check "connect: two MLPs from different seeds, the ends of the curve" ends
connect() { "$terrain" connect --quiet "$work/mode1/final.safetensors" "$work/mode2/final.safetensors" --epochs 4 --points 11 --plane-grid 5 "$@"; }
check "connect: a Bézier curve between them, its loss and the line's, the plane through A, B and the bend" connect --out "$work/connect"
cp "$work/out" "$work/connect.txt"
check "connect: the summary gives the barrier along the line and along the curve" grep -q "barrier (line).*barrier (curve)" "$work/connect.txt"
check "connect: the curve's train barrier is below the line's" awk '$1 == "train" { found = 1; if (!($6 < $4)) exit 1 } END { exit !found }' "$work/connect.txt"
check "connect: the same command again reuses the trained curve, and the files keep their values" bash -c "
  cp '$work/connect/curve.safetensors' '$work/connect-bend.safetensors' &&
  '$terrain' connect --quiet '$work/mode1/final.safetensors' '$work/mode2/final.safetensors' --epochs 4 --points 11 --plane-grid 5 \
    --out '$work/connect' | grep -q 'trained already' &&
  cmp '$work/connect/curve.safetensors' '$work/connect-bend.safetensors'"
check "connect: one thread and two threads give the same polygonal chain's bytes" bash -c "
  TERRAIN_THREADS=1 '$terrain' connect --quiet '$work/mode1/final.safetensors' '$work/mode2/final.safetensors' --curve polychain \
    --epochs 2 --points 5 --plane-grid 0 --out '$work/chain1' > /dev/null &&
  TERRAIN_THREADS=2 '$terrain' connect --quiet '$work/mode1/final.safetensors' '$work/mode2/final.safetensors' --curve polychain \
    --epochs 2 --points 5 --plane-grid 0 --out '$work/chain2' > /dev/null &&
  cmp '$work/chain1/curve.safetensors' '$work/chain2/curve.safetensors'"
check "connect: killed at any moment and run again, the same bend as a run never killed" bash -c "
  ends='$work/mode1/final.safetensors $work/mode2/final.safetensors'
  timeout -s KILL 1 '$terrain' connect --quiet \$ends --epochs 12 --points 5 --plane-grid 0 --out '$work/killed' > /dev/null
  '$terrain' connect --quiet \$ends --epochs 12 --points 5 --plane-grid 0 --out '$work/killed' > /dev/null &&
  '$terrain' connect --quiet \$ends --epochs 12 --points 5 --plane-grid 0 --out '$work/unkilled' > /dev/null &&
  cmp '$work/killed/curve.safetensors' '$work/unkilled/curve.safetensors' &&
  diff <(cut -d, -f1-5 '$work/killed/training/metrics.csv') <(cut -d, -f1-5 '$work/unkilled/training/metrics.csv')"
check "connect: plot draws the curve against the line and the plane with the curve on it" bash -c "
  '$terrain' plot '$work/connect/curve.h5' '$work/connect/plane.h5' --out '$work/connect-figs' > /dev/null &&
  test -s '$work/connect-figs/curve_1d.png' && test -s '$work/connect-figs/plane_train_loss_trajectory.png' &&
  '$terrain' plot '$work/connect/training' --out '$work/connect-figs' > /dev/null"
check "connect: plot --compare overlays the curve file (its curve and its line) with an interpolation" bash -c "
  '$terrain' interpolate --quiet '$work/mode1/final.safetensors' '$work/mode2/final.safetensors' --steps 5 --subset 200 \
    --data train,test --out '$work/mode-line.h5' > /dev/null &&
  '$terrain' plot '$work/connect/curve.h5' '$work/mode-line.h5' --compare --kind 1d --out '$work/connect-compare' > /dev/null &&
  test -s '$work/connect-compare/compare_1d.png' && test -s '$work/connect-compare/compare_1d_log.png'"
check "connect: view shows the curve and the plane" "$terrain" view "$work/connect/curve.h5" "$work/connect/plane.h5" --out "$work/connect-view.html"
rejects "connect: two different architectures are refused" "different models \\(mlp and cnn\\)" \
  "$terrain" connect "$work/mode1/final.safetensors" "$work/a/final.safetensors" --out "$work/never-connect"
rejects "connect: a curve of one point is refused" "points must be at least 2" connect --points 1 --out "$work/never-connect"
rejects "connect: a file that is not a checkpoint is refused, by name" "B \\(.*digits.csv.gz\\) is not a Terrain checkpoint" \
  "$terrain" connect "$work/mode1/final.safetensors" "$digits" --out "$work/never-connect"
check "nothing written for the refused curves" test ! -e "$work/never-connect/curve.safetensors"
# Landscapes through training: a surface around each of the digits run's 7 checkpoints, killed
# with SIGKILL and resumed; frame k must be `terrain surface` around checkpoint k, bit for bit.
evolve() { "$terrain" evolve --quiet --run "$work/digits" --x=-1:1:9 --y=-1:1:9 --data train,test "$@"; }
check "evolve: a surface riding on each checkpoint of the digits run" evolve --out "$work/evolve.h5"
evolve --out "$work/evolve-killed.h5" > /dev/null 2>&1 &
pid=$!
sleep 1.5
kill_run $pid
check "a killed evolve run resumes" evolve --out "$work/evolve-killed.h5"
"$terrain" surface --quiet --checkpoint "$work/digits/checkpoints/iter-00000020.safetensors" --x=-1:1:9 --y=-1:1:9 \
  --data train,test --out "$work/frame2.h5" > /dev/null
check "evolve --mode fixed-pca: the run's PCA plane, the epoch checkpoints moving across it" "$terrain" evolve --quiet \
  --run "$work/digits" --mode fixed-pca --steps 5 --frames epochs --out "$work/fixed.h5"
if python3 -c "import h5py" 2>/dev/null; then
  check "h5py reads the stack: (frames, len(y), len(x)) datasets, frame names, metrics; resumed = whole; frame 2 = terrain surface" python3 -c "
import h5py, numpy as np
a, b, s = h5py.File('$work/evolve.h5', 'r'), h5py.File('$work/evolve-killed.h5', 'r'), h5py.File('$work/frame2.h5', 'r')
assert a['train_loss'].shape == (7, 9, 9) and a['xcoordinates'].shape == (9,), a['train_loss'].shape
assert a.attrs['terrain.evolve.mode'] == 'riding'
names = list(a['frame_checkpoint'].asstr()[:]); assert names[2].endswith('iter-00000020.safetensors'), names
assert list(a['frame_iteration'][:]) == [0, 10, 20, 23, 30, 40, 46], a['frame_iteration'][:]
assert np.array_equal(a['frame_train_loss'][:], a['train_loss'][:, 4, 4])
assert np.isnan(a['frame_logged_test_acc'][0]) and 0 < a['frame_logged_test_acc'][-1] <= 100
print('resumed points:', b.attrs['terrain.resumed_points'])
for k in ['train_loss', 'train_acc', 'test_loss', 'test_acc']:
    assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), k
    assert np.array_equal(a[k][2].view(np.uint64), s[k][:].view(np.uint64)), k"
  check "fixed-pca: every frame is the trajectory's surface; frames at the path's points" python3 -c "
import h5py, numpy as np
f, t = h5py.File('$work/fixed.h5', 'r'), h5py.File('$work/traj.h5', 'r')
assert f['train_loss'].shape == (3, 5, 5) and f.attrs['terrain.evolve.mode'] == 'fixed-pca'
for k in range(3): assert np.array_equal(f['train_loss'][k].view(np.uint64), t['train_loss'][:].view(np.uint64)), k
assert np.array_equal(f['path_x'][:], t['path_x'][:]) and f['frame_x'][-1] == 0 and f['frame_x'][0] == t['path_x'][0]
assert f['dir_file'][()].decode().endswith('fixed.directions.h5')"
fi
check "animate the stack to a GIF, its frames as PNG too" "$terrain" animate "$work/evolve.h5" --out "$work/evolve.gif" \
  --png-frames "$work/evolve-frames" --scale 0.75
check "animate the fixed plane in 3D" "$terrain" animate "$work/fixed.h5" --view 3d --out "$work/fixed3d.gif" --scale 0.5
check "the GIF starts GIF89a at the frames' size, and 7 PNG frames were written" python3 -c "
import struct, glob
g = open('$work/evolve.gif', 'rb').read(); w, h = struct.unpack('<HH', g[6:10])
assert g[:6] == b'GIF89a' and g[-1:] == b';', g[:6]
p = open('$work/evolve-frames/frame-0006.png', 'rb').read(); pw, ph = struct.unpack('>II', p[16:24])
assert (w, h) == (pw, ph) == (450, 383), (w, h, pw, ph)
assert len(glob.glob('$work/evolve-frames/frame-*.png')) == 7"
if command -v ffmpeg >/dev/null; then
  check "ffmpeg decodes the GIF: 7 frames, each the PNG frame up to the palette" python3 -c "
import subprocess
def raw(path):
    r = subprocess.run(['ffmpeg', '-loglevel', 'error', '-i', path, '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], capture_output=True)
    assert r.returncode == 0, r.stderr; return r.stdout
gif = raw('$work/evolve.gif'); size = 450 * 383 * 3
assert len(gif) == 7 * size, len(gif) / size
for k in range(7):
    png = raw('$work/evolve-frames/frame-%04d.png' % k); frame = gif[k * size:(k + 1) * size]
    diff = sum(abs(a - b) for a, b in zip(png[::97], frame[::97])) / len(png[::97])
    assert diff < 1.5, (k, diff)"
  check "animate to MP4 and WebM through ffmpeg" "$terrain" animate "$work/evolve.h5" --out "$work/evolve.mp4" --out "$work/evolve.webm" --scale 0.75
  check "ffprobe: H.264 and VP9, 7 frames and a 1 s hold at 4 fps, even sizes" bash -c "
    for f in mp4:h264 webm:vp9; do
      info=\$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames -of csv=p=0 '$work/evolve.'\${f%%:*})
      [ \"\$info\" = \"\${f#*:},450,384,11\" ] || { echo \"\$f: \$info\"; exit 1; }
    done"
else
  rejects "animate to MP4 without ffmpeg says so" "ffmpeg" "$terrain" animate "$work/evolve.h5" --out "$work/evolve.mp4"
fi
rejects "animate: a plain surface is not a stack" "not a stack" "$terrain" animate "$work/frame2.h5"
rejects "plot: a stack is refused with a pointer to animate" "terrain animate" "$terrain" plot "$work/evolve.h5"
rejects "animate: an unknown format is named" "gif, mp4 or webm" "$terrain" animate "$work/evolve.h5" --out "$work/e.avi"
rejects "evolve: a folder that is not a run" "run.json" "$terrain" evolve --run "$work/nothing" --out "$work/x.h5"
rejects "evolve: another request is not mixed in" "different request" evolve --seed 5 --out "$work/evolve.h5"
# Sharpness: the initial and the final digits MLP side by side, a table row and a CSV row each.
sharp=("$work/digits/checkpoints/epoch-0000.safetensors" "$work/digits/checkpoints/epoch-0002.safetensors")
check "sharpness of two checkpoints" "$terrain" sharpness --quiet "${sharp[@]}" --subset 200 --direction-count 3 --ascent-steps 5 \
  --eigenvalue --max-iterations 10 --csv "$work/sharpness.csv"
# (the old spelling --directions, kept as a hidden alias of --direction-count)
check "sharpness prints a row per checkpoint" bash -c "
  out=\$('$terrain' sharpness --quiet '${sharp[0]}' '${sharp[1]}' --subset 200 --directions 3 --ascent-steps 5) &&
  echo \"\$out\" | grep -q '^checkpoint .*ε-sharpness' && echo \"\$out\" | grep -q '^epoch-0000.safetensors ' &&
  echo \"\$out\" | grep -q '^epoch-0002.safetensors '"
check "sharpness CSV: a header and two rows" bash -c "
  [ \$(wc -l < '$work/sharpness.csv') -eq 3 ] && head -1 '$work/sharpness.csv' | grep -q '^checkpoint,set,loss,' &&
  [ \$(tail -n +2 '$work/sharpness.csv' | awk -F, '\$14 != \"\" && \$8 >= 0' | wc -l) -eq 2 ]"
rejects "sharpness: a negative epsilon is refused" "epsilon" "$terrain" sharpness "${sharp[0]}" --epsilon=-1
rejects "sharpness: zero directions are refused" "number of random directions" "$terrain" sharpness "${sharp[0]}" --direction-count 0
rejects "sharpness: an option and its old spelling at once" "old name of --direction-count" "$terrain" sharpness "${sharp[0]}" --directions 2 --direction-count 3
rejects "sharpness: two sets at once are refused" "one set" "$terrain" sharpness "${sharp[0]}" --data train,test
rejects "sharpness: a missing checkpoint is named" "cannot read checkpoint" "$terrain" sharpness "$work/nothing.safetensors"
rejects "sharpness: no checkpoint at all" "checkpoint" "$terrain" sharpness
TERRAIN_THREADS=1 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 --data train,test --out "$work/t1.h5" > /dev/null
TERRAIN_THREADS=2 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 --data train,test --out "$work/t2.h5" > /dev/null
TERRAIN_THREADS=2 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 --data train,test --spread layers --out "$work/t3.h5" > /dev/null
TERRAIN_THREADS=4 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:9 --y=-1:1:9 --data train,test --spread points --out "$work/t4.h5" > /dev/null
if python3 -c "import h5py" 2>/dev/null; then
  check "surfaces with 1, 2 and 4 threads, points or layers spread, are bit-identical" python3 -c "
import h5py, numpy as np
a = h5py.File('$work/t1.h5', 'r')
for other in ['t2', 't3', 't4']:
    b = h5py.File('$work/' + other + '.h5', 'r')
    for k in ['train_loss', 'train_acc', 'test_loss', 'test_acc']:
        assert np.array_equal(a[k][:].view(np.uint64), b[k][:].view(np.uint64)), (other, k)"
  check "trajectory path ends at the final weights, PCA ratios stored" python3 -c "
import h5py, numpy as np
t = h5py.File('$work/traj.h5', 'r'); d = h5py.File('$work/traj.directions.h5', 'r')
assert t['path_x'][-1] == 0 and t['path_y'][-1] == 0
r = d['explained_variance_ratio_'][:]; assert 0 < r[1] <= r[0] <= 1 and r.sum() <= 1 + 1e-12, r"
fi
# Ensembles: K direction pairs (or K subsets) in one resumable file, the same bits for any thread count.
TERRAIN_THREADS=1 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:7 --subset 200 --repeats 3 --out "$work/rep1.h5" > /dev/null
TERRAIN_THREADS=2 "$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:7 --subset 200 --repeats 3 --out "$work/rep2.h5" > /dev/null
"$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:7 --subset 200 --seed 125 --out "$work/rep-seed125.h5" > /dev/null
"$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:5 --y=-1:1:5 --subset 100 --subset-repeats 3 --out "$work/subrep.h5" > /dev/null
"$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:5 --y=-1:1:5 --subset 100 --subset-seed 4 --out "$work/subrep-seed4.h5" > /dev/null
if python3 -c "import h5py" 2>/dev/null; then
  check "surface --repeats 3: members, mean and std the same bits for 1 and 2 threads; member 1 is --seed 125; std is the members'" python3 -c "
import h5py, numpy as np
a = h5py.File('$work/rep1.h5', 'r'); b = h5py.File('$work/rep2.h5', 'r'); s = h5py.File('$work/rep-seed125.h5', 'r')
r = a['repeats']
assert r.attrs['kind'] == 'directions' and r.attrs['members'] == 3, dict(r.attrs)
for k in ['0', '1', '2', 'mean', 'std', 'count']:
    for q in ['train_loss', 'train_acc']:
        assert np.array_equal(r[k][q][:].view(np.uint64), b['repeats'][k][q][:].view(np.uint64)), (k, q)
assert np.array_equal(a['train_loss'][:], r['0']['train_loss'][:]) and np.array_equal(r['1']['train_loss'][:], s['train_loss'][:])
m = np.stack([r[k]['train_loss'][:] for k in '012'])
assert not np.array_equal(m[0], m[1])
assert np.allclose(r['std']['train_loss'][:], m.std(axis=0, ddof=1), rtol=1e-12, atol=0)"
  check "surface --subset-repeats 3: the same directions on three subsets, which give different surfaces; member 2 is --subset-seed 4" python3 -c "
import h5py, numpy as np
f = h5py.File('$work/subrep.h5', 'r'); r = f['repeats']
assert r.attrs['kind'] == 'subsets' and r.attrs['seeds'] == '0,2,4', dict(r.attrs)
assert r['0']['train_loss'].shape == (5, 5) and not np.array_equal(r['0']['train_loss'][:], r['1']['train_loss'][:])
p = h5py.File('$work/subrep-seed4.h5', 'r')
assert np.array_equal(r['2']['train_loss'][:].view(np.uint64), p['train_loss'][:].view(np.uint64)), 'member 2 is --subset-seed 4'"
fi
check "plot draws a 1D ensemble's band" "$terrain" plot "$work/rep1.h5" --out "$work/repfigs"
check "analyze reports the spread over the members of a 2D ensemble" bash -c "
  '$terrain' analyze '$work/subrep.h5' | grep -q 'across the 3 members'"
rejects "surface: --repeats 0 is refused" "from 1 to" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:3 --repeats 0 --out "$work/r0.h5"
rejects "surface: --subset-repeats needs --subset" "give --subset too" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:3 --subset-repeats 2 --out "$work/r0.h5"
rejects "surface: --repeats with given directions is refused" "one fixed pair" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:3 --repeats 2 --directions "$work/t1.directions.h5" --out "$work/r0.h5"
check "sharpness --subset-repeats 3: each number's spread over the subsets, a CSV row per subset" bash -c "
  '$terrain' sharpness '$ckpt' --subset 100 --subset-repeats 3 --direction-count 2 --ascent-steps 2 --csv '$work/sharp-rep.csv' | grep -q 'across 3 subsets' &&
  [ \$(wc -l < '$work/sharp-rep.csv') -eq 4 ] && head -1 '$work/sharp-rep.csv' | grep -q ',subset_seed\$'"
rejects "sharpness: --subset-repeats needs --subset" "give --subset too" "$terrain" sharpness "$ckpt" --subset-repeats 2
rejects "surface: --repeats and --subset-repeats at once" "give one of them" "$terrain" surface --checkpoint "$ckpt" --x=-1:1:3 --repeats 2 --subset 10 --subset-repeats 2 --out "$work/r0.h5"
# Convexity map: λmax and λmin of the Hessian at every point of a small surface, written into it.
"$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:3 --y=-1:1:3 --subset 100 --out "$work/hm.h5" > /dev/null
check "hessian-map on a 3x3 surface of the digits MLP" "$terrain" hessian-map --quiet --surface "$work/hm.h5" --subset 100 --max-iterations 10
# The old spelling --iterations (a hidden alias of --max-iterations): the same bits below.
TERRAIN_THREADS=1 "$terrain" hessian-map --quiet --surface "$work/hm.h5" --subset 100 --iterations 10 --out "$work/hm1.h5" > /dev/null
TERRAIN_THREADS=2 "$terrain" hessian-map --quiet --surface "$work/hm.h5" --subset 100 --iterations 10 --spread layers --out "$work/hm2.h5" > /dev/null
if python3 -c "import h5py" 2>/dev/null; then
  check "h5py reads max_eig >= min_eig, finite, beside the kept loss; same bits for 1 and 2 threads, points or layers" python3 -c "
import h5py, numpy as np
f = h5py.File('$work/hm.h5', 'r'); a, b = f['max_eig'][:], f['min_eig'][:]
assert a.shape == (3, 3) and b.shape == (3, 3) and f['train_loss'].shape == (3, 3), a.shape
assert np.isfinite(a).all() and np.isfinite(b).all() and (a >= b).all(), (a, b)
assert 'terrain.request' in f.attrs and 'terrain.hessian.request' in f.attrs
for other in ['hm1', 'hm2']:
    g = h5py.File('$work/' + other + '.h5', 'r')
    for k in ['max_eig', 'min_eig']:
        assert np.array_equal(f[k][:].view(np.uint64), g[k][:].view(np.uint64)), (other, k)"
fi
check "plot draws the convexity maps" "$terrain" plot "$work/hm.h5" --out "$work/hmfigs"
check "the |λmin/λmax| map is drawn" test -s "$work/hmfigs/hm_eig_ratio_abs.png"
"$terrain" surface --quiet --checkpoint "$ckpt" --x=-1:1:3 --y=-1:1:3 --subset 100 --out "$work/hm3.h5" > /dev/null
check "hessian --map: the spectrum and the convexity map in one command" bash -c "
  '$terrain' hessian --quiet --checkpoint '$ckpt' --top 1 --subset 100 --map '$work/hm3.h5' --map-max-iterations 10 &&
  '$terrain' plot '$work/hm3.h5' --kind eigen --out '$work/hm3figs' | grep -q eig_ratio_abs"
rejects "a map of other Lanczos settings is not mixed in" "different request" \
  "$terrain" hessian-map --quiet --surface "$work/hm.h5" --subset 100 --iterations 11
rejects "a map of products one at a time (--memory 0) is not mixed into one of kept passes" "different request" \
  "$terrain" hessian-map --quiet --surface "$work/hm.h5" --subset 100 --max-iterations 10 --memory 0
check "export a surface to NPZ and CSV" "$terrain" export "$work/traj.h5" "$work/traj.npz" "$work/traj.csv"
check "the CSV has a header and one row per point" bash -c "[ \$(wc -l < '$work/traj.csv') -eq 26 ] && head -1 '$work/traj.csv' | grep -q '^x,y,train_loss'"
if python3 -c "import numpy" 2>/dev/null; then
  check "numpy reads the NPZ export" python3 -c "
import numpy as np
z = np.load('$work/traj.npz'); assert z['train_loss'].shape == (5, 5) and 'path_x' in z.files, z.files"
fi
check "export the trajectory surface to VTK for ParaView (.vtp, .vts)" "$terrain" export "$work/traj.h5" "$work/traj.vtp" "$work/traj.vts" --log
if python3 -c "import xml.etree.ElementTree" 2>/dev/null; then
  check "the VTK files parse: 25 points, 16 quads, zvalue = ln(loss + 0.1), a 5x5 structured grid" python3 -c "
import xml.etree.ElementTree as ET, csv, math
def numbers(parent, name): return [float(v) for v in parent.find(\"DataArray[@Name='%s']\" % name).text.split()]
p = ET.parse('$work/traj.vtp').getroot(); piece = p.find('PolyData/Piece')
assert p.get('type') == 'PolyData' and piece.get('NumberOfPoints') == '25' and piece.get('NumberOfPolys') == '16', piece.attrib
assert len(numbers(piece.find('Points'), 'Points')) == 75
conn, offs = numbers(piece.find('Polys'), 'connectivity'), numbers(piece.find('Polys'), 'offsets')
assert len(conn) == 64 and offs == [4.0 * (i + 1) for i in range(16)] and max(conn) == 24
assert len(numbers(piece.find('CellData'), 'averaged zvalue')) == 16
loss = [float(r['train_loss']) for r in csv.DictReader(open('$work/traj.csv'))]
z = numbers(piece.find('PointData'), 'zvalue')
assert all(abs(a - math.log(b + 0.1)) <= 1e-12 * (1 + abs(a)) for a, b in zip(z, loss)) and len(z) == 25
s = ET.parse('$work/traj.vts').getroot(); g = s.find('StructuredGrid')
assert s.get('type') == 'StructuredGrid' and g.get('WholeExtent') == '0 4 0 4 0 0', g.attrib
names = [a.get('Name') for a in g.find('Piece/PointData')]
assert {'zvalue', 'valid', 'train_loss', 'train_acc'} <= set(names), names
assert numbers(g.find('Piece/PointData'), 'train_loss') == loss and len(numbers(g.find('Piece/Points'), 'Points')) == 75"
fi
rejects "VTK export of a 1D surface is refused" "2D surface" "$terrain" export "$work/interp.h5" "$work/interp.vtp"
# Figures: every kind that fits the files, in the three formats, with an index page.
check "plot a 2D trajectory surface and a 1D interpolation as PNG, SVG and PDF" "$terrain" plot "$work/traj.h5" "$work/interp.h5" \
  --format png,svg,pdf --out "$work/figs" --index
check "the figures are real PNG (size in the header), SVG and PDF files, listed by the index" python3 -c "
import struct, os
d = '$work/figs'
for name in ['traj_train_loss_2dcontour', 'traj_train_loss_2dcontourf', 'traj_train_loss_2dheat', 'traj_train_loss_3dsurface',
             'traj_train_loss_trajectory', 'interp_1d', 'interp_1d_log']:
    png = open(os.path.join(d, name + '.png'), 'rb').read()
    assert png[:8] == b'\\x89PNG\\r\\n\\x1a\\n' and png[12:16] == b'IHDR', name
    w, h = struct.unpack('>II', png[16:24]); assert w >= 1000 and h >= 800, (name, w, h)
    assert b'<svg' in open(os.path.join(d, name + '.svg'), 'rb').read(400), name
    assert open(os.path.join(d, name + '.pdf'), 'rb').read(4) == b'%PDF', name
    assert name + '.png' in open(os.path.join(d, 'index.html')).read(), name"
check "side by side on one colour scale" "$terrain" plot "$work/traj.h5" "$work/plane.h5" --compare --out "$work/figs"
rejects "plot: an unknown kind is named" "unknown --kind" "$terrain" plot "$work/traj.h5" --kind pie
rejects "plot: a missing file" "no such file|cannot|not exist" "$terrain" plot "$work/nothing.h5"
rejects "plot: --compare needs two files" "two or more" "$terrain" plot "$work/traj.h5" --compare
rejects "plot: levels need all three options" "go together" "$terrain" plot "$work/traj.h5" --vmin 0.1
# The neuron y = w·x + b on data made by numpy: its exact landscape in (w, b), with the SGD path,
# must equal numpy's own mean squared error at every grid point.
if python3 -c "import numpy, h5py" 2>/dev/null; then
  python3 -c "
import numpy as np
g = np.random.default_rng(0); x = g.uniform(-1, 1, (200, 1)); y = x**2 + g.normal(0, 0.5, (200, 1))
np.savez('$work/neuron.npz', x_train=x[:150], y_train=y[:150], x_test=x[150:], y_test=y[150:])"
  check "train the two-parameter neuron, a checkpoint every iteration" "$terrain" train --quiet --model linear --dataset "$work/neuron.npz" \
    --no-normalize --optimizer sgd --momentum 0 --weight-decay 0 --lr 0.1 --epochs 3 --batch-size 50 --save-every-iterations 1 --out "$work/neuron"
  check "exact (w, b) landscape with the path on it" "$terrain" surface --quiet --checkpoint "$work/neuron/final.safetensors" \
    --x-axis fc.weight --y-axis fc.bias --x=-2:2:21 --y=-2:2:21 --path "$work/neuron" --data train,test --out "$work/neuron.h5"
  check "the neuron's surface equals numpy's mean squared error" python3 -c "
import h5py, numpy as np, json, struct
b = open('$work/neuron/final.safetensors', 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
def tensor(name):
    s, e = h[name]['data_offsets']; return np.frombuffer(b[8 + n + s:8 + n + e], dtype='<f4').astype(np.float64)
w0, b0 = tensor('fc.weight')[0], tensor('fc.bias')[0]
d = np.load('$work/neuron.npz'); x, y = d['x_train'][:, 0], d['y_train'][:, 0]
f = h5py.File('$work/neuron.h5', 'r'); X, Y, Z = f['xcoordinates'][:], f['ycoordinates'][:], f['train_loss'][:]
for j in range(len(Y)):
    for i in range(len(X)):
        w = np.float64(np.float32(w0 + X[i])); c = np.float64(np.float32(b0 + Y[j]))
        expected = np.mean((np.float32(w) * x.astype(np.float32) + np.float32(c) - y.astype(np.float32)).astype(np.float64) ** 2)
        assert abs(Z[j, i] - expected) <= 1e-5 * expected, (i, j, Z[j, i], expected)
px, py = f['path_x'][:], f['path_y'][:]
assert len(px) == 10 and abs(px[-1]) < 1e-12 and abs(py[-1]) < 1e-12, (len(px), px[-1], py[-1])"
fi
# Hessian of the digits MLP: extreme eigenvalues, trace, density, and a surface along the top
# two eigenvectors.
hessian() { "$terrain" hessian --quiet --checkpoint "$ckpt" --subset 200 "$@"; }
check "hessian: top/bottom eigenvalues, trace, density" hessian --top 2 --bottom 1 --trace --density \
  --out "$work/h.h5" --eigenvectors "$work/heig.h5"
check "hessian prints the eigenvalue table and the mean-loss note" bash -c "
  '$terrain' hessian --quiet --checkpoint '$ckpt' --subset 200 --top 2 --bottom 1 > '$work/hessian.txt' &&
  grep -q 'Hessian of the mean loss over 200 samples' '$work/hessian.txt' && grep -q 'λ1' '$work/hessian.txt' &&
  grep -q 'λmin/λmax' '$work/hessian.txt'"
check "hessian writes the density figure beside --out" test -s "$work/h_density.png"
check "a surface along the top Hessian eigenvectors" "$terrain" surface --quiet --checkpoint "$ckpt" --directions "$work/heig.h5" \
  --x=-0.5:0.5:3 --y=-0.5:0.5:3 --subset 200 --out "$work/hsurf.h5"
if python3 -c "import h5py" 2>/dev/null; then
  check "h5py reads the spectrum: descending eigenvalues, λ1 > 0, finite trace, density" python3 -c "
import h5py, numpy as np
f = h5py.File('$work/h.h5', 'r'); e = f['eigenvalues'][:]; r = f['residuals'][:]
assert len(e) == 3 and len(r) == 3 and np.all(np.diff(e) <= 0) and e[0] > 0, e
assert np.isfinite(f['trace'][()]) and f['trace_standard_error'][()] >= 0
assert len(f['density_x']) == len(f['density']) > 1 and np.all(f['density'][:] >= 0)
assert f.attrs['terrain.samples'] == 200 and f.attrs['terrain.parameters'] == 'all'
d = h5py.File('$work/heig.h5', 'r'); x = np.concatenate([d['xdirection'][k][:].ravel() for k in sorted(d['xdirection'], key=int)])
y = np.concatenate([d['ydirection'][k][:].ravel() for k in sorted(d['ydirection'], key=int)])
assert abs(np.linalg.norm(x) - 1) < 1e-6 and abs(np.linalg.norm(y) - 1) < 1e-6 and abs(x @ y) < 1e-4, (np.linalg.norm(x), x @ y)"
else
  skip "h5py checks of the Hessian spectrum (python3 h5py not installed)"
fi
rejects "hessian: nothing requested" "nothing to compute" "$terrain" hessian --checkpoint "$ckpt" --top 0 --bottom 0
rejects "hessian: a negative count" "bottom must be" "$terrain" hessian --checkpoint "$ckpt" --bottom=-1
rejects "hessian: a missing checkpoint" "cannot read checkpoint" "$terrain" hessian --checkpoint "$work/nothing.safetensors"
rejects "hessian: two sets at once" "one set" "$terrain" hessian --checkpoint "$ckpt" --data train,test
# Blocks of probes: the trace's probes and the density's runs in blocks of 4 give the estimates of
# one at a time to Float rounding (the same probe count); keeping the weight-only passes
# (--memory) changes no bit of a block's products.
hessian --top 0 --bottom 1 --trace --probes 12 --density --density-probes 3 --max-iterations 8 --probe-block 1 --out "$work/hb1.h5" > /dev/null
hessian --top 0 --bottom 1 --trace --probes 12 --density --density-probes 3 --max-iterations 8 --probe-block 4 --memory 0 --out "$work/hb4.h5" > /dev/null
hessian --top 0 --bottom 1 --trace --probes 12 --density --density-probes 3 --max-iterations 8 --probe-block 4 --memory 1G --out "$work/hb4k.h5" > /dev/null
if python3 -c "import h5py" 2>/dev/null; then
  check "hessian --probe-block 4 agrees with 1 to Float rounding; --memory keeps the bits" python3 -c "
import h5py, numpy as np
one, four, kept = (h5py.File('$work/' + n + '.h5', 'r') for n in ['hb1', 'hb4', 'hb4k'])
for f in [four, kept]:
    assert f.attrs['terrain.trace_probes'] == one.attrs['terrain.trace_probes']
    assert abs(f['trace'][()] - one['trace'][()]) <= 1e-5 * abs(one['trace'][()]), (f['trace'][()], one['trace'][()])
    assert np.allclose(f['density'][:], one['density'][:], rtol=1e-3, atol=1e-4 * one['density'][:].max())
    assert abs(f['eigenvalues'][0] - one['eigenvalues'][0]) <= 1e-5 * abs(one['eigenvalues'][0])
for k in ['trace', 'trace_standard_error', 'density']:
    assert np.array_equal(np.asarray(four[k][()]).view(np.uint64), np.asarray(kept[k][()]).view(np.uint64)), k"
fi
rejects "hessian: a block of no probes" "probe-block must be between" "$terrain" hessian --checkpoint "$ckpt" --trace --probe-block 0
rejects "hessian: --memory is a byte count" "invalid for '--memory" "$terrain" hessian --checkpoint "$ckpt" --trace --memory lots

rejects "a range without num is refused" "min:max:num" "$terrain" surface --checkpoint "$ckpt" --x 0:1 --out "$work/bad.h5"
rejects "a surface file of another request is not overwritten silently" "different request" \
  surface --x=-1:1:5 --out "$work/whole.h5"

rejects "unknown model is named" "unknown model" train --model resnet7 --dataset parabola --out "$work/x"
rejects "a transformer's heads must divide its embedding" "divisor of embed" train --model gpt --heads 3 --embed 64 \
  --dataset parabola --out "$work/x"
rejects "transformer options on another model are refused" "gpt and vit only" train --model mlp --layers 2 \
  --dataset parabola --out "$work/x"
rejects "a vit's patch must divide the images" "does not divide" train --model vit --patch 3 --dataset "$digits" \
  --out "$work/x"
rejects "a gpt refuses per-sample targets" "token-sequence targets" train --model gpt --dataset parabola --out "$work/x"
check "train a small vit on the digits" train --model vit --patch 4 --layers 1 --heads 2 --embed 8 --dataset "$digits" \
  --epochs 1 --batch-size 64 --optimizer adam --lr 0.01 --out "$work/vit"
check "the vit's Hessian extremes (attention, layer norms, embeddings in the products)" "$terrain" hessian \
  --checkpoint "$work/vit/final.safetensors" --subset 100 --out "$work/vit-hessian.h5"
check "a 2D surface of the vit" "$terrain" surface --quiet --checkpoint "$work/vit/final.safetensors" --x=-1:1:3 --y=-1:1:3 \
  --subset 100 --out "$work/vit-surface.h5"
check "sharpness of the vit" "$terrain" sharpness --quiet "$work/vit/final.safetensors" --subset 64 --direction-count 2 --ascent-steps 3
rejects "missing dataset path is named" "no-such" train --dataset "$work/no-such-folder" --out "$work/x"
rejects "unknown optimizer" "optimizer" train --optimizer lbfgs --dataset parabola --out "$work/x"
rejects "bad schedule text" "schedule" train --schedule "multistep:abc" --dataset parabola --out "$work/x"

# --- Transformer-era training: AdamW with a decay scope, warm-up + cosine per step, clipping, resume ---
recipe=(--model mlp --hidden 16 --dataset "$digits" --batch-size 64 --optimizer adamw --lr 3e-3 --betas 0.9,0.95 --eps 1e-7
        --weight-decay 0.1 --decay-scope weights --schedule warmup-cosine:10:1e-4 --clip-norm 1 --clip-value 0.5)
check "train with AdamW, a decay scope, warm-up + cosine per step and clipping" train "${recipe[@]}" --epochs 3 --out "$work/recipe"
check "run.json records every new setting" python3 -c "
import json; c = json.load(open('$work/recipe/run.json'))['config']
assert c['optimizer'] == 'adamw' and c['betas'] == [0.9, 0.95] and c['epsilon'] == 1e-7 and c['decayScope'] == 'weights', c
assert c['clipNorm'] == 1 and c['clipValue'] == 0.5 and c['schedule'] == 'warmup-cosine:10:1e-4', c"
check "iterations.csv: the rate climbs from 0 over 10 steps, then falls by a cosine towards 1e-4" python3 -c "
import csv; lr = [float(r['lr']) for r in csv.DictReader(open('$work/recipe/iterations.csv'))]
assert lr[0] == 0 and abs(lr[5] - 1.5e-3) < 1e-12 and lr[10] == 3e-3, lr[:11]
assert all(a >= b for a, b in zip(lr[10:], lr[11:])) and 1e-4 <= lr[-1] < 2e-4, lr[-3:]"
check "info shows the optimizer settings" bash -c "'$terrain' info '$work/recipe/final.safetensors' | grep -q '^optimizer: adamw .*betas 0.9,0.95 eps 1e-07 weight decay 0.1 (weights only), schedule warmup-cosine:10:0.0001:0, clip norm 1.0, clip value 0.5'"
check "info of a run without them prints no optimizer line (earlier runs print as before)" bash -c "! '$terrain' info '$work/digits/final.safetensors' | grep -q '^optimizer:'"
check "a finished run keeps no resume state" test ! -e "$work/recipe/resume.safetensors"
check "a run killed (SIGKILL) after an epoch resumes to the same bytes as one that never stopped" bash -c "
  '$terrain' train --quiet ${recipe[*]} --epochs 25 --out '$work/straight' > /dev/null || exit 1
  '$terrain' train --quiet ${recipe[*]} --epochs 25 --out '$work/killed' > /dev/null & pid=\$!
  while [ ! -e '$work/killed/resume.safetensors' ] && kill -0 \$pid 2>/dev/null; do sleep 0.01; done
  kill -9 \$pid; wait \$pid 2>/dev/null
  [ -e '$work/killed/resume.safetensors' ] && [ ! -e '$work/killed/final.safetensors' ] || { echo 'the run was not stopped mid-way'; exit 1; }
  '$terrain' train --quiet ${recipe[*]} --epochs 25 --out '$work/killed' --resume > /dev/null || exit 1
  cmp '$work/straight/final.safetensors' '$work/killed/final.safetensors' &&
  cmp '$work/straight/iterations.csv' '$work/killed/iterations.csv' &&
  cmp '$work/straight/checkpoints/epoch-0025.safetensors' '$work/killed/checkpoints/epoch-0025.safetensors' &&
  [ ! -e '$work/killed/resume.safetensors' ]"
check "--weight-decay defaults by optimizer: 5e-4 for sgd and adam, 0.01 for adamw (PyTorch's)" bash -c "
  for o in sgd adam adamw; do
    '$terrain' train --quiet --model mlp --hidden 4 --dataset parabola --epochs 1 --optimizer \$o --out '$work/decay-'\$o > /dev/null || exit 1
  done
  python3 -c \"
import json
decay = {o: json.load(open('$work/decay-' + o + '/run.json'))['config']['weightDecay'] for o in ('sgd', 'adam', 'adamw')}
assert decay == {'sgd': 5e-4, 'adam': 5e-4, 'adamw': 0.01}, decay
\""
# A run's own figures (terrain plot RUN): loss, accuracy and weight norm per epoch and per
# iteration, learning-rate drops dashed; several runs overlaid with --compare.
check "train a tiny run whose learning rate drops after its first epoch" train --model mlp --hidden 8 --dataset "$digits" \
  --epochs 2 --batch-size 256 --lr 0.1 --schedule multistep:1:0.1 --out "$work/runs/drop"
check "plot a run folder: its own figures, as PNG and SVG" "$terrain" plot "$work/runs/drop" --format png,svg --out "$work/runfigs"
check "plot three runs --compare: overlaid; the regression run's missing accuracy is a note, not an error" bash -c "
  '$terrain' plot '$work/runs/drop' '$work/digits' '$work/decay-sgd' --compare --out '$work/runfigs' |
    grep -q '^note: decay-sgd: metrics.csv has no train_acc or test_acc: no accuracy per epoch'"
check "the run figures are real PNG files (size in the header) and SVG" python3 -c "
import struct, os
d = '$work/runfigs'
for name in ['drop_loss', 'drop_accuracy', 'drop_weight_norm', 'drop_weight_norm_iterations',
             'compare_loss', 'compare_accuracy', 'compare_weight_norm', 'compare_weight_norm_iterations']:
    png = open(os.path.join(d, name + '.png'), 'rb').read()
    assert png[:8] == b'\\x89PNG\\r\\n\\x1a\\n' and png[12:16] == b'IHDR', name
    w, h = struct.unpack('>II', png[16:24]); assert w >= 1000 and h >= 800, (name, w, h)
assert b'<svg' in open(os.path.join(d, 'drop_loss.svg'), 'rb').read(400)"
check "plot RUN without --out writes beside the run folder" bash -c "
  '$terrain' plot '$work/runs/drop' > /dev/null && test -s '$work/runs/drop_loss.png'"
rejects "plot: a folder that is not a run names what was expected" "not a run folder: expected metrics.csv" "$terrain" plot "$work/runfigs"
rejects "plot: --compare of runs needs two" "two or more run folders" "$terrain" plot "$work/runs/drop" --compare
rejects "plot: run folders and surface files are not mixed" "not both" "$terrain" plot "$work/runs/drop" "$work/interp.h5"
check "view RUN RUN: one page of both runs, their settings and their four figures inside it" bash -c "
  '$terrain' view '$work/runs/drop' '$work/digits' --out '$work/runs.html' > /dev/null &&
  [ \$(grep -o 'data:image/svg+xml;base64,' '$work/runs.html' | wc -l) -eq 4 ] &&
  grep -q 'schedule multistep:1:0.1' '$work/runs.html' && ! grep -q '<script' '$work/runs.html'"
rejects "view: run folders and surface files are not mixed" "not both" "$terrain" view "$work/runs/drop" "$work/interp.h5"
rejects "resume: a finished run" "has finished" train "${recipe[@]}" --epochs 3 --out "$work/recipe" --resume
rejects "resume: a folder with no run" "no resume.safetensors" train "${recipe[@]}" --epochs 3 --out "$work/nothing-here" --resume
rejects "--clip-norm 0" "clip-norm must be a positive number" train --clip-norm 0 --dataset parabola --out "$work/x"
rejects "--clip-norm nan" "clip-norm must be a positive number, got nan" train --clip-norm nan --dataset parabola --out "$work/x"
rejects "--clip-value -1" "clip-value must be a positive number" train --clip-value=-1 --dataset parabola --out "$work/x"
rejects "--clip-norm abc" "clip-norm" train --clip-norm abc --dataset parabola --out "$work/x"
rejects "--betas with one number" "betas takes two numbers" train --optimizer adamw --betas 0.9 --dataset parabola --out "$work/x"
rejects "--betas out of range" "betas must be two numbers in \[0, 1\)" train --optimizer adamw --betas 0.9,1.5 --dataset parabola --out "$work/x"
rejects "--eps negative" "eps must be a finite number" train --optimizer adam --eps=-1 --dataset parabola --out "$work/x"
rejects "--betas with sgd" "need --optimizer adam or adamw" train --optimizer sgd --betas 0.9,0.95 --dataset parabola --out "$work/x"
rejects "--decay-scope unknown" "decay-scope" train --decay-scope sideways --dataset parabola --out "$work/x"
rejects "warmup-cosine without steps" "warm-up length" train --schedule warmup-cosine:x --dataset parabola --out "$work/x"
rejects "warmup-cosine start factor above 1" "start factor" train --schedule warmup-cosine:10:0:2 --dataset parabola --out "$work/x"
printf 'not a checkpoint' > "$work/bad.safetensors"
rejects "malformed checkpoint" "cannot read checkpoint" "$terrain" info "$work/bad.safetensors"
head -c 300 "$work/digits/final.safetensors" > "$work/truncated.safetensors"
rejects "truncated checkpoint" "cannot read checkpoint" "$terrain" evaluate "$work/truncated.safetensors"
rejects "missing checkpoint" "cannot read checkpoint" "$terrain" info "$work/nothing.safetensors"
rejects "diverging training stops with a clear message" "diverged" train --model mlp --dataset parabola --optimizer sgd --lr 1e6 --epochs 3 --out "$work/diverge"

# --- Fidelity with the reference: direction files, stored normalization, NaN (data made here) ---
mkdir -p "$work/fid"
check "make small image sets (a, an exact copy, a copy shifted by +5)" python3 -c "
import numpy as np
rng = np.random.default_rng(0)
x = rng.normal(3.0, 2.0, (96, 1, 8, 8)).astype('float32')
y = (x[:, 0, :4].mean(axis=(1, 2)) > 3.0).astype('int64') + 2 * (x[:, 0, :, :4].mean(axis=(1, 2)) > 3.0).astype('int64')
np.savez('$work/fid/a.npz', x=x, y=y)
np.savez('$work/fid/copy.npz', x=x, y=y)
np.savez('$work/fid/shifted.npz', x=x + 5, y=y)
"
check "train a CNN with batch norm on them" train --model cnn --dataset "$work/fid/a.npz" --epochs 1 --batch-size 16 --out "$work/fid/run"
evaluate_train_loss() { "$terrain" evaluate "$@" | sed -n 's/^train: loss \([0-9.eEnaif+-]*\).*/\1/p'; }
check "evaluate on another dataset uses the checkpoint's stored normalization and says so" bash -c "
  '$terrain' evaluate '$work/fid/run/final.safetensors' --dataset '$work/fid/shifted.npz' | grep -q \"normalization: the checkpoint's statistics\""
check "--refit-normalization refits and says so" bash -c "
  '$terrain' evaluate '$work/fid/run/final.safetensors' --dataset '$work/fid/shifted.npz' --refit-normalization | grep -q 'normalization: refit on'"
own=$(evaluate_train_loss "$work/fid/run/final.safetensors")
copied=$(evaluate_train_loss "$work/fid/run/final.safetensors" --dataset "$work/fid/copy.npz")
shifted=$(evaluate_train_loss "$work/fid/run/final.safetensors" --dataset "$work/fid/shifted.npz")
refit=$(evaluate_train_loss "$work/fid/run/final.safetensors" --dataset "$work/fid/shifted.npz" --refit-normalization)
# Stored statistics on an exact copy give the checkpoint's own loss; on the shifted copy they do
# not (the inputs really differ); a refit on the shifted copy removes the shift again.
check "stored normalization: copy = own loss ($own, $copied), shifted differs ($shifted), refit on shifted = own ($refit)" python3 -c "
own, copied, shifted, refit = map(float, ['$own', '$copied', '$shifted', '$refit'])
assert copied == own, (own, copied)
assert abs(shifted - own) > 1e-3 * abs(own), (own, shifted)
assert abs(refit - own) <= 1e-4 * abs(own), (own, refit)
"
check "a landscape command says which normalization it uses" bash -c "
  '$terrain' surface --checkpoint '$work/fid/run/final.safetensors' --dataset '$work/fid/shifted.npz' --x=-0.5:0.5:3 --quiet --out '$work/fid/norm.h5' | grep -q \"normalization: the checkpoint's statistics\""
check "a states surface and a states interpolation write their direction files" bash -c "
  '$terrain' surface --checkpoint '$work/fid/run/final.safetensors' --dir-type states --xignore none --x=-1:1:3 --y=-1:1:3 --quiet --out '$work/fid/states.h5' &&
  '$terrain' interpolate '$work/fid/run/checkpoints/epoch-0000.safetensors' '$work/fid/run/final.safetensors' --steps 5 --range=-0.25:1.25 --quiet --out '$work/fid/interp.h5'"
check "states direction files hold the state_dict's entries in its order, num_batches_tracked included (h5py)" python3 -c "
import h5py, json, struct
def state_dict(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
    header.pop('__metadata__', None)
    return list(header.items())
final = state_dict('$work/fid/run/final.safetensors')
first = state_dict('$work/fid/run/checkpoints/epoch-0000.safetensors')
assert any(k.endswith('num_batches_tracked') for k, _ in final)
def counter(entries, name):
    return dict(entries)[name]['data_offsets']
with open('$work/fid/run/final.safetensors', 'rb') as f:
    blob = f.read()
n = struct.unpack('<Q', blob[:8])[0]
def counter_value(name):
    a, b = dict(final)[name]['data_offsets']
    return struct.unpack('<q', blob[8 + n + a:8 + n + b])[0]
for path, groups in [('$work/fid/states.directions.h5', ['xdirection', 'ydirection']), ('$work/fid/interp.directions.h5', ['xdirection'])]:
    with h5py.File(path, 'r') as f:
        for g in groups:
            names = sorted(f[g].keys(), key=int)
            assert names == [str(i) for i in range(len(final))], (path, g, len(names), len(final))
            for i, (key, entry) in enumerate(final):
                d = f[g][str(i)]
                assert list(d.shape) == entry['shape'], (path, g, i, key, d.shape, entry['shape'])
                if key.endswith('num_batches_tracked') and path.endswith('states.directions.h5'):
                    # as the reference draws it: a copy of the counter (x: --xignore none), 0 (y: biasbn)
                    want = counter_value(key) if g == 'xdirection' else 0
                    assert want > 0 or g == 'ydirection'
                    assert float(d[()]) == want, (g, key, d[()], want)
                if key.endswith('num_batches_tracked') and path.endswith('interp.directions.h5'):
                    # two models: the counters' difference (epoch 0 has counted no batch)
                    assert float(d[()]) == counter_value(key) > 0, (key, d[()])
"
check "a states direction file written before the counters (without them) still loads" bash -c "
  python3 -c \"
import h5py
src = h5py.File('$work/fid/states.directions.h5', 'r')
dst = h5py.File('$work/fid/old.directions.h5', 'w')
for g in ('xdirection', 'ydirection'):
    k = 0
    for i in range(len(src[g])):
        d = src[g][str(i)]
        if d.shape == ():
            continue
        dst.create_dataset(g + '/' + str(k), data=d[()])
        k += 1
dst.close()
\" && '$terrain' surface --checkpoint '$work/fid/run/final.safetensors' --directions '$work/fid/old.directions.h5' --dir-type states --x=-1:1:3 --y=-1:1:3 --quiet --out '$work/fid/old.h5' &&
  '$terrain' surface --checkpoint '$work/fid/run/final.safetensors' --directions '$work/fid/states.directions.h5' --dir-type states --x=-1:1:3 --y=-1:1:3 --quiet --out '$work/fid/new.h5'"
check "the trace does not stop while its standard error is large, and says so" bash -c "
  '$terrain' hessian --quiet --checkpoint '$work/fid/run/final.safetensors' --trace --probes 12 --tolerance 1e-3 > '$work/fid/trace.txt' &&
  python3 -c \"
import re
line = [l for l in open('$work/fid/trace.txt') if l.startswith('trace:')][0]
m = re.match(r'trace: (\\S+) ± (\\S+) \\(Hutchinson, (\\d+) Rademacher probes; relative standard error (\\S+)', line)
assert m, line
estimate, error, probes, relative = float(m[1]), float(m[2]), int(m[3]), float(m[4].rstrip(','))
assert abs(relative - error / abs(estimate)) <= 0.06 * relative, line
assert probes == 12 and relative > 1e-3 and 'above the tolerance' in line and 'settled' not in line, line
\""
check "an extrapolated states interpolation: NaN where a BN variance turns negative, on both paths, stored as NaN" bash -c "
  '$terrain' interpolate '$work/fid/run/checkpoints/epoch-0000.safetensors' '$work/fid/run/final.safetensors' --range=-4:4 --steps 9 --quiet --out '$work/fid/far.h5' > '$work/fid/far.txt' &&
  TERRAIN_EVALUATION=layers '$terrain' interpolate '$work/fid/run/checkpoints/epoch-0000.safetensors' '$work/fid/run/final.safetensors' --range=-4:4 --steps 9 --quiet --out '$work/fid/far-layers.h5' > /dev/null &&
  grep -q 'points NaN (stored as NaN, drawn as invalid)' '$work/fid/far.txt' &&
  python3 -c \"
import h5py, numpy as np, struct
a = h5py.File('$work/fid/far.h5', 'r')['train_loss'][()]
b = h5py.File('$work/fid/far-layers.h5', 'r')['train_loss'][()]
nan = np.isnan(a)
assert nan.any() and not nan.all(), a
assert (nan == np.isnan(b)).all(), (a, b)
assert np.isfinite(a[~nan]).all() and (abs(a[~nan] - b[~nan]) <= 1e-5 * abs(b[~nan])).all(), (a, b)
# computed NaN carries the sign bit (a point not computed would be the plain NaN)
assert all(struct.pack('<d', v)[7] & 0x80 for v in a[nan]), a
\""
check "a states trajectory's PCA direction file holds the state_dict's entries (counters 0: they are no parameters)" bash -c "
  '$terrain' train --quiet --model cnn --dataset '$work/fid/a.npz' --epochs 3 --batch-size 16 --out '$work/fid/run3' > /dev/null &&
  '$terrain' trajectory --run '$work/fid/run3' --dir-type states --steps 3 --quiet --out '$work/fid/t.h5' > /dev/null &&
  python3 -c \"
import h5py, json, struct
with open('$work/fid/run3/final.safetensors', 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]
    header = json.loads(f.read(n))
header.pop('__metadata__', None)
keys = list(header)
with h5py.File('$work/fid/t.directions.h5', 'r') as f:
    for g in ('xdirection', 'ydirection'):
        assert len(f[g]) == len(keys), (len(f[g]), len(keys))
        for i, k in enumerate(keys):
            assert list(f[g][str(i)].shape) == header[k]['shape'], (g, i, k)
            if k.endswith('num_batches_tracked'):
                assert f[g][str(i)][()] == 0, (g, k)
\""

# Token sequences (issue 18): text corpora read as bytes, arrays of token ids, and the bad input
# each must name before any work. (An MLP gives one vector per sequence: refused for next-token
# targets, which need logits [batch, time, vocabulary].)
seq=$work/seq
mkdir -p "$seq"
python3 - "$seq" <<'EOF'
import numpy as np, sys
folder = sys.argv[1]
open(folder + '/empty.txt', 'w').close()
open(folder + '/latin1.txt', 'wb').write(bytes(range(256)) * 8)
np.savez(folder + '/negative.npz', tokens=np.array([[1, 2, -3, 4], [5, 6, 7, 8]], dtype=np.int64))
np.savez(folder + '/fraction.npz', tokens=np.array([[1, 2, 3.5, 4], [5, 6, 7, 8]], dtype=np.float32))
np.savez(folder + '/outside.npz', tokens=np.array([[1, 2, 300, 4], [5, 6, 7, 8]], dtype=np.int32), vocabulary=np.array(256))
np.savez(folder + '/xy.npz', x=np.zeros((4, 3), dtype=np.float32), y=np.array([0, 1, 0, 1]))
EOF
seqtrain() { "$terrain" train --quiet --model mlp --hidden 8 --epochs 1 --out "$seq/run" "$@"; }
rejects "an empty text file is refused, named" "empty.txt.*the file is empty" seqtrain --dataset "$seq/empty.txt" --context 16
rejects "bytes that are not UTF-8 are read as bytes, and said so" "read 2048 bytes \(not UTF-8 text; modelled as bytes\)" \
  seqtrain --dataset "$seq/latin1.txt" --context 16
rejects "a model whose output is not [batch, time, vocabulary] is refused for token targets" \
  "output is shaped \[batch\] \+ \[256\]; next-token targets need \[batch, time, vocabulary\] = \[batch, 16, V\]" \
  seqtrain --dataset "$seq/latin1.txt" --context 16
rejects "a negative token id is refused, named" "token id -3 at 'tokens'\[0, 2\]" seqtrain --dataset "$seq/negative.npz"
rejects "a fractional token id is refused, named" "'tokens'\[0, 2\] is 3.5: token ids must be whole numbers" \
  seqtrain --dataset "$seq/fraction.npz"
rejects "a token id outside the declared vocabulary is refused, named" "token id 300 .*outside the vocabulary 0..<256" \
  seqtrain --dataset "$seq/outside.npz"
rejects "--context with arrays that hold no tokens is refused" "context 4 asks for token sequences" \
  seqtrain --dataset "$seq/xy.npz" --context 4
rejects "--context 0 is refused" "context must be between 1 and [0-9]+, got 0" seqtrain --dataset "$seq/latin1.txt" --context 0
rejects "a text corpus shorter than one window is refused with what was read" \
  "read 2048 bytes.*fewer than one window of --context 4096" seqtrain --dataset "$seq/latin1.txt" --context 4096

# A tiny gpt through every command (issue 18): a character-level transformer (1 block, 2 heads,
# embedding 16, context 16) trained with AdamW, warm-up + cosine and clipping on a few KB of text
# this script writes; each command then takes seconds. Perplexity is stored beside each loss.
gpt=$work/gpt
mkdir -p "$gpt"
python3 - "$gpt" <<'EOF'
import numpy as np, random, sys
folder = sys.argv[1]
random.seed(1)
words = 'the quick brown fox jumps over a lazy dog while cats sleep in the warm sun and birds sing'.split()
open(folder + '/story.txt', 'w').write(' '.join(random.choice(words) for _ in range(800)))
# Windows of context 16 + 1 next token, one id (300) outside the byte vocabulary.
tokens = np.random.RandomState(0).randint(0, 256, (8, 17)); tokens[3, 5] = 300
np.savez(folder + '/outside.npz', tokens=tokens.astype(np.int32))
EOF
check "train a tiny gpt: AdamW, warm-up + cosine, gradients clipped; progress in tokens/s" bash -c "
  '$terrain' train --model gpt --layers 1 --heads 2 --embed 16 --dataset '$gpt/story.txt' --context 16 --epochs 2 \
    --batch-size 32 --optimizer adamw --lr 0.003 --betas 0.9,0.95 --weight-decay 0.1 --decay-scope weights \
    --schedule warmup-cosine:4:1e-4 --clip-norm 1 --save-every-iterations 3 --out '$gpt/run' > '$gpt/train.txt' 2>&1 &&
  grep -q 'tokens/s' '$gpt/train.txt' && ! grep -q 'img/s' '$gpt/train.txt' && grep -q 'ppl' '$gpt/train.txt'"
g=$gpt/run/final.safetensors
g0=$gpt/run/checkpoints/epoch-0000.safetensors
check "evaluate the gpt: loss, token accuracy, perplexity" bash -c "'$terrain' evaluate '$g' | grep -q '^test: .*perplexity'"
check "a 2D surface of the gpt; its summary gives the perplexity's range too" bash -c "
  '$terrain' surface --quiet --checkpoint '$g' --x=-1:1:4 --y=-1:1:4 --data train,test --out '$gpt/s2.h5' > '$gpt/s2.txt' &&
  grep -q '^train_loss: min' '$gpt/s2.txt' && grep -q '^train_perplexity: min [0-9.e+-]*  max' '$gpt/s2.txt' &&
  grep -q '^test_perplexity: min [0-9.e+-]*  max' '$gpt/s2.txt'"
check "a 1D surface of the gpt" "$terrain" surface --quiet --checkpoint "$g" --x=-1:1:5 --data train,test --out "$gpt/s1.h5"
check "interpolate between the gpt's first and last weights" "$terrain" interpolate --quiet "$g0" "$g" --steps 5 --out "$gpt/i.h5"
rejects "align: a gpt is refused, naming what is supported" "gpt cannot be aligned: .*supports mlp, cnn, vgg9" \
  "$terrain" align "$g0" "$g" --out "$gpt/aligned.safetensors"
check "a plane through three gpt checkpoints" "$terrain" plane --quiet "$g0" "$gpt/run/checkpoints/iter-00000006.safetensors" "$g" \
  --x=-0.5:1.5:3 --y=-0.5:1.5:3 --out "$gpt/p.h5"
check "the gpt's trajectory on its PCA plane" "$terrain" trajectory --quiet --run "$gpt/run" --steps 3 --out "$gpt/t.h5"
check "evolve: a surface around each gpt checkpoint; each frame's line gives its perplexity" bash -c "
  '$terrain' evolve --quiet --run '$gpt/run' --frames epochs --x=-1:1:3 --y=-1:1:3 --out '$gpt/e.h5' > '$gpt/e.txt' &&
  test \$(grep -c '^  epoch .* train loss [0-9.]*, accuracy [0-9.]* %, perplexity [0-9.]*' '$gpt/e.txt') = 3"
check "the gpt's Hessian: extremes, trace, density" "$terrain" hessian --quiet --checkpoint "$g" --subset 64 --top 1 --bottom 1 \
  --trace --probes 10 --density --max-iterations 20 --out "$gpt/h.h5"
"$terrain" surface --quiet --checkpoint "$g" --x=-1:1:2 --y=-1:1:2 --subset 64 --out "$gpt/hm.h5" > /dev/null
check "hessian-map on a 2x2 surface of the gpt" "$terrain" hessian-map --quiet --surface "$gpt/hm.h5" --subset 64 --max-iterations 8
check "sharpness of the gpt" "$terrain" sharpness --quiet "$g" --subset 64 --direction-count 2 --ascent-steps 3 --eigenvalue \
  --max-iterations 8
check "plot the gpt's surfaces: loss, accuracy and perplexity figures" bash -c "
  '$terrain' plot '$gpt/s2.h5' '$gpt/s1.h5' '$gpt/hm.h5' --out '$gpt/figs' > /dev/null &&
  test -s '$gpt/figs/s2_train_perplexity_2dheat.png' && test -s '$gpt/figs/s2_test_loss_2dcontour.png' &&
  test -s '$gpt/figs/s1_1d.png' && test -s '$gpt/figs/hm_eig_ratio.png'"
check "view the gpt's surface" "$terrain" view "$gpt/s2.h5" --out "$gpt/s2.html"
check "export the gpt's surface to NPZ, CSV and VTK" "$terrain" export "$gpt/s2.h5" "$gpt/s2.npz" "$gpt/s2.csv" "$gpt/s2.vts"
if python3 -c "import h5py" 2>/dev/null; then
  check "h5py: perplexity = exp(loss) in the gpt's surfaces, interpolation, plane, trajectory, evolve stack and convexity map" python3 -c "
import h5py, numpy as np
assert h5py.File('$gpt/e.h5', 'r')['train_perplexity'].shape == (3, 3, 3)
for name in ['s2', 's1', 'i', 'p', 't', 'e', 'hm']:
    f = h5py.File('$gpt/' + name + '.h5', 'r')
    for s in ['train', 'test'] if name in ('s2', 's1') else ['train']:
        loss, ppl = f[s + '_loss'][:], f[s + '_perplexity'][:]
        assert ppl.shape == loss.shape and np.allclose(ppl, np.exp(loss), rtol=1e-6), (name, s)
assert 'max_eig' in h5py.File('$gpt/hm.h5', 'r')
h = h5py.File('$gpt/h.h5', 'r'); assert h['eigenvalues'][0] > 0 and np.isfinite(h['trace'][()]) and len(h['density']) > 1"
fi
# Sequences shorter than the context (8 of the model's 16), as PyTorch's GPTs take them: the
# surface's centre is the checkpoint, so its loss is evaluate's.
check "evaluate and surface a context-16 gpt on --context 8 data" bash -c "
  '$terrain' evaluate '$g' --context 8 > '$gpt/short.txt' && grep -q '^train: loss [0-9.]* .*perplexity' '$gpt/short.txt' &&
  '$terrain' surface --quiet --checkpoint '$g' --context 8 --x=-1:1:3 --out '$gpt/short.h5' > '$gpt/short-surface.txt' &&
  grep -q '^train_perplexity: min' '$gpt/short-surface.txt' &&
  python3 -c \"
import h5py, math, re
centre = h5py.File('$gpt/short.h5', 'r')['train_loss'][1]
evaluated = float(re.search(r'^train: loss ([0-9.]+)', open('$gpt/short.txt').read(), re.M).group(1))
assert math.isclose(centre, evaluated, rel_tol=1e-5, abs_tol=1e-6), (centre, evaluated)
data = h5py.File('$gpt/short.h5', 'r').attrs['terrain.data']
assert 'context 8' in (data.decode() if isinstance(data, bytes) else data), data
\""
rejects "a gpt refuses sequences longer than its context, naming both" \
  "sequences hold 32 tokens, longer than the model's context of 16 tokens" \
  "$terrain" evaluate "$g" --dataset "$gpt/story.txt" --context 32
rejects "a gpt refuses token ids outside its vocabulary before a surface, naming id and place" \
  "token id 300(\.0)? at sequence 3, position 5 is outside the vocabulary 0\.\.<256" \
  "$terrain" surface --checkpoint "$g" --dataset "$gpt/outside.npz" --x=-1:1:3 --out "$gpt/never.h5"
check "nothing written for the refused surface" test ! -e "$gpt/never.h5"

# Permutation alignment (terrain align): two MLPs from different seeds. B-aligned computes B's
# function (align checks it in Double; evaluate agrees) and lies closer to A, and the barrier on
# the line A → B-aligned is lower than on A → B: both curves overlaid in one figure.
al="$work/align"
alignTrain() { "$terrain" train --quiet --model mlp --hidden 48,48 --dataset "$digits" --epochs 4 --batch-size 32 --lr 0.05 "$@"; }
check "align: train A (seed 1)" alignTrain --model-seed 1 --seed 1 --out "$al/a"
check "align: train B (seed 2)" alignTrain --model-seed 2 --seed 2 --out "$al/b"
check "align B onto A: a summary, the check, the file" bash -c "
  '$terrain' align '$al/a/final.safetensors' '$al/b/final.safetensors' --out '$al/b-aligned.safetensors' > '$al/align.txt' &&
  cat '$al/align.txt' && grep -q '^  fc1 *48 *[0-9]' '$al/align.txt' && grep -q '^  fc2 *48' '$al/align.txt' &&
  grep -Eq 'check: B-aligned.s outputs equal B.s on [0-9]+ test samples' '$al/align.txt' && test -s '$al/b-aligned.safetensors'"
check "align: ‖A − B-aligned‖ < ‖A − B‖, and the objective grew" python3 -c "
import re
text = open('$al/align.txt').read()
j0, j1 = map(float, re.search(r'objective .*: (\S+) -> (\S+)', text).groups())
d0, d1 = map(float, re.search(r'‖A − B‖ = (\S+), ‖A − B-aligned‖ = (\S+)', text).groups())
assert j1 > j0 and d1 < d0, (j0, j1, d0, d1)"
check "align: B-aligned evaluates as B does (same loss and accuracy)" bash -c "
  [ \"\$('$terrain' evaluate '$al/b/final.safetensors')\" = \"\$('$terrain' evaluate '$al/b-aligned.safetensors')\" ]"
check "align: the same seed gives the same bytes; info reads the file" bash -c "
  '$terrain' align '$al/a/final.safetensors' '$al/b/final.safetensors' --out '$al/again.safetensors' > /dev/null &&
  cmp '$al/b-aligned.safetensors' '$al/again.safetensors' && '$terrain' info '$al/b-aligned.safetensors' | grep -q 'model: mlp'"
check "align: interpolate A → B and A → B-aligned" bash -c "
  '$terrain' interpolate --quiet '$al/a/final.safetensors' '$al/b/final.safetensors' --steps 21 --out '$al/A-to-B.h5' > /dev/null &&
  '$terrain' interpolate --quiet '$al/a/final.safetensors' '$al/b-aligned.safetensors' --steps 21 --out '$al/A-to-B-aligned.h5' > /dev/null"
if python3 -c "import h5py" 2>/dev/null; then
  check "align: the barrier on the line to B-aligned is lower than to B" python3 -c "
import h5py
def barrier(path):
    loss = h5py.File(path, 'r')['train_loss'][:]
    return loss.max() - max(loss[0], loss[-1])
before, after = barrier('$al/A-to-B.h5'), barrier('$al/A-to-B-aligned.h5')
print('train-loss barrier: A -> B %.4f, A -> B-aligned %.4f' % (before, after))
assert after < before, (before, after)"
else
  skip "align's barriers (python3 with h5py)"
fi
check "align: plot --compare overlays both curves in one figure" bash -c "
  '$terrain' plot '$al/A-to-B.h5' '$al/A-to-B-aligned.h5' --compare --out '$al/figs' > /dev/null && ls '$al/figs' | grep -q '\.png$'"
check "align: a cnn and a resnet14 (batch norms, three residual streams): the check in Double passes" bash -c "
  for m in cnn resnet14; do
    for s in 1 2; do
      '$terrain' train --quiet --model \$m --width 0.5 --dataset '$digits' --epochs 1 --model-seed \$s --seed \$s --out '$al/'\$m-\$s > /dev/null || exit 1
    done
    '$terrain' align '$al/'\$m-1/final.safetensors '$al/'\$m-2/final.safetensors --out '$al/'\$m-aligned.safetensors > '$al/'\$m.txt || exit 1
    grep -q 'check: B-aligned' '$al/'\$m.txt || exit 1
  done
  grep -q '^  stream 3 ' '$al/resnet14.txt' && grep -q '^  layer3.1.conv1 ' '$al/resnet14.txt' && grep -q '^  conv2 ' '$al/cnn.txt'"
rejects "align: different architectures are refused, naming both" "different architectures \(mlp and cnn\)" \
  "$terrain" align "$al/a/final.safetensors" "$work/a/final.safetensors" --out "$al/never.safetensors"
rejects "align: different sizes are refused, naming the tensor" "different sizes: tensor fc1\.bias is \[48\] in A and \[32\] in B" \
  "$terrain" align "$al/a/final.safetensors" "$work/digits/final.safetensors" --out "$al/never.safetensors"
rejects "align: an ONNX model is refused, naming what is supported" "ONNX model.*mlp, cnn, vgg9, resnetN" \
  "$terrain" align "$al/a/final.safetensors" "$al/b.onnx" --out "$al/never.safetensors"
check "align: write a state_dict without Terrain's description" python3 -c "
import json, struct
h = json.dumps({'fc1.weight': {'dtype': 'F32', 'shape': [1], 'data_offsets': [0, 4]}}).encode()
open('$al/state.safetensors', 'wb').write(struct.pack('<Q', len(h)) + h + bytes(4))"
rejects "align: a checkpoint without a model description is refused, saying why" "state.safetensors \(B\) has no Terrain model description" \
  "$terrain" align "$al/a/final.safetensors" "$al/state.safetensors" --out "$al/never.safetensors"
rejects "align: an existing output needs --overwrite" "exists: pass --overwrite" \
  "$terrain" align "$al/a/final.safetensors" "$al/b/final.safetensors" --out "$al/again.safetensors"
rejects "align: the output may not replace an input" "would replace the input" \
  "$terrain" align "$al/a/final.safetensors" "$al/b/final.safetensors" --out "$al/b/final.safetensors" --overwrite
check "align: nothing written for the refused requests" test ! -e "$al/never.safetensors"

source "$(dirname "$0")/cli-input.sh"

finish cli
