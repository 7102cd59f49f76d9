#!/usr/bin/env bash
# Two ResNet-20s trained from different seeds on Fashion-MNIST (Debian's dataset-fashion-mnist),
# and the loss barrier between them measured three ways with Terrain alone, as a user would type it:
#
#   1. on the straight line A → B (`terrain interpolate`, batch-norm statistics interpolated with
#      the weights, and `terrain connect`'s line, statistics recomputed at every point);
#   2. on a trained quadratic Bézier curve from A to B (`terrain connect`, Garipov et al. 2018);
#   3. on the straight line A → B-aligned, B's units permuted onto A's by weight matching
#      (`terrain align`, Ainsworth et al. 2023), and on the Bézier curve between A and B-aligned.
#
# Writes everything into OUT (default resnet20-barriers/): the runs, B-aligned, the interpolation
# files, both connect folders, barriers.md (every barrier, train and test, in one table) and
# figures/compare_1d.png (the lines A → B and A → B-aligned and the curves on one pair of axes). The
# settings (subsets of Fashion-MNIST, few epochs) took 14.4 minutes on two cores shared with other
# builds (load average about 9), 5.2 minutes of CPU time; BARRIERS_SCALE=quick runs the same steps
# at toy sizes (a minute or two) to check the script itself. Steps already done (a run's final
# checkpoint, a finished file) are reused; BARRIERS_WIDTH sets the networks' width (default 1).
# Usage: scripts/resnet20-barriers.sh path/to/terrain [OUT]
set -euo pipefail
terrain=$(realpath "$1")
out=${2:-resnet20-barriers}
mkdir -p "$out"
cd "$out"

if [ "${BARRIERS_SCALE:-full}" = quick ]; then
  width=0.25; train=500; test=200; epochs=1; curve_epochs=1; subset=200; bn=200; points=5
else
  width=${BARRIERS_WIDTH:-1}; train=4000; test=1000; epochs=6; curve_epochs=4; subset=1000; bn=1000; points=21
fi
data=fashion-mnist
start=$(date +%s)
say() { printf '\n== %s (%d s)\n' "$*" $(( $(date +%s) - start )); }

# The two networks: the same recipe, different initializations (--model-seed) and batch orders (--seed).
for k in 1 2; do
  say "train resnet20 (width $width) #$k on $train Fashion-MNIST images, $epochs epochs"
  [ -s runs/resnet20-$k/final.safetensors ] || "$terrain" train --quiet --model resnet20 --width $width --dataset $data \
    --train-subset $train --test-subset $test --epochs $epochs --batch-size 128 --lr 0.1 \
    --schedule cosine --seed $k --model-seed $k --out runs/resnet20-$k
done
a=runs/resnet20-1/final.safetensors b=runs/resnet20-2/final.safetensors

say "weight matching: B's channels permuted onto A's"
"$terrain" align $a $b --out b-aligned.safetensors --overwrite | tee align.txt

for target in b b-aligned; do
  file=$([ $target = b ] && echo $b || echo b-aligned.safetensors)
  say "the straight line A → $target (batch-norm statistics interpolated)"
  "$terrain" interpolate $a $file --steps $points --data train,test --subset $subset --quiet --out a-to-$target.h5
  say "a Bézier curve from A to $target, and the line, batch-norm statistics recomputed at every point"
  "$terrain" connect $a $file --epochs $curve_epochs --subset $subset --bn-subset $bn --points $points \
    --plane-grid 0 --quiet --out connect-$target | tee connect-$target.txt
done

# Barriers ---------------------------------------------------------------------------------------
# max over α of L(α) − ((1 − α)·L(0) + α·L(1)), from a 1D file exported as CSV (columns by name).
barrier() {
  "$terrain" export "$1" "${1%.h5}.csv" > /dev/null
  awk -F, -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; if ($1 != "x") exit 1; next }
    { n++; x[n] = $1; y[n] = $c } END { m = 0; for (i = 1; i <= n; i++) { d = y[i] - ((1 - x[i]) * y[1] + x[i] * y[n]); if (d > m) m = d }
    printf "%.3f", m }' "${1%.h5}.csv"
}
# connect's summary table: "train  0.4754  0.5893  0.7766  0.500  0  0.000" → the barrier of a path.
connect_barrier() { awk -v set="$2" -v col="$3" '$1 == set && NF == 7 { printf "%.3f", $col }' "$1"; }
ends() { awk -v set="$2" '$1 == set && NF == 7 { printf "%.3f / %.3f", $2, $3 }' "$1"; }

say "barriers.md"
{
  echo "# Two ResNet-20s (width $width) on Fashion-MNIST: loss barriers (scale: ${BARRIERS_SCALE:-full})"
  echo
  echo "$train training and $test test images, $epochs epochs each; barriers measured on $subset images of each set."
  echo
  echo "| path from A | batch norm | train barrier | test barrier |"
  echo "|---|---|---|---|"
  echo "| line to B | interpolated | $(barrier a-to-b.h5 train_loss) | $(barrier a-to-b.h5 test_loss) |"
  echo "| line to B | recomputed | $(connect_barrier connect-b.txt train 4) | $(connect_barrier connect-b.txt test 4) |"
  echo "| Bézier curve to B | recomputed | $(connect_barrier connect-b.txt train 6) | $(connect_barrier connect-b.txt test 6) |"
  echo "| line to B-aligned | interpolated | $(barrier a-to-b-aligned.h5 train_loss) | $(barrier a-to-b-aligned.h5 test_loss) |"
  echo "| line to B-aligned | recomputed | $(connect_barrier connect-b-aligned.txt train 4) | $(connect_barrier connect-b-aligned.txt test 4) |"
  echo "| Bézier curve to B-aligned | recomputed | $(connect_barrier connect-b-aligned.txt train 6) | $(connect_barrier connect-b-aligned.txt test 6) |"
  echo
  echo "End losses with recomputed statistics, A / B: train $(ends connect-b.txt train), test $(ends connect-b.txt test)."
  echo
  echo "Wall time of this invocation: $(( $(date +%s) - start )) s (steps already done were reused)."
} > barriers.md
cat barriers.md

# The figure: both connect files overlaid (each brings its line and its curve, batch-norm
# statistics recomputed on all four paths), named in the legend by their files' names.
say "figure: the lines A → B and A → B-aligned and the Bézier curves on one pair of axes"
cp connect-b/curve.h5 A-B.h5
cp connect-b-aligned/curve.h5 A-B-aligned.h5
"$terrain" plot A-B.h5 A-B-aligned.h5 --compare --kind 1d --out figures
